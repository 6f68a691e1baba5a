/**
 * Logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and Parquet, once for every kind
 * of log, each kind described by its `LogSchema` (click-log-table.ts, interaction-log-table.ts).
 *
 * - CSV and JSON Lines are written by our own code and streamed: `LogWriter` appends chunks at
 *   constant memory, and the readers parse the file as a stream of lines (tokenizer.ts).
 * - Parquet (hyparquet-writer / hyparquet) is streamed too: each `write` becomes one or more row
 *   groups, and the reader decodes one row group at a time.
 * - Arrow is written and read whole, from and to memory, through arquero (`toArrowIPC`, `fromArrow`).
 *
 * Every reader feeds the kind's validating builder, so the rules and messages are the same in every
 * format: a `DataFormatError` names the file and the line (CSV, JSONL) or 1-based data row (Arrow,
 * Parquet), and says what was expected and what was found. Nothing is dropped or coerced. Float32
 * columns are written with the shortest decimal that reads back as the same float32, so a write and
 * a read give back typed arrays equal byte for byte.
 */
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { float32, int32, uint8, type DataType } from '@uwdata/flechette';
import { fromArrow, toArrowIPC, type ColumnTable } from 'arquero';
import { asyncBufferFromFile, parquetSchema, parquetScan, type ParquetScan } from 'hyparquet';
import { fileWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { ConfigError, DataFormatError } from '../core/errors.js';
import {
  addColumnRows,
  idText,
  INT32_MAX,
  logFromTable,
  logToTable,
  type ColumnType,
  type FoundColumns,
  type LoggedRows,
  type LogSchema,
  type LogSource,
  type RowBuilder,
  type RowNumbering,
} from './log-schema.js';
import { Float32Formatter, TEXT_BLOCK_ROWS } from './text-format.js';
import { csvHeader, csvNumbers, csvRoles, describeValue, forEachLine, jsonObject, type CsvText, type LineFail, type LineParser } from './tokenizer.js';

export type LogFormat = 'csv' | 'jsonl' | 'arrow' | 'parquet';

/** What every kind's writers take. */
export interface LogWriteOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: LogFormat;
  /** Write the hidden `truth_*` columns (default false); every chunk must then carry its truth. */
  readonly truth?: boolean;
}

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

/** Rows per Parquet row group, as pyarrow's default. */
const PARQUET_ROW_GROUP = 1 << 20;

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
  close(pscore: boolean): Promise<void>;
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
    private readonly handle: FileHandle,
    private readonly format: 'csv' | 'jsonl',
    private readonly truth: boolean,
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

  async close(pscore: boolean): Promise<void> {
    await this.start(pscore);
    await this.handle.close();
  }

  private async start(pscore: boolean): Promise<void> {
    if (this.started) return;
    this.started = true;
    const names = this.schema.columns(pscore, this.truth).map((column) => column.name);
    if (this.format === 'csv') await this.handle.write(`${names.join(',')}\n`);
    else this.prefixes = names.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  }
}

const PARQUET_TYPES: Readonly<Record<ColumnType, 'INT32' | 'FLOAT'>> = { int32: 'INT32', uint8: 'INT32', float32: 'FLOAT' };

class ParquetSink<Log extends LoggedRows> implements ChunkSink<Log> {
  private writer: ParquetWriter | null = null;

  constructor(
    private readonly schema: WriteSchema<Log>,
    private readonly path: string,
    private readonly truth: boolean,
  ) {}

  async write(chunk: Log, sessionBase: number, pscore: boolean): Promise<void> {
    const data = this.schema.columnData(chunk, sessionBase, this.truth);
    const columnData = this.schema.columns(pscore, this.truth).map(({ name }, i) => ({ name, data: data[i] }));
    await this.start(pscore).write({ columnData, rowGroupSize: PARQUET_ROW_GROUP });
  }

  async close(pscore: boolean): Promise<void> {
    await this.start(pscore).finish();
  }

  /** The writer, made at the first chunk: the Parquet schema must be known before any row group. */
  private start(pscore: boolean): ParquetWriter {
    if (this.writer !== null) return this.writer;
    const columns = this.schema.columns(pscore, this.truth).map(({ name, type }): SchemaElement => ({ name, type: PARQUET_TYPES[type], repetition_type: 'REQUIRED' }));
    const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns];
    this.writer = new ParquetWriter({ writer: fileWriter(this.path), schema, createdBy: 'clicklab' });
    return this.writer;
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
 * agree. Each Parquet `write` becomes its own row group(s) (of at most 2^20 rows), so chunks of many
 * rows (100k or more) make a compact file that reads fast. Arrow has no streaming writer (arquero
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
   * Opens a writer of the calling class's kind (`ClickLogWriter.open(...)`), creating the file now,
   * so that a path that cannot be written fails here rather than at the first chunk.
   */
  static async open<W extends LogWriter<LoggedRows>>(this: WriterClass<W>, path: string, options: LogWriteOptions = {}): Promise<W> {
    const make = this as unknown as new (...args: WriterArgs<LogOf<W>>) => W;
    return new make(...(await LogWriter.openSink(this.kind, path, options)));
  }

  /** The constructor's arguments for a new file (the file is created here). */
  private static async openSink<Log extends LoggedRows>(schema: WriterKind<Log>, path: string, options: LogWriteOptions): Promise<WriterArgs<Log>> {
    const format = options.format ?? logFormatOf(path, schema.file);
    const truth = options.truth === true;
    if (format === 'csv' || format === 'jsonl') return [schema, path, new TextSink(schema, await open(path, 'w'), format, truth), truth];
    if (format === 'parquet') {
      await writeFile(path, ''); // fail here, not at the first chunk, when the path cannot be written
      return [schema, path, new ParquetSink(schema, path, truth), truth];
    }
    throw new ConfigError('format', `${schema.writer} streams csv, jsonl and parquet, not ${format}: write Arrow files whole with ${schema.writeWhole}`);
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
    if (format === 'arrow') return writeArrowLog(schema, path, logged, truth);
    schema.check(logged, truth); // before the file is created
    const writer = new LogWriter(...(await LogWriter.openSink(schema, path, { format, truth })));
    try {
      await writer.write(logged);
    } finally {
      await writer.close();
    }
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
    const { schema, path } = this;
    if (this.closed) throw new Error(`${schema.writer}(${path}): write after close`);
    schema.check(chunk, this.truth);
    const pscore = chunk.propensity !== undefined;
    this.pscore ??= pscore;
    if (pscore !== this.pscore) {
      throw new RangeError(`cannot write the ${schema.kind} to ${path}: the first chunk ${this.pscore ? 'had' : 'had no'} propensities, this one ${pscore ? 'has' : 'has none'}`);
    }
    const sessions = schema.sessions(chunk);
    if (this.sessionCount + sessions > INT32_MAX) {
      throw new RangeError(`cannot write the ${schema.kind} to ${path}: session numbers would pass 2^31 − 1`);
    }
    await this.sink.write(chunk, this.sessionCount, pscore);
    this.sessionCount += sessions;
    this.rowCount += schema.rows(chunk);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.close(this.pscore ?? false);
  }
}

const ARROW_TYPES: Readonly<Record<ColumnType, () => DataType>> = { int32, uint8, float32 };

/**
 * Writes a whole log as an Arrow IPC file: what `.arrow` and Feather v2 files are, and what
 * pyarrow.feather reads. The types are explicit: flechette infers them from typed arrays, but not
 * from empty ones (it fails on an empty log), and explicit types keep the schema whatever the data.
 */
async function writeArrowLog<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, path: string, logged: Log, truth: boolean): Promise<void> {
  const table = logToTable(schema, logged, truth);
  const types: Record<string, DataType> = {};
  for (const { name, type } of schema.columns(logged.propensity !== undefined, truth)) types[name] = ARROW_TYPES[type]();
  await writeFile(path, toArrowIPC(table, { format: 'file', types }));
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

/** What both text parsers keep: the line count for messages, the builder (made at line 1) and a row's values by role. */
abstract class TextParser<Log extends LoggedRows, Names extends FoundColumns, Mapping> implements LineParser {
  protected lineNumber = 0;
  protected builder: RowBuilder<Log> | null = null;
  protected readonly values: Float64Array;

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
    if (this.builder === null) {
      this.header(b, start, end);
      return;
    }
    const { values } = this;
    csvNumbers(b, start, end, this.roles, this.columns, values, this.fail, this.context.ids ?? undefined);
    this.builder.add(values);
  }

  finish(): Log {
    if (this.builder === null) throw new DataFormatError(this.file, null, 'expected a header line, found an empty file');
    return this.builder.finish();
  }

  private header(b: Buffer, start: number, end: number): void {
    const { schema, context } = this;
    const columns = csvHeader(b, start, end, this.fail);
    const names = schema.resolve(columns, this.file, context.truth, context.columns);
    this.roles = csvRoles(columns, schema.roleNames(names), this.fail);
    this.columns = columns;
    this.builder = schema.builder(names, { file: this.file, unit: 'line', first: 2 });
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
    const object = jsonObject(b, start, end, this.fail);
    const { schema, context } = this;
    if (this.builder === null) {
      const names = schema.resolve(Object.keys(object), this.file, context.truth, context.columns);
      this.keys = schema.roleNames(names);
      if (names.pscore === null) this.absentPscore = schema.pscoreNames;
      this.builder = schema.builder(names, { file: this.file, unit: 'line', first: 1 });
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
    if (this.builder !== null) return this.builder.finish();
    const { schema, file } = this;
    const truth = this.context.truth;
    const names = schema.resolve(
      schema.columns(false, truth).map((column) => column.name),
      file,
      truth,
    );
    return schema.builder(names, { file, unit: 'line', first: 1 }).finish();
  }
}

async function readArrow<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, path: string, context: ReadContext<Mapping>): Promise<Log> {
  const bytes = await readFile(path);
  let table: ColumnTable;
  try {
    // 64-bit integers as bigint, so that one beyond 2^53 is reported at its row, not thrown by the decoder.
    table = fromArrow(bytes, { useBigInt: true });
  } catch (error) {
    throw new DataFormatError(path, null, `expected Arrow IPC data (file or stream format), found bytes that do not decode (${(error as Error).message})`);
  }
  const source: LogSource<Mapping> = { source: path, ...context };
  return logFromTable(schema, table, source);
}

/** Decodes and validates one row group at a time, so the file's columns are never all in memory. */
async function readParquet<Log extends LoggedRows, Names extends FoundColumns, Mapping>(schema: LogSchema<Log, Names, Mapping>, path: string, context: ReadContext<Mapping>): Promise<Log> {
  const file = await asyncBufferFromFile(path); // a missing file stays a plain ENOENT
  const notParquet = (error: unknown): DataFormatError => new DataFormatError(path, null, `expected a Parquet file, found data that does not decode (${(error as Error).message})`);
  let scan: ParquetScan;
  try {
    scan = await parquetScan({ file });
  } catch (error) {
    throw notParquet(error);
  }
  const available = parquetSchema(scan.metadata).children.map((child) => child.element.name);
  const names = schema.resolve(available, path, context.truth, context.columns);
  const at: RowNumbering = { file: path, unit: 'row', first: 1 };
  const builder = schema.builder(names, at, Number(scan.metadata.num_rows));
  const wanted = schema.roleNames(names);
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
    addColumnRows(builder, wanted, values, range.rowEnd - range.rowStart, context.ids);
  }
  return builder.finish();
}
