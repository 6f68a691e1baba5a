/**
 * Click logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and Parquet, all with the
 * columns of click-log-table.ts (1-based `position`, the Open Bandit Pipeline's names where they
 * overlap, `truth_*` only when asked for).
 *
 * - CSV and JSON Lines are written by our own code and streamed: `ClickLogWriter` appends sessions
 *   chunk by chunk at constant memory, and the readers parse the file as a stream of lines.
 * - Parquet (hyparquet-writer / hyparquet) is streamed too: each `write` becomes one or more row
 *   groups, and the reader decodes one row group at a time.
 * - Arrow is written and read whole, from and to memory, through arquero (`toArrowIPC`, `fromArrow`).
 *
 * Every reader feeds the same validating `ClickLogBuilder`, so the rules and messages are the same in
 * every format: a `DataFormatError` names the file and the line (CSV, JSONL) or 1-based data row
 * (Arrow, Parquet), and says what was expected and what was found. Nothing is dropped or coerced.
 * Float32 columns are written with the shortest decimal that reads back as the same float32, so a
 * write and a read give back typed arrays equal byte for byte.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { float32, int32, uint8, type DataType } from '@uwdata/flechette';
import { fromArrow, toArrowIPC, type ColumnTable } from 'arquero';
import { asyncBufferFromFile, parquetSchema, parquetScan, type ParquetScan } from 'hyparquet';
import { fileWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { ConfigError, DataFormatError } from '../core/errors.js';
import {
  addColumnRows,
  checkLoggedClicks,
  CLICK_LOG_COLUMNS,
  ClickLogBuilder,
  clickLogFromTable,
  clickLogToTable,
  describeValue,
  expandSessions,
  onDiskPositions,
  idText,
  resolveClickLogColumns,
  type ClickLogColumnMapping,
  type ClickLogColumnNames,
  type IdEncoders,
  type LoggedClicks,
  type RowNumbering,
} from './click-log-table.js';
import { IdVocabulary, type ReplayedClicks } from './replayed-log.js';

export type ClickLogFormat = 'csv' | 'jsonl' | 'arrow' | 'parquet';

export interface ClickLogWriteOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: ClickLogFormat;
  /** Write the hidden `truth_*` columns (default false); every chunk must then carry its truth. */
  readonly truth?: boolean;
}

export interface ClickLogReadOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: ClickLogFormat;
  /** Read the `truth_*` columns (default false), which must then be in the file. */
  readonly truth?: boolean;
  /** The file's own column names by role, for logs not written by clicklab (see `ClickLogColumnMapping`). */
  readonly columns?: ClickLogColumnMapping;
}

export interface GenericClickLogReadOptions extends ClickLogReadOptions {
  /**
   * 'integer' (default): query and item ids must be integers in [0, 2^31 − 1] and are kept as they are.
   * 'text': any ids (URLs, hashes, numbers) are mapped to dense indices in order of first appearance,
   * and the result's `queryIds` / `itemIds` give the id behind each index.
   */
  readonly ids?: 'integer' | 'text';
}

/** What every reader needs besides the file: the options, resolved. */
interface ReadContext {
  readonly truth: boolean;
  readonly columns: ClickLogColumnMapping;
  readonly ids: IdEncoders | null;
}

const EXTENSIONS: Readonly<Record<string, ClickLogFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.parquet': 'parquet',
};

/** The format a file name implies: `.csv`, `.jsonl`, `.arrow` or `.feather` (Arrow IPC), `.parquet`. */
export function clickLogFormatOf(path: string): ClickLogFormat {
  return logFormatOf(path, 'click-log');
}

/** @internal The format a file name implies; `kind` ('click-log', ...) names the log in the message. */
export function logFormatOf(path: string, kind: string): ClickLogFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new ConfigError(path, `cannot tell the ${kind} format from the file name's extension: expected .csv, .jsonl, .arrow, .feather or .parquet (the library's readers and writers also take a format option)`);
  }
  return format;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** @internal Rows per string handed to the file: bounds the memory of text writing, whatever the chunk size. */
export const TEXT_BLOCK_ROWS = 1 << 16;
/** @internal Rows per Parquet row group, as pyarrow's default. */
export const PARQUET_ROW_GROUP = 1 << 20;

/**
 * @internal The shortest decimal that reads back (through `Math.fround`) as the float32 `v`. Nine
 * significant digits always do; fewer usually do, and whether p digits do is monotone in p (a
 * (p+1)-digit rounding is at least as close as a p-digit one), so a binary search finds the fewest.
 */
export function formatFloat32(v: number): string {
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  return String(Number(v.toPrecision(lo)));
}

/**
 * @internal `formatFloat32` with a memo: simulated logs repeat few distinct values (one examination
 * probability per rank, one relevance probability per grade), which then cost one map look-up.
 */
export class Float32Formatter {
  private readonly memo = new Map<number, string>();

  format(v: number): string {
    let s = this.memo.get(v);
    if (s === undefined) {
      s = formatFloat32(v);
      // Bounded: a log of many distinct values must not grow the memo without limit.
      if (this.memo.size >= 1 << 16) this.memo.clear();
      this.memo.set(v, s);
    }
    return s;
  }
}

/** Where chunks go; the columns are fixed by the first chunk (or by none, at close). */
interface ChunkSink {
  write(chunk: LoggedClicks, sessionBase: number, pscore: boolean): Promise<void>;
  close(pscore: boolean): Promise<void>;
}

/** The header line or the key names of the text formats, in the order clicklab writes columns. */
function textColumns(pscore: boolean, truth: boolean): string[] {
  const C = CLICK_LOG_COLUMNS;
  const names: string[] = [C.session, C.query, C.item, C.position, C.click];
  if (pscore) names.push(C.pscore);
  if (truth) names.push(C.examinationProbability, C.relevanceProbability, C.examined);
  return names;
}

class TextSink implements ChunkSink {
  private started = false;
  private readonly floats = new Float32Formatter();
  /** For JSON Lines: `{"session":`, `,"query":`, ... (one prefix per column). */
  private prefixes: string[] = [];

  constructor(
    private readonly handle: FileHandle,
    private readonly format: 'csv' | 'jsonl',
    private readonly truth: boolean,
  ) {}

  async write(chunk: LoggedClicks, sessionBase: number, pscore: boolean): Promise<void> {
    await this.start(pscore);
    const { log, propensity } = chunk;
    const truth = this.truth ? chunk.truth! : null;
    const csv = this.format === 'csv';
    const p = this.prefixes;
    const f = this.floats;
    let text = '';
    let rowsInText = 0;
    for (let s = 0; s < log.sessionQuery.length; s++) {
      const session = sessionBase + s;
      const query = log.sessionQuery[s];
      for (let row = log.sessionOffsets[s]; row < log.sessionOffsets[s + 1]; row++) {
        const position = log.position[row] + 1;
        if (csv) {
          text += `${session},${query},${log.document[row]},${position},${log.click[row]}`;
          if (propensity !== undefined) text += `,${f.format(propensity[row])}`;
          if (truth !== null) {
            text += `,${f.format(truth.examinationProbability[row])},${f.format(truth.relevanceProbability[row])},${truth.examined[row]}`;
          }
          text += '\n';
        } else {
          text += `${p[0]}${session}${p[1]}${query}${p[2]}${log.document[row]}${p[3]}${position}${p[4]}${log.click[row]}`;
          let k = 5;
          if (propensity !== undefined) text += `${p[k++]}${f.format(propensity[row])}`;
          if (truth !== null) {
            text += `${p[k]}${f.format(truth.examinationProbability[row])}${p[k + 1]}${f.format(truth.relevanceProbability[row])}${p[k + 2]}${truth.examined[row]}`;
          }
          text += '}\n';
        }
        if (++rowsInText === TEXT_BLOCK_ROWS) {
          await this.handle.write(text);
          text = '';
          rowsInText = 0;
        }
      }
    }
    if (text.length > 0) await this.handle.write(text);
  }

  async close(pscore: boolean): Promise<void> {
    await this.start(pscore);
    await this.handle.close();
  }

  private async start(pscore: boolean): Promise<void> {
    if (this.started) return;
    this.started = true;
    const names = textColumns(pscore, this.truth);
    if (this.format === 'csv') {
      await this.handle.write(`${names.join(',')}\n`);
    } else {
      this.prefixes = names.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
    }
  }
}

class ParquetSink implements ChunkSink {
  private writer: ParquetWriter | null = null;

  constructor(
    private readonly path: string,
    private readonly truth: boolean,
  ) {}

  async write(chunk: LoggedClicks, sessionBase: number, pscore: boolean): Promise<void> {
    const { log, propensity } = chunk;
    const { session, query } = expandSessions(log, sessionBase);
    const C = CLICK_LOG_COLUMNS;
    const columnData: ColumnSource[] = [
      { name: C.session, data: session },
      { name: C.query, data: query },
      { name: C.item, data: log.document },
      { name: C.position, data: onDiskPositions(log) },
      { name: C.click, data: log.click },
    ];
    if (propensity !== undefined) columnData.push({ name: C.pscore, data: propensity });
    if (this.truth) {
      const t = chunk.truth!;
      columnData.push(
        { name: C.examinationProbability, data: t.examinationProbability },
        { name: C.relevanceProbability, data: t.relevanceProbability },
        { name: C.examined, data: t.examined },
      );
    }
    await this.start(pscore).write({ columnData, rowGroupSize: PARQUET_ROW_GROUP });
  }

  async close(pscore: boolean): Promise<void> {
    await this.start(pscore).finish();
  }

  /** The writer, made at the first chunk: the Parquet schema must be known before any row group. */
  private start(pscore: boolean): ParquetWriter {
    if (this.writer !== null) return this.writer;
    const C = CLICK_LOG_COLUMNS;
    const int = (name: string): SchemaElement => ({ name, type: 'INT32', repetition_type: 'REQUIRED' });
    const float = (name: string): SchemaElement => ({ name, type: 'FLOAT', repetition_type: 'REQUIRED' });
    const columns = [int(C.session), int(C.query), int(C.item), int(C.position), int(C.click)];
    if (pscore) columns.push(float(C.pscore));
    if (this.truth) columns.push(float(C.examinationProbability), float(C.relevanceProbability), int(C.examined));
    const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns];
    this.writer = new ParquetWriter({ writer: fileWriter(this.path), schema, createdBy: 'clicklab' });
    return this.writer;
  }
}

/**
 * Writes a click log to CSV, JSON Lines or Parquet a chunk of sessions at a time, so that a log
 * larger than memory can be simulated and written piece by piece. Sessions are numbered on across
 * chunks. Whether the file has `pscore` is fixed by the first chunk; later chunks must agree.
 * Each Parquet `write` becomes its own row group(s) (of at most 2^20 rows), so chunks of many rows
 * (100k or more) make a compact file that reads fast. Arrow has no streaming writer here (arquero
 * and flechette encode whole tables): use `writeClickLog`.
 *
 *     const writer = await ClickLogWriter.open('clicks.csv');
 *     for (...) await writer.write(simulateSessions(lists, options));
 *     await writer.close();
 */
export class ClickLogWriter {
  private sessionCount = 0;
  private rowCount = 0;
  private pscore: boolean | null = null;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly sink: ChunkSink,
    private readonly truth: boolean,
  ) {}

  static async open(path: string, options: ClickLogWriteOptions = {}): Promise<ClickLogWriter> {
    const format = options.format ?? clickLogFormatOf(path);
    const truth = options.truth === true;
    if (format === 'csv' || format === 'jsonl') {
      return new ClickLogWriter(path, new TextSink(await open(path, 'w'), format, truth), truth);
    }
    if (format === 'parquet') {
      await writeFile(path, ''); // fail here, not at the first chunk, when the path cannot be written
      return new ClickLogWriter(path, new ParquetSink(path, truth), truth);
    }
    throw new ConfigError('format', `ClickLogWriter streams csv, jsonl and parquet, not ${format}: write Arrow files whole with writeClickLog`);
  }

  /** Sessions written so far. */
  get sessions(): number {
    return this.sessionCount;
  }

  /** Rows written so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Appends the sessions of `chunk`, after checking that the file will read back as they are. */
  async write(chunk: LoggedClicks): Promise<void> {
    if (this.closed) throw new Error(`ClickLogWriter(${this.path}): write after close`);
    checkLoggedClicks(chunk, this.truth);
    const pscore = chunk.propensity !== undefined;
    this.pscore ??= pscore;
    if (pscore !== this.pscore) {
      throw new RangeError(`cannot write the click log to ${this.path}: the first chunk ${this.pscore ? 'had' : 'had no'} propensities, this one ${pscore ? 'has' : 'has none'}`);
    }
    const sessions = chunk.log.sessionQuery.length;
    if (this.sessionCount + sessions > 0x7fffffff) {
      throw new RangeError(`cannot write the click log to ${this.path}: session numbers would pass 2^31 − 1`);
    }
    await this.sink.write(chunk, this.sessionCount, pscore);
    this.sessionCount += sessions;
    this.rowCount += chunk.log.document.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.close(this.pscore ?? false);
  }
}

/**
 * Explicit Arrow types: flechette infers them from typed arrays, but not from empty ones (it fails
 * on an empty log), and explicit types keep the schema the same whatever the data.
 */
function arrowTypes(table: ColumnTable): Record<string, DataType> {
  const C = CLICK_LOG_COLUMNS;
  const bytes = new Set<string>([C.click, C.examined]);
  const floats = new Set<string>([C.pscore, C.examinationProbability, C.relevanceProbability]);
  const types: Record<string, DataType> = {};
  for (const name of table.columnNames()) types[name] = bytes.has(name) ? uint8() : floats.has(name) ? float32() : int32();
  return types;
}

/** Writes a whole click log in the format of the file's extension (or `options.format`). */
export async function writeClickLog(path: string, logged: LoggedClicks, options: ClickLogWriteOptions = {}): Promise<void> {
  const format = options.format ?? clickLogFormatOf(path);
  if (format === 'arrow') {
    // The IPC file format: what `.arrow` and Feather v2 files are, and what pyarrow.feather reads.
    const table = clickLogToTable(logged, { truth: options.truth });
    await writeFile(path, toArrowIPC(table, { format: 'file', types: arrowTypes(table) }));
    return;
  }
  checkLoggedClicks(logged, options.truth === true); // before the file is created
  const writer = await ClickLogWriter.open(path, { ...options, format });
  try {
    await writer.write(logged);
  } finally {
    await writer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads a click log in the format of the file's extension (or `options.format`), validating every row. */
export async function readClickLog(path: string, options: ClickLogReadOptions = {}): Promise<LoggedClicks> {
  return readWith(path, options.format, { truth: options.truth === true, columns: options.columns ?? {}, ids: null });
}

/**
 * Reads a query/document/position/click log that another tool wrote (CSV, JSON Lines, Arrow or
 * Parquet): the same reader and checks as `readClickLog`, with the file's column names mapped to
 * clicklab's roles (`columns`), optionally no session column, and optionally text ids. Example: a
 * CSV with header `qid,url,rank,clicked` and no sessions reads with
 * `{ columns: { session: null, query: 'qid', item: 'url', position: 'rank', click: 'clicked' }, ids: 'text' }`.
 */
export async function readGenericClickLog(path: string, options: GenericClickLogReadOptions = {}): Promise<ReplayedClicks> {
  const ids: IdEncoders | null = options.ids === 'text' ? { query: new IdVocabulary(), item: new IdVocabulary() } : null;
  const logged = await readWith(path, options.format, { truth: options.truth === true, columns: options.columns ?? {}, ids });
  return { logged, queryIds: ids?.query.ids ?? null, itemIds: ids?.item.ids ?? null };
}

async function readWith(path: string, format: ClickLogFormat | undefined, context: ReadContext): Promise<LoggedClicks> {
  const resolved = format ?? clickLogFormatOf(path);
  switch (resolved) {
    case 'csv':
    case 'jsonl': {
      const parser = resolved === 'csv' ? new CsvParser(path, context) : new JsonLinesParser(path, context);
      await forEachLine(path, parser);
      return parser.finish();
    }
    case 'arrow':
      return readArrow(path, context);
    case 'parquet':
      return readParquet(path, context);
  }
}

const LF = 10;
const CR = 13;
const COMMA = 44;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;

/** @internal */
export interface LineParser {
  line(b: Buffer, start: number, end: number): void;
}

/**
 * @internal Streams the file's lines (LF or CRLF) to the parser; the last line may lack its newline.
 * Lines are handed as byte ranges of the chunk, so that a line costs no string unless the parser wants one.
 */
export async function forEachLine(path: string, parser: LineParser): Promise<void> {
  let carry: Buffer | null = null;
  const emit = (b: Buffer, start: number, end: number): void => {
    parser.line(b, start, end > start && b[end - 1] === CR ? end - 1 : end);
  };
  for await (const data of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const chunk = data as Buffer;
    let start = 0;
    let nl = chunk.indexOf(LF);
    if (carry !== null) {
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
      carry = null;
      emit(joined, 0, joined.length);
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    for (; nl >= 0; nl = chunk.indexOf(LF, start)) {
      emit(chunk, start, nl);
      start = nl + 1;
    }
    // Copied: the stream may reuse its buffer.
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
  }
  if (carry !== null) emit(carry, 0, carry.length);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The decimal number `[+-]digits[.digits][(e|E)[+-]digits]` (or `[+-].digits...`) that fills
 * bytes `start .. end − 1` exactly, or NaN for anything else: no spaces, hex, `Infinity` or empty
 * field slips through as a number. Short integers, the common case, are computed here; the rest
 * goes to `Number`, which rounds correctly.
 */
function parseDecimal(b: Buffer, start: number, end: number): number {
  let p = start;
  if (p < end && (b[p] === PLUS || b[p] === MINUS)) p++;
  const digitsStart = p;
  let value = 0;
  for (; p < end && isDigit(b[p]); p++) value = value * 10 + (b[p] - 48);
  const digits = p - digitsStart;
  if (p === end && digits > 0 && digits <= 15) return b[start] === MINUS ? -value : value;
  let fraction = 0;
  if (p < end && b[p] === DOT) {
    for (p++; p < end && isDigit(b[p]); p++) fraction++;
  }
  if (digits + fraction === 0) return NaN;
  if (p < end && (b[p] === 101 || b[p] === 69)) {
    p++;
    if (p < end && (b[p] === PLUS || b[p] === MINUS)) p++;
    const exponentStart = p;
    while (p < end && isDigit(b[p])) p++;
    if (p === exponentStart) return NaN;
  }
  return p === end ? Number(b.toString('latin1', start, end)) : NaN;
}

/** `'text'` of a field for messages, cut short when long. */
function quoteField(b: Buffer, start: number, end: number): string {
  if (start === end) return 'an empty field';
  const text = b.toString('utf8', start, Math.min(end, start + 40));
  return `'${text}${end - start > 40 ? '...' : ''}'`;
}

/** Column roles in the order `ClickLogBuilder.add` takes them. */
const ROLES = 9;

function roleNames(names: ClickLogColumnNames): (string | null)[] {
  const t = names.truth;
  return [names.session, names.query, names.item, names.position, names.click, names.pscore, t?.[0] ?? null, t?.[1] ?? null, t?.[2] ?? null];
}

/**
 * CSV with a header line. Fields may be quoted (`"1"`, `"a ""b"", c"`), but a quoted field may not
 * span lines: such a line is reported as an unterminated quote rather than guessed at. Columns that
 * are not part of a click log (an index column, user features) are skipped unread.
 */
class CsvParser implements LineParser {
  private lineNumber = 0;
  private builder: ClickLogBuilder | null = null;
  /** The role of each field (an index into `values`), or −1 for a column the log does not use. */
  private roles: Int8Array = new Int8Array(0);
  private columns: string[] = [];
  private readonly values = new Float64Array(ROLES);
  /** Encodes the query (role 1) and item (role 2) fields when ids are text. */
  private readonly text: CsvText | undefined;

  constructor(
    private readonly file: string,
    private readonly context: ReadContext,
  ) {
    const ids = context.ids;
    if (ids !== null) this.text = (role, text) => (role === 1 ? ids.query : ids.item).encode(text);
  }

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (this.builder === null) {
      this.header(b, start, end);
      return;
    }
    const { values } = this;
    csvNumbers(b, start, end, this.roles, this.columns, values, this.fail, this.text);
    this.builder.add(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8]);
  }

  finish(): LoggedClicks {
    if (this.builder === null) throw new DataFormatError(this.file, null, 'expected a header line, found an empty file');
    return this.builder.finish();
  }

  private header(b: Buffer, start: number, end: number): void {
    const columns = csvHeader(b, start, end, this.fail);
    const names = resolveClickLogColumns(columns, this.file, this.context.truth, this.context.columns);
    this.roles = csvRoles(columns, roleNames(names), this.fail);
    this.columns = columns;
    this.builder = new ClickLogBuilder(names, { file: this.file, unit: 'line', first: 2 });
  }

  private readonly fail: LineFail = (problem) => {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  };
}

/** @internal Reports a problem on the current line (the caller knows which line that is). */
export type LineFail = (problem: string) => never;

/** @internal The index of the text id in a query (role 1) or item (role 2) field. */
export type CsvText = (role: number, text: string) => number;

/**
 * @internal The column names of a CSV header line. A name may be quoted, with a doubled quote for
 * a quote inside; a UTF-8 byte order mark, as spreadsheet programs write, is not part of the first name.
 */
export function csvHeader(b: Buffer, start: number, end: number, fail: LineFail): string[] {
  if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) start += 3;
  const columns: string[] = [];
  let p = start;
  for (;;) {
    if (p < end && b[p] === QUOTE) {
      const close = closingQuote(b, p + 1, end, fail);
      columns.push(b.toString('utf8', p + 1, close).replaceAll('""', '"'));
      p = close + 1;
      if (p < end && b[p] !== COMMA) fail(`expected a comma after the closing quote of column name ${columns.length}, found ${quoteField(b, p, p + 1)}`);
    } else {
      const comma = b.indexOf(COMMA, p);
      const fieldEnd = comma < 0 || comma > end ? end : comma;
      columns.push(b.toString('utf8', p, fieldEnd));
      p = fieldEnd;
    }
    if (p >= end) break;
    p++;
  }
  return columns;
}

/**
 * @internal The role of each header column: its index in `byRole` (the names a reader resolved, null
 * for a role the file lacks), or −1 for a column the log does not use. A used column twice is an error.
 */
export function csvRoles(columns: readonly string[], byRole: readonly (string | null)[], fail: LineFail): Int8Array {
  const roles = new Int8Array(columns.length).fill(-1);
  columns.forEach((name, i) => {
    const role = byRole.indexOf(name);
    if (role < 0) return;
    if (columns.indexOf(name) !== i) fail(`expected each column once in the header, found '${name}' twice`);
    roles[i] = role;
  });
  return roles;
}

/**
 * @internal Parses one CSV data line into `values` (NaN for roles no column fills): the field of each
 * column with role r ≥ 0 must be a decimal number and goes to values[r]; other fields are skipped
 * unread. `columns` (the header's names) name the column in messages. The line must have exactly
 * as many fields as the header.
 */
export function csvNumbers(b: Buffer, start: number, end: number, roles: Int8Array, columns: readonly string[], values: Float64Array, fail: LineFail, text?: CsvText): void {
  if (start === end) fail('expected a data row, found an empty line');
  const fieldCount = roles.length;
  values.fill(NaN);
  let field = 0;
  let p = start;
  for (;;) {
    if (field === fieldCount) fail(`expected ${fieldCount} fields (as in the header), found more`);
    let fieldStart = p;
    let fieldEnd: number;
    if (p < end && b[p] === QUOTE) {
      fieldStart = p + 1;
      fieldEnd = closingQuote(b, fieldStart, end, fail);
      p = fieldEnd + 1;
      if (p < end && b[p] !== COMMA) fail(`expected a comma after the closing quote of field ${field + 1}, found ${quoteField(b, p, p + 1)}`);
    } else {
      const comma = b.indexOf(COMMA, p);
      fieldEnd = comma < 0 || comma > end ? end : comma;
      p = fieldEnd;
    }
    const role = roles[field];
    if (role >= 0 && text !== undefined && (role === 1 || role === 2)) {
      if (fieldStart === fieldEnd) fail(`expected an id in column '${columns[field]}', found an empty field`);
      const raw = b.toString('utf8', fieldStart, fieldEnd);
      values[role] = text(role, fieldStart > 0 && b[fieldStart - 1] === QUOTE ? raw.replaceAll('""', '"') : raw);
    } else if (role >= 0) {
      const value = parseDecimal(b, fieldStart, fieldEnd);
      if (Number.isNaN(value)) fail(`expected a number in column '${columns[field]}', found ${quoteField(b, fieldStart, fieldEnd)}`);
      values[role] = value;
    }
    field++;
    if (p >= end) break;
    p++; // the comma
  }
  if (field !== fieldCount) fail(`expected ${fieldCount} fields (as in the header), found ${field}`);
}

/** The index of the quote that closes a field opened just before `p` (a doubled quote is an escaped one). */
function closingQuote(b: Buffer, p: number, end: number, fail: LineFail): number {
  for (;;) {
    const q = b.indexOf(QUOTE, p);
    if (q < 0 || q >= end) fail('expected a closing quote before the end of the line (quoted fields may not span lines), found none');
    if (q + 1 < end && b[q + 1] === QUOTE) p = q + 2;
    else return q;
  }
}

/** @internal One JSON Lines line as an object; anything else (invalid JSON, an array, a number) is an error. */
export function jsonObject(b: Buffer, start: number, end: number, fail: LineFail): Record<string, unknown> {
  if (start === end) fail('expected a JSON object, found an empty line');
  const text = b.toString('utf8', start, end);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    fail(`expected a JSON object, found invalid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail(`expected a JSON object, found ${Array.isArray(parsed) ? 'an array' : describeValue(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * JSON Lines: one object per line, columns as keys. The first line fixes the keys: a later line
 * lacking one of them, or bringing a propensity the first did not have, is an error. Values must be
 * JSON numbers (`"1"`, `true` or `null` are errors, not conversions).
 */
class JsonLinesParser implements LineParser {
  private lineNumber = 0;
  private builder: ClickLogBuilder | null = null;
  private keys: (string | null)[] = [];
  /** The propensity keys, looked for on every line when the first line had none. */
  private absentPscore: string[] = [];
  private readonly values = new Float64Array(ROLES);

  constructor(
    private readonly file: string,
    private readonly context: ReadContext,
  ) {}

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    const object = jsonObject(b, start, end, this.fail);
    if (this.builder === null) {
      const names = resolveClickLogColumns(Object.keys(object), this.file, this.context.truth, this.context.columns);
      this.keys = roleNames(names);
      if (names.pscore === null) this.absentPscore = [CLICK_LOG_COLUMNS.pscore, 'propensity_score'];
      this.builder = new ClickLogBuilder(names, { file: this.file, unit: 'line', first: 1 });
    }
    const { keys, values } = this;
    const { ids } = this.context;
    for (let role = 0; role < ROLES; role++) {
      const key = keys[role];
      if (key === null) {
        values[role] = NaN;
        continue;
      }
      const value = object[key];
      if (ids !== null && (role === 1 || role === 2)) {
        if (value === undefined) this.fail(`expected the key '${key}' (as on line 1), found none`);
        values[role] = (role === 1 ? ids.query : ids.item).encode(idText(value, key, this.fail));
        continue;
      }
      if (typeof value !== 'number') {
        this.fail(value === undefined ? `expected the key '${key}' (as on line 1), found none` : `expected a number for '${key}', found ${describeValue(value)}`);
      }
      values[role] = value;
    }
    for (const key of this.absentPscore) {
      if (key in object) this.fail(`expected no '${key}' (line 1 has none), found one`);
    }
    this.builder.add(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8]);
  }

  /** An empty file is an empty log (JSON Lines has no header to require), as `writeClickLog` writes one. */
  finish(): LoggedClicks {
    const truth = this.context.truth;
    const builder = this.builder ?? new ClickLogBuilder(resolveClickLogColumns(textColumns(false, truth), this.file, truth), { file: this.file, unit: 'line', first: 1 });
    return builder.finish();
  }

  private readonly fail: LineFail = (problem) => {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  };
}

async function readArrow(path: string, context: ReadContext): Promise<LoggedClicks> {
  const bytes = await readFile(path);
  let table: ColumnTable;
  try {
    // 64-bit integers as bigint, so that one beyond 2^53 is reported at its row, not thrown by the decoder.
    table = fromArrow(bytes, { useBigInt: true });
  } catch (error) {
    throw new DataFormatError(path, null, `expected Arrow IPC data (file or stream format), found bytes that do not decode (${(error as Error).message})`);
  }
  return clickLogFromTable(table, { source: path, truth: context.truth, columns: context.columns, ...(context.ids && { ids: context.ids }) });
}

/** Decodes and validates one row group at a time, so the file's columns are never all in memory. */
async function readParquet(path: string, context: ReadContext): Promise<LoggedClicks> {
  const file = await asyncBufferFromFile(path); // a missing file stays a plain ENOENT
  const notParquet = (error: unknown): DataFormatError =>
    new DataFormatError(path, null, `expected a Parquet file, found data that does not decode (${(error as Error).message})`);
  let scan: ParquetScan;
  try {
    scan = await parquetScan({ file });
  } catch (error) {
    throw notParquet(error);
  }
  const available = parquetSchema(scan.metadata).children.map((child) => child.element.name);
  const names = resolveClickLogColumns(available, path, context.truth, context.columns);
  const at: RowNumbering = { file: path, unit: 'row', first: 1 };
  const builder = new ClickLogBuilder(names, at, Number(scan.metadata.num_rows));
  const wanted = roleNames(names);
  for (const range of scan.ranges) {
    // The values of each role's column, null for a role the file has no column for.
    const values: (ArrayLike<unknown> | null)[] = [];
    for (const column of wanted) {
      try {
        values.push(column === null ? null : await scan.readColumn({ column, ...range }));
      } catch (error) {
        throw notParquet(error);
      }
    }
    const [session, query, item, position, click, pscore, t0, t1, t2] = values;
    const truthValues = names.truth === null ? null : ([t0!, t1!, t2!] as const);
    addColumnRows(builder, names, { session, query: query!, item: item!, position: position!, click: click!, pscore, truth: truthValues }, range.rowEnd - range.rowStart, context.ids);
  }
  return builder.finish();
}
