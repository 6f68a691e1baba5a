/**
 * Reader for LETOR / SVMlight ranking files:
 *
 *     <label> qid:<id> <index>:<value> <index>:<value> ... # comment
 *
 * The parser works on bytes, scanning character codes (no regular expressions, no split, no
 * per-line objects), because the large public sets are big: MSLR-WEB30K is 3.7M lines of 136
 * features. Files are read whole (`...Sync`) or streamed in chunks (async), plain or gzip.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { ConfigError, DataFormatError } from '../core/errors.js';
import type { RankingData } from '../core/types.js';

export interface LetorOptions {
  /**
   * The number of features. Without it, it is the largest feature index seen; with it, a
   * larger index is an error. Features absent from a line are 0 either way.
   */
  readonly numFeatures?: number;
}

const LF = 10;
const HASH = 35;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const COLON = 58;
const INT32_MAX = 0x7fffffff;
/** The largest feature index a LETOR file may use without `numFeatures`: rows are stored dense (LETOR sets have at most 700). */
export const LETOR_MAX_FEATURES = 1 << 16;
/** Exact powers of ten in a double (10^22 is the largest). */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Bytes of `docid`, looked for in comments. */
const DOCID = [100, 111, 99, 105, 100];

/** Space, tab, CR (so CRLF files work), vertical tab, form feed. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** What may follow a token: the end of the line, whitespace or the start of a comment. */
function endsToken(b: Uint8Array, p: number, end: number): boolean {
  return p === end || isSpace(b[p]) || b[p] === HASH;
}

function skipSpace(b: Uint8Array, p: number, end: number): number {
  while (p < end && isSpace(b[p])) p++;
  return p;
}

function tokenEnd(b: Uint8Array, p: number, end: number): number {
  while (!endsToken(b, p, end)) p++;
  return p;
}

/**
 * Parses a LETOR file's bytes, fed in chunks that may cut lines anywhere, one file after another.
 * Rows go straight into typed arrays, allocated once from the line count when the whole file is
 * at hand and grown by doubling when streaming. A parse error throws, and the parser is not used
 * again after that. Text (qids, docids, messages) is decoded as UTF-8.
 */
class LetorParser {
  private readonly fixedWidth: boolean;
  /** Columns per row: the given numFeatures, or the largest feature index seen so far. */
  private width: number;
  private capacity = 0;
  private rows = 0;
  private features: Float32Array = new Float32Array(0);
  private labels: Int32Array = new Int32Array(0);
  private readonly queryStarts: number[] = [];
  private readonly qids: string[] = [];
  /** Where each query's run began, to report a qid that comes back later. */
  private readonly queryBegan = new Map<string, { file: string; line: number }>();
  /** Bytes of the current query's qid, compared in place so that lines allocate no string. */
  private currentQid = new Uint8Array(64);
  private currentQidLength = -1;
  private readonly docIds: string[] = [];
  /** Whether lines carry a docid, fixed by the first data line (and where that was). */
  private docIdMode: { has: boolean; file: string; line: number } | null = null;

  private file = '';
  private line = 0;
  private fileRows = 0;
  /** The unfinished last line of the previous chunk. */
  private carry: Buffer | null = null;
  /** Where the last `parseNumber` stopped. */
  private pos = 0;
  /** Feature indices and values of the line being parsed (reused, grown when needed). */
  private lineIndex: Int32Array = new Int32Array(256);
  private lineValue: Float64Array = new Float64Array(256);

  constructor(options: LetorOptions) {
    const n = options.numFeatures;
    if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
      throw new ConfigError('numFeatures', `expected an integer >= 1, found ${n}`);
    }
    this.fixedWidth = n !== undefined;
    this.width = n ?? 0;
  }

  beginFile(file: string, expectedLines = 0): void {
    this.file = file;
    this.line = 0;
    this.fileRows = 0;
    this.carry = null;
    // A qid that runs on into the next file is a reappearance, not the same run.
    this.currentQidLength = -1;
    if (this.rows + expectedLines > this.capacity) this.resize(this.rows + expectedLines, this.width);
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== null) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.parseLine(joined, 0, joined.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(LF, start); nl >= 0; nl = chunk.indexOf(LF, start)) {
      this.parseLine(chunk, start, nl);
      start = nl + 1;
    }
    // Copied: a stream may hand out views of a buffer it reuses.
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
  }

  endFile(): void {
    if (this.carry !== null) {
      const last = this.carry;
      this.carry = null;
      this.parseLine(last, 0, last.length);
    }
    if (this.fileRows === 0) {
      throw new DataFormatError(this.file, null, 'expected at least one data line (<label> qid:<id> <index>:<value> ...), found none');
    }
  }

  result(source: string): RankingData {
    const rows = this.rows;
    const width = this.width;
    // Trim the spare capacity (a copy only when there is some).
    const features = this.features.length === rows * width ? this.features : this.features.slice(0, rows * width);
    const labels = this.labels.length === rows ? this.labels : this.labels.slice(0, rows);
    return {
      source,
      numFeatures: width,
      features,
      labels,
      queryOffsets: Int32Array.from([...this.queryStarts, rows]),
      qids: this.qids,
      docIds: this.docIdMode?.has ? this.docIds : null,
    };
  }

  private fail(problem: string): never {
    throw new DataFormatError(this.file, this.line, problem);
  }

  /** `'token'` for messages, cut short when long; "end of line" when there is none. */
  private found(b: Buffer, start: number, end: number): string {
    const stop = tokenEnd(b, start, end);
    if (stop === start) return start === end ? 'end of line' : `'${b.toString('utf8', start, start + 1)}'`;
    const text = b.toString('utf8', start, Math.min(stop, start + 40));
    return `'${text}${stop - start > 40 ? '...' : ''}'`;
  }

  private parseLine(b: Buffer, start: number, end: number): void {
    this.line++;
    let p = skipSpace(b, start, end);
    if (p === end || b[p] === HASH) return; // blank or comment-only line

    const label = this.parseNumber(b, p, end);
    if (Number.isNaN(label) || !endsToken(b, this.pos, end) || !Number.isInteger(label) || label > INT32_MAX) {
      this.fail(`expected an integer relevance label as the first token, found ${this.found(b, p, end)}`);
    }
    if (label < 0) this.fail(`expected a relevance label >= 0, found ${this.found(b, p, end)}`);

    p = skipSpace(b, this.pos, end);
    // `qid:` (113 105 100 58), then the id up to the next whitespace.
    if (!(p + 4 <= end && b[p] === 113 && b[p + 1] === 105 && b[p + 2] === 100 && b[p + 3] === COLON)) {
      this.fail(`expected 'qid:<id>' after the label, found ${this.found(b, p, end)}`);
    }
    const qidEnd = tokenEnd(b, p + 4, end);
    if (qidEnd === p + 4) this.fail(`expected a query id after 'qid:', found ${this.found(b, p, end)}`);
    this.enterQuery(b, p + 4, qidEnd);

    let count = 0;
    let previous = 0;
    const maxIndex = this.fixedWidth ? this.width : LETOR_MAX_FEATURES;
    p = qidEnd;
    for (;;) {
      p = skipSpace(b, p, end);
      if (p === end || b[p] === HASH) break;
      let index = 0;
      let q = p;
      for (; q < end; q++) {
        const d = b[q] - 48;
        if (d < 0 || d > 9) break;
        index = index * 10 + d;
      }
      if (q === p || q === end || b[q] !== COLON) {
        this.fail(`expected a feature '<index>:<value>', found ${this.found(b, p, end)}`);
      }
      if (index < 1) this.fail(`expected a feature index >= 1, found ${this.found(b, p, end)}`);
      if (index > maxIndex) {
        const limit = this.fixedWidth ? `numFeatures = ${this.width}` : `${LETOR_MAX_FEATURES} (rows are stored dense: at most ${LETOR_MAX_FEATURES} features)`;
        this.fail(`expected a feature index <= ${limit}, found ${this.found(b, p, end)}`);
      }
      if (index <= previous) {
        this.fail(`expected feature indices in increasing order, found ${index} after ${previous} in ${this.found(b, p, end)}`);
      }
      const value = this.parseNumber(b, q + 1, end);
      if (Number.isNaN(value) || !endsToken(b, this.pos, end)) {
        this.fail(`expected a numeric feature value, found ${this.found(b, p, end)}`);
      }
      // Features are stored as float32: a value beyond its range (1e39, 1e400) would become ±Infinity.
      if (!Number.isFinite(Math.fround(value))) {
        this.fail(`expected a feature value within the float32 range (|v| < 3.4e38, as features are stored), found ${this.found(b, p, end)}`);
      }
      if (count === this.lineIndex.length) {
        this.lineIndex = growInt32(this.lineIndex, count * 2);
        this.lineValue = growFloat64(this.lineValue, count * 2);
      }
      this.lineIndex[count] = index;
      this.lineValue[count] = value;
      count++;
      previous = index;
      p = this.pos;
    }

    const docId = p < end ? findDocId(b, p + 1, end) : null;
    this.checkDocIdMode(docId !== null);

    // The line is valid: store it.
    if (previous > this.width) this.resize(this.capacity, previous);
    if (this.rows === this.capacity) this.resize(Math.max(1024, this.capacity * 2), this.width);
    const row = this.rows * this.width;
    for (let i = 0; i < count; i++) this.features[row + this.lineIndex[i] - 1] = this.lineValue[i];
    this.labels[this.rows] = label;
    if (docId !== null) this.docIds.push(docId);
    this.rows++;
    this.fileRows++;
  }

  /** Starts a new query when the qid changes; a qid whose run ended earlier is an error. */
  private enterQuery(b: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length === this.currentQidLength) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = b[start + i] === this.currentQid[i];
      if (same) return;
    }
    const qid = b.toString('utf8', start, end);
    const earlier = this.queryBegan.get(qid);
    if (earlier !== undefined) {
      const where = earlier.file === this.file ? `line ${earlier.line}` : `${earlier.file}:${earlier.line}`;
      this.fail(`expected the lines of a query to be contiguous, found qid:${qid} again after other queries (its earlier run began on ${where})`);
    }
    this.queryBegan.set(qid, { file: this.file, line: this.line });
    this.queryStarts.push(this.rows);
    this.qids.push(qid);
    if (length > this.currentQid.length) this.currentQid = new Uint8Array(length * 2);
    this.currentQid.set(b.subarray(start, end));
    this.currentQidLength = length;
  }

  private checkDocIdMode(has: boolean): void {
    const mode = this.docIdMode;
    if (mode === null) {
      this.docIdMode = { has, file: this.file, line: this.line };
      return;
    }
    if (mode.has === has) return;
    const where = mode.file === this.file ? `line ${mode.line}` : `${mode.file}:${mode.line}`;
    this.fail(has ? `expected no '#docid = ...' comment, as on ${where} (the first data line), found one` : `expected a '#docid = ...' comment, as on ${where} (the first data line), found none`);
  }

  /** Reallocates to `capacity` rows of `width` columns, keeping the rows stored so far. */
  private resize(capacity: number, width: number): void {
    let features: Float32Array;
    try {
      features = new Float32Array(capacity * width);
    } catch {
      this.fail(`expected a feature matrix that fits in memory, found ${capacity} rows × ${width} features (${((capacity * width * 4) / 2 ** 30).toFixed(1)} GiB) at this line`);
    }
    if (width === this.width) {
      features.set(this.features.subarray(0, this.rows * width));
    } else {
      // Only when the largest index grows, which in real files happens on the first lines.
      for (let r = 0; r < this.rows; r++) {
        features.set(this.features.subarray(r * this.width, (r + 1) * this.width), r * width);
      }
    }
    const labels = new Int32Array(capacity);
    labels.set(this.labels.subarray(0, this.rows));
    this.features = features;
    this.labels = labels;
    this.capacity = capacity;
    this.width = width;
  }

  /**
   * A decimal number `[+-]digits[.digits][(e|E)[+-]digits]` starting at p; NaN when there is none.
   * Sets `this.pos` to where it stopped. Up to 15 significant digits and exponents within ±22 are
   * computed exactly (one correctly rounded multiply or divide); anything longer goes to Number().
   */
  private parseNumber(b: Buffer, p: number, end: number): number {
    const start = p;
    let negative = false;
    if (p < end && (b[p] === MINUS || b[p] === PLUS)) negative = b[p++] === MINUS;
    let mantissa = 0;
    let significant = 0;
    let digits = 0;
    let exponent = 0;
    for (; p < end; p++) {
      const d = b[p] - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) significant++;
      digits++;
    }
    if (p < end && b[p] === DOT) {
      for (p++; p < end; p++) {
        const d = b[p] - 48;
        if (d < 0 || d > 9) break;
        mantissa = mantissa * 10 + d;
        if (mantissa !== 0) significant++;
        digits++;
        exponent--;
      }
    }
    if (digits === 0) {
      this.pos = p;
      return NaN;
    }
    if (p < end && (b[p] === 101 || b[p] === 69)) {
      let negativeExponent = false;
      if (++p < end && (b[p] === MINUS || b[p] === PLUS)) negativeExponent = b[p++] === MINUS;
      let e = 0;
      const first = p;
      for (; p < end; p++) {
        const d = b[p] - 48;
        if (d < 0 || d > 9) break;
        e = Math.min(e * 10 + d, 1e6); // capped: Number() below handles any huge exponent
      }
      if (p === first) {
        this.pos = p;
        return NaN;
      }
      exponent += negativeExponent ? -e : e;
    }
    this.pos = p;
    if (significant > 15 || exponent > 22 || exponent < -22) {
      return Number(b.toString('latin1', start, p));
    }
    const value = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
    return negative ? -value : value;
  }
}

function growInt32(a: Int32Array, length: number): Int32Array {
  const grown = new Int32Array(length);
  grown.set(a);
  return grown;
}

function growFloat64(a: Float64Array, length: number): Float64Array {
  const grown = new Float64Array(length);
  grown.set(a);
  return grown;
}

/** The X of `docid = X` (spaces around `=` optional) in a comment, or null. */
function findDocId(b: Buffer, start: number, end: number): string | null {
  for (let p = start; p + DOCID.length <= end; p++) {
    let match = true;
    for (let i = 0; i < DOCID.length && match; i++) match = b[p + i] === DOCID[i];
    if (!match) continue;
    let q = skipSpace(b, p + DOCID.length, end);
    if (q === end || b[q] !== 61) continue; // '='
    q = skipSpace(b, q + 1, end);
    const idEnd = tokenEnd(b, q, end);
    if (idEnd > q) return b.toString('utf8', q, idEnd);
  }
  return null;
}

/** A file's bytes, gunzipped when they start with the gzip magic bytes (whatever the name). */
function readBytesSync(path: string): Buffer {
  const bytes = readFileSync(path);
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DataFormatError(path, null, `expected valid gzip data, found a broken stream (${(error as Error).message})`);
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The number of lines: an upper bound on the data lines, used to allocate once. */
function countLines(bytes: Buffer): number {
  let n = bytes.length > 0 && bytes[bytes.length - 1] !== LF ? 1 : 0;
  for (let p = bytes.indexOf(LF); p >= 0; p = bytes.indexOf(LF, p + 1)) n++;
  return n;
}

/** Parses LETOR text; `file` names it in error messages and becomes `source`. */
export function parseLetor(text: string, file: string, options: LetorOptions = {}): RankingData {
  const bytes = Buffer.from(text, 'utf8');
  const parser = new LetorParser(options);
  parser.beginFile(file, countLines(bytes));
  parser.push(bytes);
  parser.endFile();
  return parser.result(file);
}

/** Reads a LETOR file (plain or gzip) at once. */
export function readLetorFileSync(path: string, options: LetorOptions = {}): RankingData {
  return readLetorFilesSync([path], path, options);
}

/**
 * Reads several LETOR files as one, in order (e.g. the three S files of an MQ2008 training
 * split). A qid may not come back in a later file.
 */
export function readLetorFilesSync(paths: readonly string[], source: string, options: LetorOptions = {}): RankingData {
  const parser = new LetorParser(options);
  for (const path of paths) {
    const bytes = readBytesSync(path);
    parser.beginFile(path, countLines(bytes));
    parser.push(bytes);
    parser.endFile();
  }
  return parser.result(source);
}

/** Reads a LETOR file (plain or gzip) as a stream, never holding the whole text in memory. */
export async function readLetorFile(path: string, options: LetorOptions = {}): Promise<RankingData> {
  return readLetorFiles([path], path, options);
}

/** `readLetorFilesSync`, streamed. */
export async function readLetorFiles(paths: readonly string[], source: string, options: LetorOptions = {}): Promise<RankingData> {
  const parser = new LetorParser(options);
  for (const path of paths) {
    parser.beginFile(path);
    const sink = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of chunks) parser.push(chunk);
    };
    if (await startsWithGzipMagic(path)) {
      try {
        await pipeline(createReadStream(path), createGunzip(), sink);
      } catch (error) {
        if (error instanceof DataFormatError) throw error;
        if ((error as { code?: string }).code?.startsWith('Z_')) {
          throw new DataFormatError(path, null, `expected valid gzip data, found a broken stream (${(error as Error).message})`);
        }
        throw error;
      }
    } else {
      await pipeline(createReadStream(path), sink);
    }
    parser.endFile();
  }
  return parser.result(source);
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return isGzip(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
