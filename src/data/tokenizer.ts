/**
 * The byte-level tokeniser of the text formats: a file streamed as lines (byte ranges of the read
 * chunks, so that a line costs no string unless a parser wants one), CSV headers and numeric fields,
 * and JSON Lines objects. Log readers and dataset loaders (Yandex, Open Bandit) share it.
 */
import { createReadStream } from 'node:fs';

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

/** @internal Reports a problem on the current line (the caller knows which line that is). */
export type LineFail = (problem: string) => never;

/** @internal Encodes a text id as a dense index (an `IdVocabulary`). */
export interface TextIdEncoder {
  encode(text: string): number;
}

/** @internal By role: the encoder of a role whose fields are text ids, null for a numeric role. */
export type CsvText = readonly (TextIdEncoder | null)[];

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
 * column with role r ≥ 0 must be a decimal number (or, where `text` has an encoder for r, a text id)
 * and goes to values[r]; other fields are skipped unread. `columns` (the header's names) name the column in messages. The line must have exactly
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
    const encoder = role >= 0 && text !== undefined ? (text[role] ?? null) : null;
    if (encoder !== null) {
      if (fieldStart === fieldEnd) fail(`expected an id in column '${columns[field]}', found an empty field`);
      const raw = b.toString('utf8', fieldStart, fieldEnd);
      values[role] = encoder.encode(fieldStart > 0 && b[fieldStart - 1] === QUOTE ? raw.replaceAll('""', '"') : raw);
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

/** How messages name a value that should have been a number. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value (null)';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
