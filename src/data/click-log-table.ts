/**
 * Click logs as arquero tables, one row per displayed slot:
 *
 *     session  query  item_id  position  click  [pscore]  [truth_examination_probability
 *                                                          truth_relevance_probability truth_examined]
 *
 * The table is the on-disk schema (click-log-io.ts writes exactly these columns), so that a table is
 * a file and a file loaded by any tool is a table. Where the Open Bandit Pipeline has a column of the
 * same meaning its name is used (`item_id`, `position`, `click`, `pscore`), and so is its convention
 * that `position` is 1-based (the Open Bandit Dataset has positions 1–3). In memory (`ClickLog`)
 * positions are 0-based: the conversion happens here, and only here.
 *
 * `session` numbers the sessions 0, 1, 2, ... on writing; on reading any integer ids are accepted as
 * long as each session's rows are contiguous and its positions run 1, 2, 3, ... in order. That is
 * what makes the columnar `ClickLog` (which has no session ids and no gaps) the exact image of a table.
 *
 * The simulator's hidden truth goes out as `truth_*` columns only when asked for, and comes back only
 * when asked for, so that a learner cannot read it by accident.
 */
import { table as makeTable, type ColumnTable } from 'arquero';
import { DataFormatError } from '../core/errors.js';
import { MAX_LIST_LENGTH, type ClickLog, type ClickLogTruth } from '../core/types.js';
import type { IdVocabulary } from './replayed-log.js';

/** A click log with what a logging policy and a simulator may know about it, aligned row by row. */
export interface LoggedClicks {
  readonly log: ClickLog;
  /** The logging policy's probability of showing each row's item at its position (OBP's `pscore`). */
  readonly propensity?: Float32Array;
  /** What only the simulator knows; kept out of tables and files unless asked for. */
  readonly truth?: ClickLogTruth;
}

export interface ClickLogTableOptions {
  /** Include the hidden `truth_*` columns (default false). */
  readonly truth?: boolean;
}

export interface ClickLogFromTableOptions extends ClickLogTableOptions {
  /** Names the table in error messages (default 'table'). */
  readonly source?: string;
  /** The table's own column names by role, where they are not clicklab's (see `ClickLogColumnMapping`). */
  readonly columns?: ClickLogColumnMapping;
  /** Vocabularies for text query and item ids (see `IdEncoders`); without them ids must be integers. */
  readonly ids?: IdEncoders;
}

/**
 * The column that holds each role in a file that does not use clicklab's names, e.g.
 * `{ query: 'qid', item: 'url', position: 'rank' }`; roles left out keep clicklab's names (and
 * aliases). `session: null` says the file has no session column: a session is then a run of rows
 * that begins at a row with position 1 (each displayed list starts at rank 1), and the usual checks
 * (positions 1, 2, 3, ... and one query per session) apply to the runs so formed.
 */
export interface ClickLogColumnMapping {
  readonly session?: string | null;
  readonly query?: string;
  readonly item?: string;
  readonly position?: string;
  readonly click?: string;
  readonly pscore?: string;
}

/**
 * Text ids for queries and items: each distinct id (a URL, an md5, or a number read as text) gets
 * the next dense index, and the vocabularies keep the id behind each index.
 */
export interface IdEncoders {
  readonly query: IdVocabulary;
  readonly item: IdVocabulary;
}

/** Column names as clicklab writes them. */
export const CLICK_LOG_COLUMNS = {
  session: 'session',
  query: 'query',
  item: 'item_id',
  position: 'position',
  click: 'click',
  pscore: 'pscore',
  examinationProbability: 'truth_examination_probability',
  relevanceProbability: 'truth_relevance_probability',
  examined: 'truth_examined',
} as const;

/** Other names accepted on reading (the Open Bandit Pipeline's), by the name clicklab writes. */
const ALIASES: Readonly<Record<string, string>> = { item_id: 'action', click: 'reward', pscore: 'propensity_score' };

/** How a reader numbers data rows in messages: by line (text formats) or by row (binary formats). */
export interface RowNumbering {
  readonly file: string;
  readonly unit: 'line' | 'row';
  /** The number of data row 0: 2 for a CSV file (after its header), 1 otherwise. */
  readonly first: number;
}

/** @internal 'line 12' or 'row 11', for messages that point at another row. */
export function rowName(at: RowNumbering, row: number): string {
  return `${at.unit} ${row + at.first}`;
}

/** @internal Lines go into `DataFormatError.line`; rows of a binary file have no line and lead the message. */
export function rowError(at: RowNumbering, row: number, problem: string): DataFormatError {
  return at.unit === 'line'
    ? new DataFormatError(at.file, row + at.first, problem)
    : new DataFormatError(at.file, null, `${rowName(at, row)}: ${problem}`);
}

/** The columns a reader found, by role, under the names the file uses. */
export interface ClickLogColumnNames {
  /** null: the file has no session column (sessions begin at position 1, see `ClickLogColumnMapping`). */
  readonly session: string | null;
  readonly query: string;
  readonly item: string;
  readonly position: string;
  readonly click: string;
  readonly pscore: string | null;
  /** The three truth columns, when asked for. */
  readonly truth: readonly [string, string, string] | null;
}

/**
 * Finds the columns of a click log among `available`, accepting the Open Bandit Pipeline's names.
 * Missing required columns, or a column present under both its names, is a `DataFormatError`
 * (with no line: it concerns the header or schema).
 */
export function resolveClickLogColumns(available: readonly string[], file: string, truth: boolean, mapping: ClickLogColumnMapping = {}): ClickLogColumnNames {
  const lookup = new ColumnLookup(available, file, ALIASES);
  const find = (name: string, required: boolean, mapped?: string | null): string | null =>
    mapped === undefined ? lookup.find(name, required) : mapped === null ? null : lookup.findMapped(mapped, name);
  const C = CLICK_LOG_COLUMNS;
  const session = find(C.session, true, mapping.session);
  const query = find(C.query, true, mapping.query);
  const item = find(C.item, true, mapping.item);
  const position = find(C.position, true, mapping.position);
  const click = find(C.click, true, mapping.click);
  const pscore = find(C.pscore, false, mapping.pscore);
  const truthNames = truth
    ? [find(C.examinationProbability, true), find(C.relevanceProbability, true), find(C.examined, true)]
    : null;
  lookup.check();
  const used = [session, query, item, position, click, pscore].filter((n): n is string => n !== null);
  const twice = used.find((n, i) => used.indexOf(n) !== i);
  if (twice !== undefined) throw new DataFormatError(file, null, `expected each column to hold one role of the click log, found '${twice}' mapped to two`);
  return {
    session,
    query: query!,
    item: item!,
    position: position!,
    click: click!,
    pscore,
    truth: truthNames === null ? null : [truthNames[0]!, truthNames[1]!, truthNames[2]!],
  };
}

/**
 * @internal Looks columns up among a file's `available` names, by the name clicklab writes or its
 * one accepted alias, and collects the required ones that are not there for a single message.
 */
export class ColumnLookup {
  private readonly have: Set<string>;
  private readonly missing: string[] = [];

  constructor(
    private readonly available: readonly string[],
    private readonly file: string,
    private readonly aliases: Readonly<Record<string, string>>,
  ) {
    this.have = new Set(available);
  }

  /** The name the file uses for `name`, or null; a column present under both names is an error. */
  find(name: string, required: boolean): string | null {
    const { have } = this;
    const alias = this.aliases[name];
    if (alias !== undefined && have.has(name) && have.has(alias)) {
      throw new DataFormatError(this.file, null, `expected one of the columns '${name}' and '${alias}' (they mean the same), found both`);
    }
    if (have.has(name)) return name;
    if (alias !== undefined && have.has(alias)) return alias;
    if (required) this.missing.push(alias === undefined ? name : `${name} (or ${alias})`);
    return null;
  }

  /** The column `name` that a mapping named for the role clicklab calls `role`; missing, it is reported by `check`. */
  findMapped(name: string, role: string): string | null {
    if (this.have.has(name)) return name;
    this.missing.push(`${name} (mapped to ${role})`);
    return null;
  }

  /** Throws a DataFormatError naming every required column not found, and the columns there are. */
  check(): void {
    const { missing, available } = this;
    if (missing.length > 0) {
      const found = available.length === 0 ? 'none' : available.map((n) => `'${n}'`).join(', ');
      throw new DataFormatError(this.file, null, `expected the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, missing; found columns: ${found}`);
    }
  }
}

const INT32_MAX = 0x7fffffff;

/** @internal */
export type Growable = Int32Array | Uint16Array | Uint8Array | Float32Array | Float64Array;

/** @internal A copy of `a` in a new array of `length` elements (the builders' amortised growth). */
export function grown<T extends Growable>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  (b as Growable).set(a as ArrayLike<number>);
  return b;
}

/** @internal `a` cut to `length`, copied only when it has spare capacity. */
export function trimmed<T extends Growable>(a: T, length: number): T {
  return a.length === length ? a : (a.slice(0, length) as T);
}

/**
 * Validates rows one at a time, in file order, and assembles them into a columnar `ClickLog`.
 * Every reader feeds it, so every format enforces the same rules with the same messages. Values
 * arrive as numbers (readers reject non-numbers themselves); the builder checks that they are
 * integers, in range, and that sessions are contiguous runs with positions 1, 2, 3, ...
 */
export class ClickLogBuilder {
  private rows = 0;
  private capacity: number;
  private document: Int32Array;
  private position: Uint16Array;
  private click: Uint8Array;
  private pscore: Float32Array | null;
  private examinationProbability: Float32Array | null;
  private relevanceProbability: Float32Array | null;
  private examined: Uint8Array | null;

  private sessions = 0;
  private sessionCapacity: number;
  private sessionQuery: Int32Array;
  /** The first row of each session (the end offset is appended by `finish`). */
  private sessionStart: Int32Array;
  private sessionIds: Float64Array;
  private maxSessionId = -Infinity;
  /**
   * Session id → session index, built only once an id comes that is not larger than every id
   * before it: files whose ids increase (all that clicklab writes) never pay for the map.
   */
  private seen: Map<number, number> | null = null;

  constructor(
    private readonly names: ClickLogColumnNames,
    private readonly at: RowNumbering,
    expectedRows = 1024,
  ) {
    const n = Math.max(1, expectedRows);
    this.capacity = n;
    this.document = new Int32Array(n);
    this.position = new Uint16Array(n);
    this.click = new Uint8Array(n);
    this.pscore = names.pscore === null ? null : new Float32Array(n);
    this.examinationProbability = names.truth === null ? null : new Float32Array(n);
    this.relevanceProbability = names.truth === null ? null : new Float32Array(n);
    this.examined = names.truth === null ? null : new Uint8Array(n);
    this.sessionCapacity = 256;
    this.sessionQuery = new Int32Array(256);
    this.sessionStart = new Int32Array(256);
    this.sessionIds = new Float64Array(256);
  }

  /** The index of the next row, for readers' own messages. */
  get row(): number {
    return this.rows;
  }

  /**
   * Adds one row. `pscore` is read only when the file has that column, the truth values only when
   * truth was asked for (pass NaN otherwise).
   */
  add(session: number, query: number, item: number, position: number, click: number, pscore: number, examinationProbability: number, relevanceProbability: number, examined: number): void {
    const row = this.rows;
    const { names } = this;
    if (names.session === null) {
      // No session column: a row at position 1 opens a session, any other row continues the current one.
      session = position === 1 || this.sessions === 0 ? this.sessions : this.sessionIds[this.sessions - 1];
    } else if (!Number.isSafeInteger(session)) {
      this.fail(`expected an integer in column '${names.session}', found ${session}`);
    }
    this.checkIndex(query, names.query, 0);
    this.checkIndex(item, names.item, 0);
    this.checkIndex(position, names.position, 1);
    if (position > MAX_LIST_LENGTH) this.fail(`expected a position of at most ${MAX_LIST_LENGTH} in column '${names.position}' (sessions show at most that many results), found ${position}`);
    if (click !== 0 && click !== 1) this.fail(`expected 0 or 1 in column '${names.click}', found ${click}`);

    const s = this.sessions - 1;
    if (s >= 0 && session === this.sessionIds[s]) {
      const expected = row - this.sessionStart[s] + 1;
      if (position !== expected) {
        this.fail(`expected position ${expected} (the next rank of session ${session}), found ${position}`);
      }
      if (query !== this.sessionQuery[s]) {
        this.fail(`expected query ${this.sessionQuery[s]} in every row of session ${session} (as on ${rowName(this.at, this.sessionStart[s])}), found ${query}`);
      }
    } else {
      if (position !== 1) this.fail(`expected position 1 on the first row of session ${session}, found ${position}`);
      this.startSession(session, query);
    }

    if (row === this.capacity) this.growRows();
    this.document[row] = item;
    this.position[row] = position - 1;
    this.click[row] = click;
    if (this.pscore !== null) {
      // Stored as float32: a positive double can still round to 0, which no estimator can divide by.
      if (!(pscore > 0 && pscore <= 1) || Math.fround(pscore) === 0) {
        this.fail(`expected a propensity in (0, 1] in column '${names.pscore}', found ${pscore}`);
      }
      this.pscore[row] = pscore;
    }
    if (names.truth !== null) {
      const [examinationName, relevanceName, examinedName] = names.truth;
      if (!(examinationProbability >= 0 && examinationProbability <= 1)) {
        this.fail(`expected a probability in [0, 1] in column '${examinationName}', found ${examinationProbability}`);
      }
      if (!(relevanceProbability >= 0 && relevanceProbability <= 1)) {
        this.fail(`expected a probability in [0, 1] in column '${relevanceName}', found ${relevanceProbability}`);
      }
      if (examined !== 0 && examined !== 1) this.fail(`expected 0 or 1 in column '${examinedName}', found ${examined}`);
      this.examinationProbability![row] = examinationProbability;
      this.relevanceProbability![row] = relevanceProbability;
      this.examined![row] = examined;
    }
    this.rows = row + 1;
  }

  finish(): LoggedClicks {
    const rows = this.rows;
    const sessions = this.sessions;
    const sessionOffsets = new Int32Array(sessions + 1);
    sessionOffsets.set(this.sessionStart.subarray(0, sessions));
    sessionOffsets[sessions] = rows;
    const log: ClickLog = {
      sessionQuery: trimmed(this.sessionQuery, sessions),
      sessionOffsets,
      document: trimmed(this.document, rows),
      position: trimmed(this.position, rows),
      click: trimmed(this.click, rows),
    };
    const propensity = this.pscore === null ? undefined : trimmed(this.pscore, rows);
    const truth: ClickLogTruth | undefined =
      this.names.truth === null
        ? undefined
        : {
            examinationProbability: trimmed(this.examinationProbability!, rows),
            relevanceProbability: trimmed(this.relevanceProbability!, rows),
            examined: trimmed(this.examined!, rows),
          };
    return { log, ...(propensity && { propensity }), ...(truth && { truth }) };
  }

  fail(problem: string): never {
    throw rowError(this.at, this.rows, problem);
  }

  private checkIndex(value: number, column: string, min: number): void {
    if (!Number.isInteger(value)) this.fail(`expected an integer in column '${column}', found ${value}`);
    if (value < min || value > INT32_MAX) this.fail(`expected an integer in [${min}, ${INT32_MAX}] in column '${column}', found ${value}`);
  }

  private startSession(session: number, query: number): void {
    if (this.sessions > 0 && session <= this.maxSessionId) {
      this.seen ??= this.indexSessions();
      const earlier = this.seen.get(session);
      if (earlier !== undefined) {
        this.fail(`expected the rows of a session to be contiguous, found session ${session} again after other sessions (it began on ${rowName(this.at, this.sessionStart[earlier])})`);
      }
    }
    const s = this.sessions;
    if (s === this.sessionCapacity) {
      this.sessionCapacity *= 2;
      this.sessionQuery = grown(this.sessionQuery, this.sessionCapacity);
      this.sessionStart = grown(this.sessionStart, this.sessionCapacity);
      this.sessionIds = grown(this.sessionIds, this.sessionCapacity);
    }
    this.sessionQuery[s] = query;
    this.sessionStart[s] = this.rows;
    this.sessionIds[s] = session;
    this.seen?.set(session, s);
    if (session > this.maxSessionId) this.maxSessionId = session;
    this.sessions = s + 1;
  }

  private indexSessions(): Map<number, number> {
    const seen = new Map<number, number>();
    for (let s = 0; s < this.sessions; s++) seen.set(this.sessionIds[s], s);
    return seen;
  }

  private growRows(): void {
    if (this.capacity === INT32_MAX) this.fail(`expected at most ${INT32_MAX} rows, found more`);
    const n = Math.min(INT32_MAX, this.capacity * 2);
    this.capacity = n;
    this.document = grown(this.document, n);
    this.position = grown(this.position, n);
    this.click = grown(this.click, n);
    if (this.pscore !== null) this.pscore = grown(this.pscore, n);
    if (this.examinationProbability !== null) this.examinationProbability = grown(this.examinationProbability, n);
    if (this.relevanceProbability !== null) this.relevanceProbability = grown(this.relevanceProbability, n);
    if (this.examined !== null) this.examined = grown(this.examined, n);
  }
}

/** How messages name a value that should have been a number. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value (null)';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/** Typed or plain arrays of column values, as binary formats and tables give them. */
export type ColumnValues = ArrayLike<unknown>;

/**
 * @internal Row `row` of a column as a number: numbers pass as they are, 64-bit integers (bigint)
 * when exactly representable, and anything else (null, text, booleans) goes to `fail`.
 */
export function columnNumber(values: ColumnValues, row: number, column: string, fail: (problem: string) => never): number {
  const v = values[row];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    return fail(`expected an integer within ±(2^53 − 1) in column '${column}', found ${v}`);
  }
  return fail(`expected a number in column '${column}', found ${describeValue(v)}`);
}

/** The columns a binary reader or a table hands to `addColumnRows`, by role. */
export interface ClickLogColumnValues {
  /** null when the file has no session column. */
  readonly session: ColumnValues | null;
  readonly query: ColumnValues;
  readonly item: ColumnValues;
  readonly position: ColumnValues;
  readonly click: ColumnValues;
  readonly pscore: ColumnValues | null;
  readonly truth: readonly [ColumnValues, ColumnValues, ColumnValues] | null;
}

/**
 * @internal The text of an id value (a string, or an integer read as its decimal text), for `IdEncoders`;
 * anything else (null, an empty string, a fraction, a boolean) goes to `fail`.
 */
export function idText(v: unknown, column: string, fail: (problem: string) => never): string {
  if (typeof v === 'string' && v.length > 0) return v;
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint') return String(v);
  return fail(`expected an id (text or an integer) in column '${column}', found ${typeof v === 'string' ? 'an empty text' : describeValue(v)}`);
}

/**
 * Feeds rows `0 .. count − 1` of columns (a table, an Arrow file, a Parquet row group) to the
 * builder. Numbers pass as they are, 64-bit integers (bigint) when exactly representable, and
 * anything else (null, text, booleans) is an error, not a conversion — except query and item ids
 * when `ids` is given: those are encoded as text (see `IdEncoders`).
 */
export function addColumnRows(builder: ClickLogBuilder, names: ClickLogColumnNames, columns: ClickLogColumnValues, count: number, ids: IdEncoders | null = null): void {
  const fail = (problem: string): never => builder.fail(problem);
  const value = (values: ColumnValues, column: string, row: number): number => columnNumber(values, row, column, fail);
  const id = (values: ColumnValues, column: string, row: number, vocabulary: IdVocabulary | undefined): number =>
    vocabulary === undefined ? value(values, column, row) : vocabulary.encode(idText(values[row], column, fail));
  const { pscore, truth, session } = columns;
  for (let r = 0; r < count; r++) {
    builder.add(
      session === null ? NaN : value(session, names.session!, r),
      id(columns.query, names.query, r, ids?.query),
      id(columns.item, names.item, r, ids?.item),
      value(columns.position, names.position, r),
      value(columns.click, names.click, r),
      pscore === null ? NaN : value(pscore, names.pscore!, r),
      truth === null ? NaN : value(truth[0], names.truth![0], r),
      truth === null ? NaN : value(truth[1], names.truth![1], r),
      truth === null ? NaN : value(truth[2], names.truth![2], r),
    );
  }
}

/**
 * Checks that an in-memory log can be written and read back as it is: aligned lengths, no empty
 * session (a file has no row to show one), positions 0, 1, 2, ... in each session, clicks 0/1 and
 * propensities in (0, 1]. Writing anything else would make a file that its own reader rejects.
 */
export function checkLoggedClicks(logged: LoggedClicks, truth: boolean): void {
  const { log, propensity } = logged;
  const sessions = log.sessionQuery.length;
  const rows = log.document.length;
  const fail = (problem: string): never => {
    throw new RangeError(`cannot write the click log: ${problem}`);
  };
  if (log.sessionOffsets.length !== sessions + 1 || log.sessionOffsets[0] !== 0 || log.sessionOffsets[sessions] !== rows) {
    const o = log.sessionOffsets;
    fail(`expected sessionOffsets of length ${sessions + 1} running from 0 to ${rows} (the rows of document), found length ${o.length} from ${o[0]} to ${o[o.length - 1]}`);
  }
  if (log.position.length !== rows || log.click.length !== rows) {
    fail(`expected position and click of length ${rows} (the rows of document), found ${log.position.length} and ${log.click.length}`);
  }
  if (propensity !== undefined && propensity.length !== rows) fail(`expected ${rows} propensities, found ${propensity.length}`);
  if (truth) {
    const t = logged.truth;
    if (t === undefined) fail('the truth columns were asked for, but the log has no truth');
    else if (t.examinationProbability.length !== rows || t.relevanceProbability.length !== rows || t.examined.length !== rows) {
      fail(`expected truth arrays of length ${rows}`);
    } else {
      for (let row = 0; row < rows; row++) {
        const e = t.examinationProbability[row];
        const r = t.relevanceProbability[row];
        if (!(e >= 0 && e <= 1 && r >= 0 && r <= 1) || t.examined[row] > 1) {
          fail(`expected truth probabilities in [0, 1] and examined 0 or 1 at row ${row}, found ${e}, ${r} and ${t.examined[row]}`);
        }
      }
    }
  }
  for (let s = 0; s < sessions; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    if (end <= start) fail(`session ${s} has no rows`);
    for (let row = start; row < end; row++) {
      if (log.position[row] !== row - start) fail(`expected position ${row - start} at row ${row} (session ${s}), found ${log.position[row]}`);
      if (log.click[row] > 1) fail(`expected a click of 0 or 1 at row ${row}, found ${log.click[row]}`);
      if (propensity !== undefined && !(propensity[row] > 0 && propensity[row] <= 1)) {
        fail(`expected a propensity in (0, 1] at row ${row}, found ${propensity[row]}`);
      }
    }
  }
}

/** The session number (counted from `sessionBase`) and query of every row: the columns a file repeats per row. */
export function expandSessions(log: ClickLog, sessionBase: number): { session: Int32Array; query: Int32Array } {
  const rows = log.document.length;
  const session = new Int32Array(rows);
  const query = new Int32Array(rows);
  for (let s = 0; s < log.sessionQuery.length; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    session.fill(sessionBase + s, start, end);
    query.fill(log.sessionQuery[s], start, end);
  }
  return { session, query };
}

/** 1-based positions, as tables and files hold them. */
export function onDiskPositions(log: ClickLog): Int32Array {
  const position = new Int32Array(log.position.length);
  for (let i = 0; i < position.length; i++) position[i] = log.position[i] + 1;
  return position;
}

/**
 * The log as an arquero table (see the top of this file for the columns). The item, click,
 * propensity and truth arrays are shared with the log, not copied.
 */
export function clickLogToTable(logged: LoggedClicks, options: ClickLogTableOptions = {}): ColumnTable {
  const truth = options.truth === true;
  checkLoggedClicks(logged, truth);
  const { log } = logged;
  const C = CLICK_LOG_COLUMNS;
  const { session, query } = expandSessions(log, 0);
  const columns: Record<string, ArrayLike<number>> = {
    [C.session]: session,
    [C.query]: query,
    [C.item]: log.document,
    [C.position]: onDiskPositions(log),
    [C.click]: log.click,
  };
  if (logged.propensity !== undefined) columns[C.pscore] = logged.propensity;
  if (truth) {
    const t = logged.truth!;
    columns[C.examinationProbability] = t.examinationProbability;
    columns[C.relevanceProbability] = t.relevanceProbability;
    columns[C.examined] = t.examined;
  }
  return makeTable(columns);
}

/** @internal A column's values in table order, without a per-row copy when the table is neither filtered nor ordered. */
export function tableColumn(table: ColumnTable, name: string): ColumnValues {
  if (table.isFiltered() || table.isOrdered()) return table.array(name);
  const column = table.column(name)!;
  return typeof column.toArray === 'function' ? (column.toArray() as unknown as ColumnValues) : (column as unknown as ColumnValues);
}

/**
 * A click log from a table with the columns above (the Open Bandit Pipeline's `action`, `reward`
 * and `propensity_score` are accepted for `item_id`, `click` and `pscore`), validated as a file is.
 * Truth columns are read only with `truth: true`, and then they must be there.
 */
export function clickLogFromTable(table: ColumnTable, options: ClickLogFromTableOptions = {}): LoggedClicks {
  const truth = options.truth === true;
  const at: RowNumbering = { file: options.source ?? 'table', unit: 'row', first: 1 };
  const names = resolveClickLogColumns(table.columnNames(), at.file, truth, options.columns);
  const column = (name: string): ColumnValues => tableColumn(table, name);
  const rows = table.numRows();
  const builder = new ClickLogBuilder(names, at, rows);
  const columns: ClickLogColumnValues = {
    session: names.session === null ? null : column(names.session),
    query: column(names.query),
    item: column(names.item),
    position: column(names.position),
    click: column(names.click),
    pscore: names.pscore === null ? null : column(names.pscore),
    truth: names.truth === null ? null : [column(names.truth[0]), column(names.truth[1]), column(names.truth[2])],
  };
  addColumnRows(builder, names, columns, rows, options.ids ?? null);
  return builder.finish();
}
