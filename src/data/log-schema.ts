/**
 * What the kinds of log (click logs, interaction logs) share on the table side: a `LogSchema` says
 * which columns a kind has and how its rows are validated, and the helpers here do the rest once
 * for every kind: finding columns by name or alias, reading column values, the validating row
 * builders' storage and checks, and tables from and to logs. log-format.ts reads and writes the
 * four file formats through the same schema.
 */
import { table as makeTable, type ColumnTable } from 'arquero';
import { DataFormatError } from '../core/errors.js';
import type { TextStyle } from './text-format.js';
import { describeValue, type CsvText } from './tokenizer.js';

/** How a reader numbers data rows in messages: by line (text formats) or by row (binary formats). */
export interface RowNumbering {
  readonly file: string;
  readonly unit: 'line' | 'row';
  /** The number of data row 0: 2 for a CSV file (after its header), 1 otherwise. */
  readonly first: number;
}

/** 'line 12' or 'row 11', for messages that point at another row. */
function rowName(at: RowNumbering, row: number): string {
  return `${at.unit} ${row + at.first}`;
}

/** Lines go into `DataFormatError.line`; rows of a binary file have no line and lead the message. */
function rowError(at: RowNumbering, row: number, problem: string): DataFormatError {
  return at.unit === 'line' ? new DataFormatError(at.file, row + at.first, problem) : new DataFormatError(at.file, null, `${rowName(at, row)}: ${problem}`);
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

export const INT32_MAX = 0x7fffffff;

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

/** Typed or plain arrays of column values, as binary formats and tables give them. */
export type ColumnValues = ArrayLike<unknown>;

/**
 * Row `row` of a column as a number: numbers pass as they are, 64-bit integers (bigint)
 * when exactly representable, and anything else (null, text, booleans) goes to `fail`.
 */
function columnNumber(values: ColumnValues, row: number, column: string, fail: (problem: string) => never): number {
  const v = values[row];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    return fail(`expected an integer within ±(2^53 − 1) in column '${column}', found ${v}`);
  }
  return fail(`expected a number in column '${column}', found ${describeValue(v)}`);
}

/**
 * @internal The text of an id value (a string, or an integer read as its decimal text), for text id
 * encoders; anything else (null, an empty string, a fraction, a boolean) goes to `fail`.
 */
export function idText(v: unknown, column: string, fail: (problem: string) => never): string {
  if (typeof v === 'string' && v.length > 0) return v;
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint') return String(v);
  return fail(`expected an id (text or an integer) in column '${column}', found ${typeof v === 'string' ? 'an empty text' : describeValue(v)}`);
}

/** A column's values in table order, without a per-row copy when the table is neither filtered nor ordered. */
function tableColumn(table: ColumnTable, name: string): ColumnValues {
  if (table.isFiltered() || table.isOrdered()) return table.array(name);
  const column = table.column(name)!;
  return typeof column.toArray === 'function' ? (column.toArray() as unknown as ColumnValues) : (column as unknown as ColumnValues);
}

/** @internal A builder's row columns by name, `pscore` among them when the file has one; absent columns are undefined. */
export interface RowColumns {
  readonly [name: string]: Growable | undefined;
  readonly pscore?: Float32Array;
}

/**
 * @internal Validates rows one at a time, in file order, and assembles them into columns. Every
 * reader of a kind feeds its builder, so every format enforces the same rules with the same
 * messages. This base holds what all kinds have: the row columns' storage (allocation, amortised
 * growth, trimming), the optional `pscore` column, and the checks of single values.
 */
export abstract class RowBuilder<Log, Columns extends RowColumns = RowColumns> {
  protected rows = 0;
  protected capacity: number;
  /** The row columns, `capacity` long; replaced as they grow, so read them after `reserveRow`. */
  protected columns: Columns;

  constructor(
    private readonly at: RowNumbering,
    private readonly pscoreName: string | null,
    expectedRows: number,
    allocate: (capacity: number) => Columns,
  ) {
    this.capacity = Math.max(1, expectedRows);
    this.columns = allocate(this.capacity);
  }

  /** Adds one row from its values by role (NaN for a role the file lacks or that was not asked for). */
  abstract add(values: Float64Array): void;

  abstract finish(): Log;

  fail(problem: string): never {
    throw rowError(this.at, this.rows, problem);
  }

  /** 'line 12' or 'row 11' for data row `row`. */
  protected rowName(row: number): string {
    return rowName(this.at, row);
  }

  protected checkIndex(value: number, column: string, min: number): void {
    if (!Number.isInteger(value)) this.fail(`expected an integer in column '${column}', found ${value}`);
    if (value < min || value > INT32_MAX) this.fail(`expected an integer in [${min}, ${INT32_MAX}] in column '${column}', found ${value}`);
  }

  protected checkFlag(value: number, column: string): void {
    if (value !== 0 && value !== 1) this.fail(`expected 0 or 1 in column '${column}', found ${value}`);
  }

  protected checkProbability(value: number, column: string): void {
    if (!(value >= 0 && value <= 1)) this.fail(`expected a probability in [0, 1] in column '${column}', found ${value}`);
  }

  /** The columns with room for row `row` (the next one), grown by doubling (up to 2^31 − 1 rows) when full. */
  protected reserveRow(row: number): Columns {
    if (row === this.capacity) {
      if (this.capacity === INT32_MAX) this.fail(`expected at most ${INT32_MAX} rows, found more`);
      const n = Math.min(INT32_MAX, this.capacity * 2);
      this.capacity = n;
      this.columns = this.resized((a) => grown(a, n));
    }
    return this.columns;
  }

  /** Stores row `row`'s propensity when the file has the column. */
  protected addPscore(pscore: Float32Array | undefined, row: number, value: number): void {
    if (pscore === undefined) return;
    // Stored as float32: a positive double can still round to 0, which no estimator can divide by.
    if (!(value > 0 && value <= 1) || Math.fround(value) === 0) {
      this.fail(`expected a propensity in (0, 1] in column '${this.pscoreName}', found ${value}`);
    }
    pscore[row] = value;
  }

  /** The columns cut to the rows added. */
  protected trimmedColumns(): Columns {
    const rows = this.rows;
    return this.resized((a) => trimmed(a, rows));
  }

  private resized(resize: (a: Growable) => Growable): Columns {
    // A clone keeps the object's shape, so that `add`'s column look-ups stay monomorphic as columns grow.
    const columns: Record<string, Growable | undefined> = { ...this.columns };
    for (const name in columns) columns[name] = resize(columns[name]!);
    return columns as Columns;
  }
}

/**
 * @internal Runs of rows that share a key (a session, a user), to check that each key's rows are
 * contiguous and to say where an earlier run began.
 */
export class KeyRuns {
  count = 0;
  keys = new Float64Array(256);
  /** The first row of each run. */
  starts = new Int32Array(256);
  private max = -Infinity;
  /**
   * Key → run index, built only once a key comes that is not larger than every key before it:
   * files whose keys increase (all that clicklab writes) never pay for the map.
   */
  private seen: Map<number, number> | null = null;

  /** The run that `key` had before, or −1. */
  earlier(key: number): number {
    if (this.count === 0 || key > this.max) return -1;
    this.seen ??= this.index();
    return this.seen.get(key) ?? -1;
  }

  /** Starts a run of `key` at `row` and returns its index. */
  open(key: number, row: number): number {
    const r = this.count;
    if (r === this.keys.length) {
      this.keys = grown(this.keys, 2 * r);
      this.starts = grown(this.starts, 2 * r);
    }
    this.keys[r] = key;
    this.starts[r] = row;
    this.seen?.set(key, r);
    if (key > this.max) this.max = key;
    this.count = r + 1;
    return r;
  }

  private index(): Map<number, number> {
    const seen = new Map<number, number>();
    for (let r = 0; r < this.count; r++) seen.set(this.keys[r], r);
    return seen;
  }
}

/** @internal The `fail` of a check before writing: a RangeError that names the kind of log. */
export function writeFail(kind: string): (problem: string) => never {
  return (problem) => {
    throw new RangeError(`cannot write the ${kind}: ${problem}`);
  };
}

/**
 * @internal Checks before writing that the propensities, if any, and the truth arrays have `rows`
 * entries; `truth` is null when truth was not asked for, undefined when asked for but the log has none.
 */
export function checkAligned(rows: number, propensity: Float32Array | undefined, truth: readonly ArrayLike<number>[] | null | undefined, fail: (problem: string) => never): void {
  if (propensity !== undefined && propensity.length !== rows) fail(`expected ${rows} propensities, found ${propensity.length}`);
  if (truth === undefined) fail('the truth columns were asked for, but the log has no truth');
  if (truth?.some((a) => a.length !== rows)) fail(`expected truth arrays of length ${rows}`);
}

/** @internal Checks before writing that row `row` has a click of 0 or 1 and, when there are propensities, one in (0, 1]. */
export function checkClickAndPropensity(click: Uint8Array, propensity: Float32Array | undefined, row: number, fail: (problem: string) => never): void {
  if (click[row] > 1) fail(`expected a click of 0 or 1 at row ${row}, found ${click[row]}`);
  if (propensity !== undefined && !(propensity[row] > 0 && propensity[row] <= 1)) {
    fail(`expected a propensity in (0, 1] at row ${row}, found ${propensity[row]}`);
  }
}

/** @internal How a column is stored: Arrow and Parquet types follow from it. */
export type ColumnType = 'int32' | 'uint8' | 'float32';

/** @internal A column's data as clicklab writes it (the type is `LogColumn.type`). */
export type ColumnData = Int32Array | Uint8Array | Float32Array;

/** @internal A column as clicklab writes it. */
export interface LogColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** What every kind of log has: rows that may carry the logging policy's propensities. */
export interface LoggedRows {
  readonly propensity?: Float32Array;
}

/** The columns a reader found, by role, under the names the file uses: every kind's have `pscore`. */
export interface FoundColumns {
  readonly pscore: string | null;
}

/**
 * @internal One kind of log: its columns, how a file's columns are found and validated row by row
 * (reading), and how an in-memory log becomes columns and text (writing). Roles are the values a
 * row has, in the order the builder's `add` takes them.
 */
export interface LogSchema<Log extends LoggedRows, Names extends FoundColumns, Mapping = undefined> {
  /** 'click log', for messages. */
  readonly kind: string;
  /** The number of roles. */
  readonly roles: number;
  /** The names a file may give the propensity column (a JSON Lines line may not bring one when line 1 had none). */
  readonly pscoreNames: readonly string[];
  /** Finds the columns among `available`; a `mapping` names a file's own columns by role. */
  resolve(available: readonly string[], file: string, truth: boolean, mapping?: Mapping): Names;
  /** The found names by role (null for a role the file lacks). */
  roleNames(names: Names): (string | null)[];
  builder(names: Names, at: RowNumbering, expectedRows?: number): RowBuilder<Log>;
  /** Throws a RangeError unless `logged` can be written and read back as it is. */
  check(logged: Log, truth: boolean): void;
  rows(logged: Log): number;
  /** The sessions of `logged`, which writers number on across chunks (0 for logs without sessions). */
  sessions(logged: Log): number;
  /** The columns written, in order. */
  columns(pscore: boolean, truth: boolean): LogColumn[];
  /** The data of `columns`, in the same order, the first session numbered `sessionBase`. */
  columnData(logged: Log, sessionBase: number, truth: boolean): ColumnData[];
  /** Rows `from .. to − 1` as CSV or JSON Lines text (writers ask for blocks of `TEXT_BLOCK_ROWS` rows). */
  text(logged: Log, sessionBase: number, truth: boolean, style: TextStyle, from: number, to: number): string;
}

/** @internal Where a log comes from and what is asked of it. */
export interface LogSource<Mapping> {
  /** Names the table in error messages (default 'table'). */
  readonly source?: string;
  readonly truth?: boolean;
  readonly columns?: Mapping;
  /** Encoders of the roles whose values are text ids; without them every value must be a number. */
  readonly ids?: CsvText | null;
}

/**
 * @internal Feeds rows `0 .. count − 1` of columns (a table, an Arrow file, a Parquet row group),
 * by role (null for a role the source lacks), to the builder. Numbers pass as they are, 64-bit
 * integers (bigint) when exactly representable, and anything else (null, text, booleans) is an
 * error, not a conversion — except in roles that `ids` encodes as text.
 */
export function addColumnRows<Log>(builder: RowBuilder<Log>, names: readonly (string | null)[], columns: readonly (ColumnValues | null)[], count: number, ids: CsvText | null = null): void {
  const fail = (problem: string): never => builder.fail(problem);
  const roles = columns.length;
  const values = new Float64Array(roles);
  for (let r = 0; r < count; r++) {
    for (let role = 0; role < roles; role++) {
      const column = columns[role];
      const encoder = ids === null ? null : (ids[role] ?? null);
      values[role] = column === null ? NaN : encoder === null ? columnNumber(column, r, names[role]!, fail) : encoder.encode(idText(column[r], names[role]!, fail));
    }
    builder.add(values);
  }
}

/** @internal A log from a table with the kind's columns, validated as a file is. */
export function logFromTable<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, table: ColumnTable, options: LogSource<Mapping>): Log {
  const at: RowNumbering = { file: options.source ?? 'table', unit: 'row', first: 1 };
  const names = schema.resolve(table.columnNames(), at.file, options.truth === true, options.columns);
  const rows = table.numRows();
  const builder = schema.builder(names, at, rows);
  const byRole = schema.roleNames(names);
  addColumnRows(
    builder,
    byRole,
    byRole.map((name) => (name === null ? null : tableColumn(table, name))),
    rows,
    options.ids ?? null,
  );
  return builder.finish();
}

/** @internal The log as a table of the kind's columns, checked first; the arrays are shared where the log has them as they are written. */
export function logToTable<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, logged: Log, truth: boolean): ColumnTable {
  schema.check(logged, truth);
  const data = schema.columnData(logged, 0, truth);
  const columns: Record<string, ColumnData> = {};
  schema.columns(logged.propensity !== undefined, truth).forEach((column, i) => {
    columns[column.name] = data[i];
  });
  return makeTable(columns);
}
