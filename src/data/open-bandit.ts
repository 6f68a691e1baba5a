/**
 * The Open Bandit Dataset (Saito et al. 2021) in its published CSV form, plain or gzip:
 *
 *     ,timestamp,item_id,position,click,propensity_score,user_feature_0..3,user-item_affinity_0..K-1
 *
 * one row per (impression, position), positions 1–3, plus `item_context.csv` (item_id,
 * item_feature_0 (float), item_feature_1..3 (hashed categorical)). Rows are read into typed arrays
 * (0-based positions, as everywhere in clicklab's memory); the hashed user features become integer
 * codes per column, in order of first appearance. Every row is validated: a `DataFormatError` names
 * the file, the line and what was expected. The shipped sample (datasets/open-bandit) loads with
 * `loadOpenBanditSample`.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { shippedDataPath } from './shipped.js';
import { createGunzip } from 'node:zlib';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { refuseFolderInput } from '../core/files.js';
import { csvHeader } from './tokenizer.js';

export interface OpenBanditLog {
  /** The file it was read from. */
  readonly source: string;
  readonly numItems: number;
  /** Slots per impression (3 in the Open Bandit Dataset). */
  readonly numPositions: number;
  /** Impression time, milliseconds since the epoch (microseconds are kept as a fraction). */
  readonly timestamp: Float64Array;
  /** `item_id` per row. */
  readonly action: Int32Array;
  /** 0-based position per row (the file's 1–3 minus one). */
  readonly position: Int32Array;
  readonly reward: Uint8Array;
  /** `propensity_score`: the logging policy's probability of this item at this position. */
  readonly pscore: Float64Array;
  /** Row-major rows × `userFeatureValues.length` codes of the hashed user features. */
  readonly userFeatures: Int32Array;
  /** Per user-feature column, the hashed value of each code. */
  readonly userFeatureValues: readonly (readonly string[])[];
  /** Row-major rows × numItems `user-item_affinity_*` values. */
  readonly affinity: Float32Array;
}

export interface OpenBanditItemContext {
  readonly source: string;
  /** `item_feature_0` per item id. */
  readonly feature0: Float64Array;
  /** Row-major items × 3 codes of `item_feature_1..3`. */
  readonly categories: Int32Array;
}

export type OpenBanditPolicy = 'random' | 'bts';
export type OpenBanditCampaign = 'men' | 'women';

/** Slots per impression in the Open Bandit Dataset. */
export const OPEN_BANDIT_POSITIONS = 3;

const USER_FEATURES = 4;
const FIXED = ['timestamp', 'item_id', 'position', 'click', 'propensity_score'] as const;

/** Streams the lines of a file, gunzipping when its first bytes are the gzip magic (whatever its name). */
/** The lines of a file (plain or gzip), each with a `fail` that throws a DataFormatError naming the file and line. */
async function* numberedLines(path: string): AsyncGenerator<{ readonly line: string; readonly fail: (problem: string) => never }> {
  let lineNumber = 0;
  for await (const line of lines(path)) {
    const at = ++lineNumber;
    yield {
      line,
      fail: (problem: string): never => {
        throw new DataFormatError(path, at, problem);
      },
    };
  }
}

async function* lines(path: string): AsyncGenerator<string> {
  const head = Buffer.alloc(2);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(path);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (error) => stream.destroy(error));
  let carry = '';
  try {
    for await (const chunk of stream) {
      const text = carry + (chunk as Buffer).toString('utf8');
      const parts = text.split('\n');
      carry = parts.pop()!;
      for (const part of parts) yield part.endsWith('\r') ? part.slice(0, -1) : part;
    }
  } catch (error) {
    if (gzip && (error as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new DataFormatError(path, null, `expected valid gzip data, found a broken stream (${(error as Error).message})`);
    }
    throw error;
  }
  if (carry.length > 0) yield carry.endsWith('\r') ? carry.slice(0, -1) : carry;
}

function headerColumns(path: string, line: string): string[] {
  const b = Buffer.from(line, 'utf8');
  return csvHeader(b, 0, b.length, (problem) => {
    throw new DataFormatError(path, 1, problem);
  });
}

/** `2019-11-24 00:03:13.442536+00:00` (OBD's form; the fraction and offset are optional) → ms since the epoch, or NaN. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
function parseTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (m === null) return NaN;
  let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + (m[7] ? Number(m[7]) * 1000 : 0);
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return ms;
}

/** A decimal number filling the whole field (no empty field, spaces, hex or `Infinity`), or NaN. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
function parseNumber(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}

function shown(text: string): string {
  if (text.length === 0) return 'an empty field';
  return `'${text.length > 40 ? `${text.slice(0, 40)}...` : text}'`;
}

/** The header's columns, their indices, and the number of items (affinity columns); missing columns fail in one line. */
function loggedHeader(path: string, line: string, fail: (problem: string) => never): { columns: string[]; index: Record<string, number>; numItems: number } {
  const columns = headerColumns(path, line);
  const index: Record<string, number> = Object.fromEntries(columns.map((c, i) => [c, i]));
  const missing: string[] = FIXED.filter((c) => index[c] === undefined);
  for (let j = 0; j < USER_FEATURES; j++) if (index[`user_feature_${j}`] === undefined) missing.push(`user_feature_${j}`);
  let numItems = 0;
  while (index[`user-item_affinity_${numItems}`] !== undefined) numItems++;
  if (numItems === 0) missing.push('user-item_affinity_0 .. user-item_affinity_{K-1} (one per item)');
  if (missing.length > 0) fail(`expected the Open Bandit Dataset columns ${missing.join(', ')}, missing; found columns: ${columns.map((c) => `'${c}'`).join(', ')}`);
  return { columns, index, numItems };
}

/** A data row's fields and its checked logged action: item, 1-based position, click and propensity. */
function loggedRow(
  line: string,
  numColumns: number,
  index: Record<string, number>,
  numItems: number,
  fail: (problem: string) => never,
): { fields: string[]; item: number; pos: number; click: number; p: number } {
  if (line.length === 0) fail('expected a data row, found an empty line');
  if (line.includes('"')) fail('expected unquoted fields (the Open Bandit Dataset has no quotes), found a quote');
  const fields = line.split(',');
  if (fields.length !== numColumns) fail(`expected ${numColumns} fields (as in the header), found ${fields.length}`);
  const item = parseNumber(fields[index.item_id]);
  if (!(Number.isInteger(item) && item >= 0 && item < numItems)) {
    fail(`expected an integer item id in [0, ${numItems - 1}] (one per affinity column) in column 'item_id', found ${shown(fields[index.item_id])}`);
  }
  const pos = parseNumber(fields[index.position]);
  if (!(Number.isInteger(pos) && pos >= 1 && pos <= OPEN_BANDIT_POSITIONS)) fail(`expected a position 1, 2 or 3 in column 'position', found ${shown(fields[index.position])}`);
  const click = parseNumber(fields[index.click]);
  if (click !== 0 && click !== 1) fail(`expected 0 or 1 in column 'click', found ${shown(fields[index.click])}`);
  const p = parseNumber(fields[index.propensity_score]);
  if (!(p > 0 && p <= 1)) fail(`expected a probability in (0, 1] in column 'propensity_score', found ${shown(fields[index.propensity_score])}`);
  return { fields, item, pos, click, p };
}

/** The columns of an Open Bandit log that the weight-based estimators read, for a batch of its rows. */
export interface OpenBanditRowBatch {
  readonly numItems: number;
  readonly action: Int32Array;
  /** 0-based. */
  readonly position: Int32Array;
  readonly reward: Uint8Array;
  readonly pscore: Float64Array;
  /** With a vocabulary: the columns the reward model and the slates read (as `OpenBanditLog`'s), else null. */
  readonly context: {
    readonly timestamp: Float64Array;
    /** Row-major rows × 4 codes of the hashed user features, in the vocabulary's numbering. */
    readonly userFeatures: Int32Array;
    /** Row-major rows × numItems affinities. */
    readonly affinity: Float32Array;
  } | null;
}

/**
 * The codes of the hashed user features over a streamed log, in order of first appearance (files in
 * the order read, rows in file order), as `readOpenBanditLog` numbers them within one file.
 */
export class OpenBanditVocabulary {
  readonly codes: Map<string, number>[] = Array.from({ length: USER_FEATURES }, () => new Map());

  /** The number of codes per user-feature column so far. */
  get cardinalities(): number[] {
    return this.codes.map((m) => m.size);
  }
}

/**
 * An Open Bandit log (`.csv` or `.csv.gz`) as batches of about `batchRows` rows, in file order, with
 * memory bounded by a batch: the item, position, click and propensity of every row, checked as
 * `readOpenBanditLog` checks them (the header, the number of fields, and these four columns, with
 * the same one-line errors naming the file and line). With `vocabulary`, also the timestamp, the
 * user features (coded by the vocabulary, which grows) and the affinities, checked the same way,
 * and a batch is cut only between two timestamps (at most `batchRows` + 3 rows), so that the rows of
 * one impression (a slate) share a batch. Otherwise the other columns are not parsed.
 */
export async function* openBanditRowBatches(path: string, batchRows = 1 << 16, vocabulary?: OpenBanditVocabulary): AsyncGenerator<OpenBanditRowBatch> {
  await refuseFolderInput(path);
  const full = vocabulary !== undefined;
  const capacity = full ? batchRows + OPEN_BANDIT_POSITIONS : batchRows;
  let columns: string[] | null = null;
  let index: Record<string, number> = {};
  let numItems = 0;
  let userAt: number[] = [];
  let affinityAt: Int32Array = new Int32Array(0);
  let action = new Int32Array(capacity);
  let position = new Int32Array(capacity);
  let reward = new Uint8Array(capacity);
  let pscore = new Float64Array(capacity);
  const timestamp = new Float64Array(full ? capacity : 0);
  const users = new Int32Array(full ? capacity * USER_FEATURES : 0);
  let affinity = new Float32Array(0);
  let rows = 0;
  let total = 0;
  const batch = (count: number): OpenBanditRowBatch => ({
    numItems,
    action: action.slice(0, count),
    position: position.slice(0, count),
    reward: reward.slice(0, count),
    pscore: pscore.slice(0, count),
    context: full ? { timestamp: timestamp.slice(0, count), userFeatures: users.slice(0, count * USER_FEATURES), affinity: affinity.slice(0, count * numItems) } : null,
  });
  for await (const { line, fail } of numberedLines(path)) {
    if (columns === null) {
      ({ columns, index, numItems } = loggedHeader(path, line, fail));
      userAt = Array.from({ length: USER_FEATURES }, (_, j) => index[`user_feature_${j}`]);
      affinityAt = Int32Array.from({ length: numItems }, (_, a) => index[`user-item_affinity_${a}`]);
      if (full) affinity = new Float32Array(capacity * numItems);
      continue;
    }
    const { fields, item, pos, click, p } = loggedRow(line, columns.length, index, numItems, fail);
    let t = 0;
    if (full) {
      t = parseTimestamp(fields[index.timestamp]);
      if (Number.isNaN(t)) fail(`expected a timestamp like '2019-11-24 00:03:13.442536+00:00' in column 'timestamp', found ${shown(fields[index.timestamp])}`);
      // Cut before this row once the batch is full and this row starts a new impression.
      if (rows >= batchRows && (t !== timestamp[rows - 1] || rows === capacity)) {
        yield batch(rows);
        total += rows;
        rows = 0;
      }
      timestamp[rows] = t;
      for (let j = 0; j < USER_FEATURES; j++) {
        const value = fields[userAt[j]];
        if (value.length === 0) fail(`expected a hashed value in column 'user_feature_${j}', found an empty field`);
        const codes = vocabulary.codes[j];
        let code = codes.get(value);
        if (code === undefined) codes.set(value, (code = codes.size));
        users[rows * USER_FEATURES + j] = code;
      }
      for (let a = 0; a < numItems; a++) {
        const v = parseNumber(fields[affinityAt[a]]);
        if (!Number.isFinite(v)) fail(`expected a number in column 'user-item_affinity_${a}', found ${shown(fields[affinityAt[a]])}`);
        affinity[rows * numItems + a] = v;
      }
    }
    action[rows] = item;
    position[rows] = pos - 1;
    reward[rows] = click;
    pscore[rows] = p;
    rows++;
    if (!full && rows === batchRows) {
      yield { numItems, action, position, reward, pscore, context: null };
      total += rows;
      rows = 0;
      action = new Int32Array(batchRows);
      position = new Int32Array(batchRows);
      reward = new Uint8Array(batchRows);
      pscore = new Float64Array(batchRows);
    }
  }
  if (columns === null) throw new DataFormatError(path, null, 'expected a header line, found an empty file');
  if (total + rows === 0) throw new DataFormatError(path, null, 'expected data rows (rounds) after the header, found only the header');
  if (rows > 0) yield batch(rows);
}

/**
 * Reads an Open Bandit Dataset log (`men.csv`, `.csv.gz`, ...). The number of items is the number
 * of `user-item_affinity_*` columns; `item_id` must lie below it.
 */
export async function readOpenBanditLog(path: string): Promise<OpenBanditLog> {
  await refuseFolderInput(path);
  let columns: string[] | null = null;
  let index: Record<string, number> = {};
  let numItems = 0;
  let affinityAt: Int32Array = new Int32Array(0);
  const userAt: number[] = [];
  const codes: Map<string, number>[] = Array.from({ length: USER_FEATURES }, () => new Map());
  const timestamp: number[] = [];
  const action: number[] = [];
  const position: number[] = [];
  const reward: number[] = [];
  const pscore: number[] = [];
  const users: number[] = [];
  let affinity = new Float32Array(0);
  let rows = 0;
  for await (const { line, fail } of numberedLines(path)) {
    if (columns === null) {
      ({ columns, index, numItems } = loggedHeader(path, line, fail));
      affinityAt = Int32Array.from({ length: numItems }, (_, a) => index[`user-item_affinity_${a}`]);
      for (let j = 0; j < USER_FEATURES; j++) userAt.push(index[`user_feature_${j}`]);
      affinity = new Float32Array(1024 * numItems);
      continue;
    }
    const { fields, item, pos, click, p } = loggedRow(line, columns.length, index, numItems, fail);
    const t = parseTimestamp(fields[index.timestamp]);
    if (Number.isNaN(t)) fail(`expected a timestamp like '2019-11-24 00:03:13.442536+00:00' in column 'timestamp', found ${shown(fields[index.timestamp])}`);
    for (let j = 0; j < USER_FEATURES; j++) {
      const value = fields[userAt[j]];
      if (value.length === 0) fail(`expected a hashed value in column 'user_feature_${j}', found an empty field`);
      let code = codes[j].get(value);
      if (code === undefined) {
        code = codes[j].size;
        codes[j].set(value, code);
      }
      users.push(code);
    }
    if ((rows + 1) * numItems > affinity.length) {
      const bigger = new Float32Array(affinity.length * 2);
      bigger.set(affinity);
      affinity = bigger;
    }
    for (let a = 0; a < numItems; a++) {
      const v = parseNumber(fields[affinityAt[a]]);
      if (!Number.isFinite(v)) fail(`expected a number in column 'user-item_affinity_${a}', found ${shown(fields[affinityAt[a]])}`);
      affinity[rows * numItems + a] = v;
    }
    timestamp.push(t);
    action.push(item);
    position.push(pos - 1);
    reward.push(click);
    pscore.push(p);
    rows++;
  }
  if (columns === null) throw new DataFormatError(path, null, 'expected a header line, found an empty file');
  if (rows === 0) throw new DataFormatError(path, null, 'expected data rows (rounds) after the header, found only the header');
  return {
    source: path,
    numItems,
    numPositions: OPEN_BANDIT_POSITIONS,
    timestamp: Float64Array.from(timestamp),
    action: Int32Array.from(action),
    position: Int32Array.from(position),
    reward: Uint8Array.from(reward),
    pscore: Float64Array.from(pscore),
    userFeatures: Int32Array.from(users),
    userFeatureValues: codes.map((m) => [...m.keys()]),
    affinity: affinity.slice(0, rows * numItems),
  };
}

/** Reads `item_context.csv` (plain or gzip): one row per item id 0..numItems−1, each exactly once. */
export async function readOpenBanditItemContext(path: string, numItems: number): Promise<OpenBanditItemContext> {
  const feature0 = new Float64Array(numItems).fill(NaN);
  const categories = new Int32Array(numItems * 3);
  const codes: Map<string, number>[] = [new Map(), new Map(), new Map()];
  let columns: string[] | null = null;
  let at: number[] = [];
  for await (const { line, fail } of numberedLines(path)) {
    if (columns === null) {
      columns = headerColumns(path, line);
      const wanted = ['item_id', 'item_feature_0', 'item_feature_1', 'item_feature_2', 'item_feature_3'];
      const missing = wanted.filter((c) => !columns!.includes(c));
      if (missing.length > 0) fail(`expected the item-context columns ${missing.join(', ')}, missing; found columns: ${columns.map((c) => `'${c}'`).join(', ')}`);
      at = wanted.map((c) => columns!.indexOf(c));
      continue;
    }
    const fields = line.split(',');
    if (fields.length !== columns.length) fail(`expected ${columns.length} fields (as in the header), found ${fields.length}`);
    const item = parseNumber(fields[at[0]]);
    if (!(Number.isInteger(item) && item >= 0 && item < numItems)) fail(`expected an integer item id in [0, ${numItems - 1}] in column 'item_id', found ${shown(fields[at[0]])}`);
    if (!Number.isNaN(feature0[item])) fail(`expected each item id once, found item ${item} again`);
    const f0 = parseNumber(fields[at[1]]);
    if (!Number.isFinite(f0)) fail(`expected a number in column 'item_feature_0', found ${shown(fields[at[1]])}`);
    feature0[item] = f0;
    for (let j = 0; j < 3; j++) {
      const value = fields[at[2 + j]];
      if (value.length === 0) fail(`expected a hashed value in column 'item_feature_${j + 1}', found an empty field`);
      let code = codes[j].get(value);
      if (code === undefined) codes[j].set(value, (code = codes[j].size));
      categories[item * 3 + j] = code;
    }
  }
  const absent = [...feature0.keys()].filter((a) => Number.isNaN(feature0[a]));
  if (absent.length > 0) throw new DataFormatError(path, null, `expected a row for every item id 0..${numItems - 1}, missing ${absent.join(', ')}`);
  return { source: path, feature0, categories };
}

export interface OpenBanditSample {
  readonly policy: OpenBanditPolicy;
  readonly campaign: OpenBanditCampaign;
  readonly log: OpenBanditLog;
  readonly items: OpenBanditItemContext;
}

/** The path of a shipped file under datasets/open-bandit/. */
export function openBanditPath(relative: string): string {
  return shippedDataPath(`open-bandit/${relative}`);
}

/** A shipped sample: random/men, random/women or bts/men (10,000 rows each; bts/women is not shipped). */
export async function loadOpenBanditSample(policy: OpenBanditPolicy, campaign: OpenBanditCampaign): Promise<OpenBanditSample> {
  if (policy === 'bts' && campaign === 'women') {
    throw new ConfigError('campaign', 'the bts/women sample is not shipped (held out); expected random/men, random/women or bts/men');
  }
  if (policy !== 'random' && policy !== 'bts') throw new ConfigError('policy', `expected 'random' or 'bts', found '${String(policy)}'`);
  if (campaign !== 'men' && campaign !== 'women') throw new ConfigError('campaign', `expected 'men' or 'women', found '${String(campaign)}'`);
  const log = await readOpenBanditLog(openBanditPath(`${policy}/${campaign}/${campaign}.csv.gz`));
  const items = await readOpenBanditItemContext(openBanditPath(`${policy}/${campaign}/item_context.csv.gz`), log.numItems);
  return { policy, campaign, log, items };
}

export interface BetaPriors {
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
}

/** OBP's per-item Beta priors of ZOZOTOWN's Bernoulli TS for a campaign (datasets/open-bandit/prior-bts.json). */
export async function loadOpenBanditPriors(campaign: OpenBanditCampaign): Promise<BetaPriors> {
  const path = openBanditPath('prior-bts.json');
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, { alpha: number[]; beta: number[] }>;
  const entry = json[campaign];
  if (entry === undefined) throw new DataFormatError(path, null, `expected priors for the campaign '${campaign}', found none`);
  return { alpha: Float64Array.from(entry.alpha), beta: Float64Array.from(entry.beta) };
}
