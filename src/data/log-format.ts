/**
 * Logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and Parquet, once for every kind
 * of log, each kind described by its `LogSchema` (click-log-table.ts, interaction-log-table.ts).
 *
 * - CSV and JSON Lines are written by our own code and streamed: `LogWriter` appends chunks at
 *   constant memory, and the readers parse the file as a stream of lines (tokenizer.ts).
 * - Parquet goes through DuckDB (engine-parquet.ts, loaded only for a Parquet log): the writer
 *   appends each chunk to a DuckDB table and COPYs it out at close (zstd, row groups of 2^20 rows),
 *   and the reader takes DuckDB's data chunks, so it reads any codec (zstd, as DuckDB, Spark and
 *   pandas write). hyparquet reads only the footer's metadata (`readLogOrigin`).
 * - Arrow is written and read whole, from and to memory, through arquero (`toArrowIPC`, `fromArrow`).
 *
 * Every reader feeds the kind's validating builder, so the rules and messages are the same in every
 * format: a `DataFormatError` names the file and the line (CSV, JSONL) or 1-based data row (Arrow,
 * Parquet), and says what was expected and what was found. Nothing is dropped or coerced. Float32
 * columns are written with the shortest decimal that reads back as the same float32, so a write and
 * a read give back typed arrays equal byte for byte.
 */
import { open, readFile, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { float32, int32, uint8, type DataType } from '@uwdata/flechette';
import { tableFromIPC, tableToIPC } from '@uwdata/flechette';
import { fromArrow, toArrow, type ColumnTable } from 'arquero';
import type { DuckDBDataChunk } from '@duckdb/node-api';
// Footer metadata only (the log's mark), without loading DuckDB's native binding.
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { ClickLabError, ConfigError, DataFormatError } from '../core/errors.js';
import { PendingFile, refuseFolderInput, writeFailure } from '../core/files.js';
import { addColumnRows, idText, INT32_MAX, logFromTable, logToTable, type ColumnType, type FoundColumns, type LoggedRows, type LogSchema, type LogSource, type RowBuilder } from './log-schema.js';
import type { ColumnAppender, ParquetColumnSpec } from './engine-parquet.js';
import type { LogEngine } from './engine.js';
import { identifier, literal } from './sql-text.js';
import { Float32Formatter, TEXT_BLOCK_ROWS } from './text-format.js';
import { csvHeader, csvNumbers, csvRoles, describeValue, forEachLine, jsonObject, type CsvText, type LineFail, type LineParser } from './tokenizer.js';

export type LogFormat = 'csv' | 'jsonl' | 'arrow' | 'parquet';

/** What every kind's writers take. */
export interface LogWriteOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: LogFormat;
  /** Write the hidden `truth_*` columns (default false); every chunk must then carry its truth. */
  readonly truth?: boolean;
  /** What the log's query and item ids index (the data set, fold and split), recorded in the file. */
  readonly origin?: LogOrigin;
}

/**
 * What a simulated log's ids index: the data set (a shipped name, or the LETOR file), the fold and
 * the split whose rows the query and item ids are. Recorded in every file clicklab writes (see
 * `LOG_MARK`), so that a reader can refuse to pair a log with other data.
 */
export interface LogOrigin {
  readonly dataset: string;
  readonly fold?: number;
  readonly split?: string;
}

/**
 * How clicklab marks the logs it writes, so that a truncated one is refused on read:
 *
 * - CSV: a first line `# clicklab log {"kind":"click-log","version":1,...origin}` and a last line
 *   `# clicklab end rows=N sessions=M` (read CSV files with `comment='#'` in pandas).
 * - JSON Lines: a first line `{"clicklab":{"kind":"click-log","version":1,...origin}}` and a last
 *   line `{"clicklab_end":{"rows":N,"sessions":M}}`.
 * - Parquet and Arrow: key-value (schema) metadata `clicklab` holding the same JSON; their footers
 *   are their end records.
 *
 * `sessions` is 0 for interaction logs, which have none. A file with the first mark and without a
 * matching end record is refused; a file without the first mark (another tool's) is read as before.
 */
export const LOG_MARK = 'clicklab';
const CSV_START = '# clicklab log ';
const CSV_END = '# clicklab end ';
const JSONL_END = '{"clicklab_end":';
const LOG_VERSION = 1;

/** The data set name a log simulated on a LETOR file records: `letor:` and the file's name. */
export function letorOrigin(file: string): string {
  return `letor:${basename(file)}`;
}

/**
 * Refuses a log whose recorded origin (`readClickLogOrigin`) is not `expected`: its ids index other
 * rows. A log without the record (`found` null: another tool's) passes, as does a field either side lacks.
 */
export function checkLogOrigin(file: string, found: LogOrigin | null, expected: LogOrigin): void {
  if (found === null) return;
  const describe = (o: LogOrigin): string => [o.dataset, o.fold === undefined ? '' : `fold ${o.fold}`, o.split ?? ''].filter((p) => p !== '').join(' ');
  const differs =
    found.dataset !== expected.dataset ||
    (found.fold !== undefined && expected.fold !== undefined && found.fold !== expected.fold) ||
    (found.split !== undefined && expected.split !== undefined && found.split !== expected.split);
  if (differs) {
    throw new DataFormatError(
      file,
      null,
      `the log was simulated on ${describe(found)}, and its item ids index that data; expected ${describe(expected)} (give the matching --dataset/--fold or --train)`,
    );
  }
}

/** The JSON of the first mark (and of the Parquet and Arrow metadata). */
function markJson(file: string, origin: LogOrigin | undefined): string {
  return JSON.stringify({ kind: file, version: LOG_VERSION, ...origin });
}

const TRUNCATED = 'truncated: no end record; the file was not completely written';

/** What every kind's readers take. */
export interface LogReadOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: LogFormat;
  /** Read the `truth_*` columns (default false), which must then be in the file. */
  readonly truth?: boolean;
}

const EXTENSIONS: Readonly<Record<string, LogFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.parquet': 'parquet',
};

/** @internal The format a file name implies; `kind` ('click-log', ...) names the log in the message. */
export function logFormatOf(path: string, kind: string): LogFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new ConfigError(
      path,
      `cannot tell the ${kind} format from the file name's extension: expected .csv, .jsonl, .arrow, .feather or .parquet (the library's readers and writers also take a format option)`,
    );
  }
  return format;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** @internal How a kind's files and writers are named in messages. */
export interface WriterNames {
  /** 'click-log', in the message of a file name without a known extension. */
  readonly file: string;
  /** 'ClickLogWriter'. */
  readonly writer: string;
  /** 'writeClickLog', the function that writes whole logs (Arrow among them). */
  readonly writeWhole: string;
}

/** Where chunks go; the columns are fixed by the first chunk (or by none, at close). */
interface ChunkSink<Log> {
  write(chunk: Log, sessionBase: number, pscore: boolean): Promise<void>;
  /** Completes the file (its end record) and commits it under its final name. */
  close(pscore: boolean, rows: number, sessions: number): Promise<void>;
  /** Removes the unfinished file; the final name keeps what it had. */
  abort(): Promise<void>;
}

/** The writing half of a schema, which is all a writer needs. */
type WriteSchema<Log extends LoggedRows> = Pick<LogSchema<Log, FoundColumns, unknown>, 'kind' | 'check' | 'rows' | 'sessions' | 'columns' | 'columnData' | 'text'>;

class TextSink<Log extends LoggedRows> implements ChunkSink<Log> {
  private started = false;
  private readonly floats = new Float32Formatter();
  /** For JSON Lines: `{"session":`, `,"query":`, ... (one prefix per column). */
  private prefixes: string[] = [];

  constructor(
    private readonly schema: WriteSchema<Log>,
    private readonly pending: PendingFile,
    private readonly handle: FileHandle,
    private readonly format: 'csv' | 'jsonl',
    private readonly truth: boolean,
    private readonly mark: string,
  ) {}

  async write(chunk: Log, sessionBase: number, pscore: boolean): Promise<void> {
    await this.start(pscore);
    const style = { csv: this.format === 'csv', prefixes: this.prefixes, floats: this.floats };
    const rows = this.schema.rows(chunk);
    // Block by block: a string per block bounds the memory of text writing, whatever the chunk size.
    for (let from = 0; from < rows; from += TEXT_BLOCK_ROWS) {
      await this.handle.write(this.schema.text(chunk, sessionBase, this.truth, style, from, Math.min(rows, from + TEXT_BLOCK_ROWS)));
    }
  }

  async close(pscore: boolean, rows: number, sessions: number): Promise<void> {
    await this.start(pscore);
    await this.handle.write(this.format === 'csv' ? `${CSV_END}rows=${rows} sessions=${sessions}\n` : `${JSONL_END}{"rows":${rows},"sessions":${sessions}}}\n`);
    await this.handle.sync();
    await this.handle.close();
    await this.pending.commit();
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await this.pending.abort();
  }

  private async start(pscore: boolean): Promise<void> {
    if (this.started) return;
    this.started = true;
    const names = this.schema.columns(pscore, this.truth).map((column) => column.name);
    if (this.format === 'csv') {
      await this.handle.write(`${CSV_START}${this.mark}\n${names.join(',')}\n`);
    } else {
      await this.handle.write(`{${JSON.stringify(LOG_MARK)}:${this.mark}}\n`);
      this.prefixes = names.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
    }
  }
}

const PARQUET_TYPES: Readonly<Record<ColumnType, 'INTEGER' | 'FLOAT'>> = { int32: 'INTEGER', uint8: 'INTEGER', float32: 'FLOAT' };

/**
 * Parquet through DuckDB (engine-parquet.ts): each chunk's columns appended to a DuckDB table as
 * they come (bounded memory: DuckDB's limit, beyond which the table spills to a temporary folder),
 * then one COPY at close writes the file (zstd, row groups of 2^20 rows, the mark as key-value
 * metadata). DuckDB is loaded at the first chunk, so that other formats never load its native binding.
 */
class ParquetSink<Log extends LoggedRows> implements ChunkSink<Log> {
  private engine: LogEngine | null = null;
  private appender: ColumnAppender | null = null;

  constructor(
    private readonly schema: WriteSchema<Log>,
    private readonly pending: PendingFile,
    private readonly truth: boolean,
    private readonly mark: string,
  ) {}

  async write(chunk: Log, sessionBase: number, pscore: boolean): Promise<void> {
    (await this.start(pscore)).append(this.schema.columnData(chunk, sessionBase, this.truth));
  }

  async close(pscore: boolean): Promise<void> {
    const appender = await this.start(pscore);
    try {
      await appender.copyTo(this.pending.temporary, { metadata: { [LOG_MARK]: this.mark } });
    } catch (error) {
      // DuckDB's errors carry no errno: what fails in a COPY of its own table is the file (a full disk, a size limit).
      throw new ClickLabError(`${this.pending.file}: cannot write the file: ${oneLine(error)}; the previous file, if any, is untouched`);
    }
    this.end();
    await this.pending.commit();
  }

  async abort(): Promise<void> {
    this.end();
    await this.pending.abort();
  }

  /** The table, made at the first chunk (or at close, for an empty log): its columns are the first chunk's. */
  private async start(pscore: boolean): Promise<ColumnAppender> {
    if (this.appender !== null) return this.appender;
    const { LogEngine } = await import('./engine.js');
    this.engine = await LogEngine.open();
    const columns = this.schema.columns(pscore, this.truth).map(({ name, type }): ParquetColumnSpec => ({ name, type: PARQUET_TYPES[type], ...(type === 'uint8' && { stored: 'UTINYINT' }) }));
    this.appender = await this.engine.appendColumns(columns);
    return this.appender;
  }

  /** Closes DuckDB (its in-memory table goes with it). */
  private end(): void {
    this.engine?.close();
    this.engine = null;
  }
}

/** A writer's kind: the schema and the names its messages use. */
type WriterKind<Log extends LoggedRows> = WriteSchema<Log> & WriterNames;

/** `LogWriter`'s constructor arguments. */
type WriterArgs<Log extends LoggedRows> = [WriterKind<Log>, string, ChunkSink<Log>, boolean];

type LogOf<W> = W extends LogWriter<infer Log> ? Log : never;

/** @internal A writer class (`ClickLogWriter`), as `LogWriter.open` sees it: its kind, and instances of its type. */
export interface WriterClass<W extends LogWriter<LoggedRows>> {
  readonly prototype: W;
  readonly kind: WriterKind<LogOf<W>>;
}

/**
 * Writes a log to CSV, JSON Lines or Parquet a chunk at a time, so that a log larger than memory can
 * be simulated and written piece by piece (`ClickLogWriter` and `InteractionLogWriter` are this with
 * their kind's schema). Whether the file has `pscore` is fixed by the first chunk; later chunks must
 * agree. A Parquet file's row groups hold 2^20 rows whatever the chunks' sizes (DuckDB's COPY at
 * close, from the table the chunks were appended to). Arrow has no streaming writer (arquero
 * and flechette encode whole tables): write Arrow files whole (`writeClickLog`, `writeInteractionLog`).
 */
export class LogWriter<Log extends LoggedRows> {
  private sessionCount = 0;
  private rowCount = 0;
  private pscore: boolean | null = null;
  private closed = false;

  protected constructor(
    private readonly schema: WriterKind<Log>,
    private readonly path: string,
    private readonly sink: ChunkSink<Log>,
    private readonly truth: boolean,
  ) {}

  /**
   * Opens a writer of the calling class's kind (`ClickLogWriter.open(...)`). The log is written to a
   * temporary file in the same folder (created now, so that a folder that cannot be written fails
   * here rather than at the first chunk) and renamed over `path` by `close`, once complete and
   * flushed to disk: `path` holds its previous content, or nothing, until then. `abort` (or an
   * error in `write`) removes the temporary file.
   */
  static async open<W extends LogWriter<LoggedRows>>(this: WriterClass<W>, path: string, options: LogWriteOptions = {}): Promise<W> {
    const make = this as unknown as new (...args: WriterArgs<LogOf<W>>) => W;
    return new make(...(await LogWriter.openSink(this.kind, path, options)));
  }

  /** The constructor's arguments for a new file (the file is created here). */
  private static async openSink<Log extends LoggedRows>(schema: WriterKind<Log>, path: string, options: LogWriteOptions): Promise<WriterArgs<Log>> {
    const format = options.format ?? logFormatOf(path, schema.file);
    const truth = options.truth === true;
    if (format !== 'csv' && format !== 'jsonl' && format !== 'parquet') {
      throw new ConfigError('format', `${schema.writer} streams csv, jsonl and parquet, not ${format}: write Arrow files whole with ${schema.writeWhole}`);
    }
    await refuseFolder(path);
    const pending = new PendingFile(path);
    const mark = markJson(schema.file, options.origin);
    let handle: FileHandle;
    try {
      handle = await open(pending.temporary, 'w');
    } catch (error) {
      await pending.abort();
      throw writeFailure(path, error);
    }
    if (format === 'parquet') {
      await handle.close(); // the Parquet writer opens the file itself, at the first chunk
      return [schema, path, new ParquetSink(schema, pending, truth, mark), truth];
    }
    return [schema, path, new TextSink(schema, pending, handle, format, truth, mark), truth];
  }

  /** @internal Writes a whole log: Arrow at once, the other formats as a writer's one chunk. */
  static async writeWhole<Log extends LoggedRows, Names extends FoundColumns, Mapping>(
    schema: LogSchema<Log, Names, Mapping> & WriterNames,
    path: string,
    logged: Log,
    options: LogWriteOptions,
  ): Promise<void> {
    const format = options.format ?? logFormatOf(path, schema.file);
    const truth = options.truth === true;
    if (format === 'arrow') return writeArrowLog(schema, path, logged, truth, options.origin);
    schema.check(logged, truth); // before the file is created, and once: `append` does not check again
    const writer = new LogWriter(...(await LogWriter.openSink(schema, path, { format, truth, origin: options.origin })));
    await writer.append(logged);
    await writer.close();
  }

  /** Sessions written so far (0 for a kind without sessions). */
  protected get sessionsWritten(): number {
    return this.sessionCount;
  }

  /** Rows written so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Appends the rows of `chunk`, after checking that the file will read back as they are. */
  async write(chunk: Log): Promise<void> {
    if (!this.closed) this.schema.check(chunk, this.truth);
    await this.append(chunk);
  }

  /** Appends the rows of a checked chunk. */
  private async append(chunk: Log): Promise<void> {
    const { schema, path } = this;
    if (this.closed) throw new Error(`${schema.writer}(${path}): write after close`);
    const pscore = chunk.propensity !== undefined;
    this.pscore ??= pscore;
    if (pscore !== this.pscore) {
      throw new RangeError(`cannot write the ${schema.kind} to ${path}: the first chunk ${this.pscore ? 'had' : 'had no'} propensities, this one ${pscore ? 'has' : 'has none'}`);
    }
    const sessions = schema.sessions(chunk);
    if (this.sessionCount + sessions > INT32_MAX) {
      throw new RangeError(`cannot write the ${schema.kind} to ${path}: session numbers would pass 2^31 − 1`);
    }
    try {
      await this.sink.write(chunk, this.sessionCount, pscore);
    } catch (error) {
      await this.abort();
      throw writeFailure(path, error);
    }
    this.sessionCount += sessions;
    this.rowCount += schema.rows(chunk);
  }

  /** Completes the file and renames it into place under its name. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.sink.close(this.pscore ?? false, this.rowCount, this.sessionCount);
    } catch (error) {
      await this.sink.abort();
      throw writeFailure(this.path, error);
    }
  }

  /** Gives the log up: the temporary file is removed and the file's name keeps what it had. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.abort();
  }
}

const ARROW_TYPES: Readonly<Record<ColumnType, () => DataType>> = { int32, uint8, float32 };

/**
 * Writes a whole log as an Arrow IPC file: what `.arrow` and Feather v2 files are, and what
 * pyarrow.feather reads. The types are explicit: flechette infers them from typed arrays, but not
 * from empty ones (it fails on an empty log), and explicit types keep the schema whatever the data.
 */
async function writeArrowLog<Log extends LoggedRows, Names extends FoundColumns, Mapping>(
  schema: LogSchema<Log, Names, Mapping> & WriterNames,
  path: string,
  logged: Log,
  truth: boolean,
  origin: LogOrigin | undefined,
): Promise<void> {
  await refuseFolder(path);
  const table = logToTable(schema, logged, truth);
  const types: Record<string, DataType> = {};
  for (const { name, type } of schema.columns(logged.propensity !== undefined, truth)) types[name] = ARROW_TYPES[type]();
  const arrow = toArrow(table, { types });
  arrow.schema.metadata = new Map([[LOG_MARK, markJson(schema.file, origin)]]);
  const bytes = tableToIPC(arrow, { format: 'file' });
  if (bytes === null) throw new Error(`cannot encode the ${schema.kind} as Arrow`);
  const pending = new PendingFile(path);
  try {
    await writeFile(pending.temporary, bytes);
  } catch (error) {
    await pending.abort();
    throw writeFailure(path, error);
  }
  await pending.commit();
}

/** A folder where a log file should be: one line naming it, rather than EISDIR from a rename. */
async function refuseFolder(path: string): Promise<void> {
  const found = await stat(path).catch(() => null);
  if (found?.isDirectory()) throw new ConfigError(path, 'is a folder, expected a log file name');
}

// ---------------------------------------------------------------------------------------------
// Reading

/** @internal What every reader needs besides the file: the options, resolved. */
export interface ReadContext<Mapping> {
  readonly truth: boolean;
  readonly columns?: Mapping;
  /** Encoders of the roles whose values are text ids (null: every value is a number). */
  readonly ids: CsvText | null;
}

/** @internal Reads a log of the schema's kind in `format`, validating every row. */
export async function readLog<Log extends LoggedRows, Names extends FoundColumns, Mapping>(
  schema: LogSchema<Log, Names, Mapping>,
  path: string,
  format: LogFormat,
  context: ReadContext<Mapping>,
): Promise<Log> {
  await refuseFolderInput(path);
  switch (format) {
    case 'csv':
    case 'jsonl': {
      const parser = format === 'csv' ? new CsvParser(schema, path, context) : new JsonLinesParser(schema, path, context);
      await forEachLine(path, parser);
      return parser.finish();
    }
    case 'arrow':
      return readArrow(schema, path, context);
    case 'parquet':
      return readParquet(schema, path, context);
  }
}

/** The counts of an end record (`LOG_MARK`). */
interface EndRecord {
  readonly rows: number;
  readonly sessions: number;
}

/**
 * What both text parsers keep: the line count for messages, the builder (made at line 1) and a
 * row's values by role; and the clicklab marks (`LOG_MARK`): whether line 1 had one, and the end record.
 */
abstract class TextParser<Log extends LoggedRows, Names extends FoundColumns, Mapping> implements LineParser {
  protected lineNumber = 0;
  protected builder: RowBuilder<Log> | null = null;
  protected readonly values: Float64Array;
  /** Line 1 says clicklab wrote the file: it must then end with its end record. */
  protected marked = false;
  protected end: EndRecord | null = null;

  constructor(
    protected readonly schema: LogSchema<Log, Names, Mapping>,
    protected readonly file: string,
    protected readonly context: ReadContext<Mapping>,
  ) {
    this.values = new Float64Array(schema.roles);
  }

  abstract line(b: Buffer, start: number, end: number): void;

  abstract finish(): Log;

  protected readonly fail: LineFail = (problem) => {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  };

  /** A line after the end record is an error: the end record must be the last line. */
  protected afterEnd(): void {
    if (this.end !== null) this.fail('expected nothing after the end record (a clicklab log ends with it)');
  }

  /** The end record's counts from its JSON (`{"rows":N,"sessions":M}`). */
  protected endRecord(counts: unknown): void {
    const { rows, sessions } = (counts ?? {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(sessions) || (rows as number) < 0 || (sessions as number) < 0) {
      this.fail('expected an end record with counts rows and sessions, found a malformed one');
    }
    this.end = { rows: rows as number, sessions: sessions as number };
  }

  /** Checks the end record against what was read: a marked file without one, or with other counts, is refused. */
  protected checked(log: Log): Log {
    const { end, schema, file } = this;
    if (end === null) {
      if (this.marked) throw new DataFormatError(file, null, TRUNCATED);
      return log;
    }
    const rows = schema.rows(log);
    const sessions = schema.sessions(log);
    if (rows !== end.rows || sessions !== end.sessions) {
      throw new DataFormatError(
        file,
        null,
        `the end record says ${end.rows} rows and ${end.sessions} sessions, found ${rows} rows and ${sessions} sessions: the file was altered or not completely written`,
      );
    }
    return log;
  }
}

/** Whether bytes `start ..` of `b` begin with the ASCII text `prefix`. */
function startsWith(b: Buffer, start: number, end: number, prefix: string): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[start + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * CSV with a header line. Fields may be quoted (`"1"`, `"a ""b"", c"`), but a quoted field may not
 * span lines: such a line is reported as an unterminated quote rather than guessed at. Columns that
 * are not part of the log (an index column, user features, a timestamp) are skipped unread.
 */
class CsvParser<Log extends LoggedRows, Names extends FoundColumns, Mapping> extends TextParser<Log, Names, Mapping> {
  /** The role of each field (an index into `values`), or −1 for a column the log does not use. */
  private roles: Int8Array = new Int8Array(0);
  private columns: string[] = [];

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    this.afterEnd();
    if (b[start] === 35 && this.mark(b, start, end)) return; // '#'
    if (this.builder === null) {
      this.header(b, start, end);
      return;
    }
    const { values } = this;
    csvNumbers(b, start, end, this.roles, this.columns, values, this.fail, this.context.ids ?? undefined);
    this.builder.add(values);
  }

  finish(): Log {
    if (this.builder === null) {
      if (this.marked) throw new DataFormatError(this.file, null, TRUNCATED);
      throw new DataFormatError(this.file, null, 'expected a header line, found an empty file');
    }
    return this.checked(this.builder.finish());
  }

  /** A clicklab mark (`LOG_MARK`) on line 1 or its end record; false for any other line. */
  private mark(b: Buffer, start: number, end: number): boolean {
    if (this.lineNumber === 1 && startsWith(b, start, end, CSV_START)) {
      this.marked = true;
      return true;
    }
    if (this.builder === null || !startsWith(b, start, end, CSV_END)) return false;
    const match = /^rows=(\d+) sessions=(\d+)$/.exec(b.toString('latin1', start + CSV_END.length, end));
    if (match === null) this.fail(`expected an end record '${CSV_END}rows=N sessions=M', found a malformed one`);
    this.endRecord({ rows: Number(match[1]), sessions: Number(match[2]) });
    return true;
  }

  private header(b: Buffer, start: number, end: number): void {
    const { schema, context } = this;
    const columns = csvHeader(b, start, end, this.fail);
    const names = schema.resolve(columns, this.file, context.truth, context.columns);
    this.roles = csvRoles(columns, schema.roleNames(names), this.fail);
    this.columns = columns;
    this.builder = schema.builder(names, { file: this.file, unit: 'line', first: this.lineNumber + 1 });
  }
}

/**
 * JSON Lines: one object per line, columns as keys. The first line fixes the keys: a later line
 * lacking one of them, or bringing a propensity the first did not have, is an error. Values must be
 * JSON numbers (`"1"`, `true` or `null` are errors, not conversions), or ids where they are text.
 */
class JsonLinesParser<Log extends LoggedRows, Names extends FoundColumns, Mapping> extends TextParser<Log, Names, Mapping> {
  private keys: (string | null)[] = [];
  /** The propensity keys, looked for on every line when the first line had none. */
  private absentPscore: readonly string[] = [];

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    this.afterEnd();
    const object = jsonObject(b, start, end, this.fail);
    if (startsWith(b, start, end, JSONL_END)) {
      this.endRecord(object.clicklab_end);
      return;
    }
    if (this.lineNumber === 1 && LOG_MARK in object && Object.keys(object).length === 1) {
      this.marked = true;
      return;
    }
    const { schema, context } = this;
    if (this.builder === null) {
      const names = schema.resolve(Object.keys(object), this.file, context.truth, context.columns);
      this.keys = schema.roleNames(names);
      if (names.pscore === null) this.absentPscore = schema.pscoreNames;
      this.builder = schema.builder(names, { file: this.file, unit: 'line', first: this.lineNumber });
    }
    const { keys, values } = this;
    const { ids } = context;
    for (let role = 0; role < keys.length; role++) {
      const key = keys[role];
      if (key === null) {
        values[role] = NaN;
        continue;
      }
      const value = object[key];
      const encoder = ids === null ? null : (ids[role] ?? null);
      if (encoder !== null) {
        if (value === undefined) this.fail(`expected the key '${key}' (as on line 1), found none`);
        values[role] = encoder.encode(idText(value, key, this.fail));
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
    this.builder.add(values);
  }

  /** An empty file is an empty log (JSON Lines has no header to require), as the writers write one. */
  finish(): Log {
    if (this.builder !== null) return this.checked(this.builder.finish());
    const { schema, file } = this;
    const truth = this.context.truth;
    const names = schema.resolve(
      schema.columns(false, truth).map((column) => column.name),
      file,
      truth,
    );
    return this.checked(schema.builder(names, { file, unit: 'line', first: 1 }).finish());
  }
}

async function readArrow<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, path: string, context: ReadContext<Mapping>): Promise<Log> {
  const bytes = await readFile(path);
  let table: ColumnTable;
  try {
    // 64-bit integers as bigint, so that one beyond 2^53 is reported at its row, not thrown by the decoder.
    table = fromArrow(bytes, { useBigInt: true });
  } catch (error) {
    throw new DataFormatError(path, null, `expected Arrow IPC data (file or stream format), found bytes that do not decode (${oneLine(error)})`);
  }
  const source: LogSource<Mapping> = { source: path, ...context };
  return logFromTable(schema, table, source);
}

/**
 * Reads through DuckDB (which reads any codec, zstd among them, and decodes on its own threads),
 * a data chunk at a time, each row validated by the kind's builder as it comes; the columns come
 * over as the typed arrays under DuckDB's vectors, so the per-row work is the validation alone.
 */
async function readParquet<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, path: string, context: ReadContext<Mapping>): Promise<Log> {
  await checkParquetFooter(path); // a missing file stays a plain ENOENT
  const notParquet = (error: unknown): DataFormatError => new DataFormatError(path, null, `expected a Parquet file, found data that does not decode (${oneLine(error)})`);
  const [{ LogEngine }, { columnValues }] = await Promise.all([import('./engine.js'), import('./engine-parquet.js')]);
  const engine = await LogEngine.open();
  try {
    const source = `read_parquet(${literal(path)})`;
    let available: string[];
    let rows: number;
    try {
      available = (await engine.rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`)).map((row) => String(row[0]));
      rows = Number((await engine.rows(`SELECT count(*) FROM ${source}`))[0][0]);
    } catch (error) {
      throw notParquet(error);
    }
    const names = schema.resolve(available, path, context.truth, context.columns);
    const builder = schema.builder(names, { file: path, unit: 'row', first: 1 }, rows);
    const wanted = schema.roleNames(names);
    const read = wanted.filter((name): name is string => name !== null);
    if (read.length === 0) return builder.finish();
    const chunks = engine.chunks(`SELECT ${read.map(identifier).join(', ')} FROM ${source}`);
    for (;;) {
      let next: IteratorResult<DuckDBDataChunk>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw notParquet(error);
      }
      if (next.done === true) break;
      const chunk = next.value;
      const n = chunk.rowCount;
      let column = 0;
      const values = wanted.map((name) => (name === null ? null : columnValues(chunk.getColumnVector(column++), n)));
      addColumnRows(builder, wanted, values, n, context.ids);
    }
    return builder.finish();
  } finally {
    engine.close();
  }
}

/** An error's message on one line, for a message that quotes a decoder's. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}

const PAR1 = 0x31524150; // 'PAR1', little-endian

/** A file that does not end with Parquet's footer (a truncated one): one line that says so. */
async function checkParquetFooter(path: string): Promise<void> {
  const handle = await open(path, 'r');
  let complete = false;
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(4);
    if (size >= 12) {
      await handle.read(tail, 0, 4, size - 4);
      complete = tail.readUInt32LE(0) === PAR1;
    }
  } finally {
    await handle.close();
  }
  if (!complete) throw new DataFormatError(path, null, 'not a complete Parquet file (no footer): truncated?');
}

/**
 * What a log records its ids to index (`LogOrigin`), or null for a log without the record (one
 * another tool wrote, or an interaction log). Reads only the file's start (CSV, JSON Lines) or
 * metadata (Parquet, Arrow).
 */
export async function readLogOrigin(path: string, format: LogFormat): Promise<LogOrigin | null> {
  await refuseFolderInput(path);
  let mark: string | undefined;
  switch (format) {
    case 'csv':
    case 'jsonl': {
      const handle = await open(path, 'r');
      let first: string;
      try {
        const b = Buffer.alloc(1 << 16);
        const { bytesRead } = await handle.read(b, 0, b.length, 0);
        first = b.toString('utf8', 0, bytesRead).split('\n', 1)[0];
      } finally {
        await handle.close();
      }
      if (format === 'csv') mark = first.startsWith(CSV_START) ? first.slice(CSV_START.length) : undefined;
      else if (first.startsWith(`{"${LOG_MARK}":`) && first.endsWith('}')) mark = first.slice(LOG_MARK.length + 4, -1);
      break;
    }
    case 'parquet': {
      await checkParquetFooter(path);
      const file = await asyncBufferFromFile(path);
      let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
      try {
        metadata = await parquetMetadataAsync(file);
      } catch (error) {
        throw new DataFormatError(path, null, `expected a Parquet file, found data that does not decode (${oneLine(error)})`);
      }
      mark = metadata.key_value_metadata?.find((kv) => kv.key === LOG_MARK)?.value;
      break;
    }
    case 'arrow': {
      const bytes = await readFile(path);
      try {
        mark = tableFromIPC(bytes).schema.metadata?.get(LOG_MARK);
      } catch (error) {
        throw new DataFormatError(path, null, `expected Arrow IPC data (file or stream format), found bytes that do not decode (${oneLine(error)})`);
      }
      break;
    }
  }
  if (mark === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(mark);
  } catch {
    throw new DataFormatError(path, null, `expected the clicklab mark to be JSON, found '${mark.slice(0, 80)}'`);
  }
  const { dataset, fold, split } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof dataset !== 'string') return null;
  return { dataset, ...(typeof fold === 'number' ? { fold } : {}), ...(typeof split === 'string' ? { split } : {}) };
}
