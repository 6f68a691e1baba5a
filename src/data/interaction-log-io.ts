/**
 * Recommender interaction logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and
 * Parquet, with the columns of interaction-log-table.ts (`user_id`, `item_id`, `click`, optional
 * `pscore`, `truth_*` only when asked for).
 *
 * The machinery is the click logs' (click-log-io.ts), shared rather than copied: the same line
 * streaming, CSV and JSON tokenising, shortest-float32 decimals, Parquet row groups and Arrow types,
 * so the two kinds of log behave alike. CSV, JSON Lines and Parquet are streamed
 * (`InteractionLogWriter` appends chunks of users at constant memory; readers parse line by line or
 * row group by row group); Arrow is written and read whole through arquero.
 *
 * Every reader feeds the same validating `InteractionLogBuilder`: a `DataFormatError` names the
 * file and the line (CSV, JSONL) or 1-based data row (Arrow, Parquet), and says what was expected
 * and what was found. A write and a read give back typed arrays equal byte for byte.
 */
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { float32, int32, uint8, type DataType } from '@uwdata/flechette';
import { fromArrow, toArrowIPC, type ColumnTable } from 'arquero';
import { asyncBufferFromFile, parquetSchema, parquetScan, type ParquetScan } from 'hyparquet';
import { fileWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { ConfigError, DataFormatError } from '../core/errors.js';
import {
  csvHeader,
  csvNumbers,
  csvRoles,
  Float32Formatter,
  formatFloat32,
  forEachLine,
  jsonObject,
  logFormatOf,
  PARQUET_ROW_GROUP,
  TEXT_BLOCK_ROWS,
  type ClickLogFormat,
  type LineFail,
  type LineParser,
} from './click-log-io.js';
import { describeValue, type ColumnValues, type RowNumbering } from './click-log-table.js';
import {
  addInteractionRows,
  checkLoggedInteractions,
  INTERACTION_LOG_COLUMNS,
  INTERACTION_ROLES,
  InteractionLogBuilder,
  interactionLogFromTable,
  interactionLogToTable,
  interactionRoleNames,
  resolveInteractionLogColumns,
  type LoggedInteractions,
} from './interaction-log-table.js';

/** The same four formats as click logs. */
export type InteractionLogFormat = ClickLogFormat;

export interface InteractionLogWriteOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: InteractionLogFormat;
  /** Write the hidden `truth_*` columns (default false); every chunk must then carry its truth. */
  readonly truth?: boolean;
}

export interface InteractionLogReadOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: InteractionLogFormat;
  /** Read the `truth_*` columns (default false), which must then be in the file. */
  readonly truth?: boolean;
}

/** The format a file name implies: `.csv`, `.jsonl`, `.arrow` or `.feather` (Arrow IPC), `.parquet`. */
export function interactionLogFormatOf(path: string): InteractionLogFormat {
  return logFormatOf(path, 'interaction-log');
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The header line or the key names of the text formats, in the order clicklab writes columns. */
function textColumns(pscore: boolean, truth: boolean): string[] {
  const C = INTERACTION_LOG_COLUMNS;
  const names: string[] = [C.user, C.item, C.click];
  if (pscore) names.push(C.pscore);
  if (truth) names.push(C.exposureProbability, C.preferenceProbability);
  return names;
}

/** Where chunks go; the columns are fixed by the first chunk (or by none, at close). */
interface ChunkSink {
  write(chunk: LoggedInteractions, pscore: boolean): Promise<void>;
  close(pscore: boolean): Promise<void>;
}

class TextSink implements ChunkSink {
  private started = false;
  /**
   * θ takes one value per item and repeats on every row of that item, so it is memoised; preference
   * probabilities are nearly all distinct, where a memo only costs (about a quarter more time).
   */
  private readonly exposureFloats = new Float32Formatter();
  /** For JSON Lines: `{"user_id":`, `,"item_id":`, ... (one prefix per column). */
  private prefixes: string[] = [];

  constructor(
    private readonly handle: FileHandle,
    private readonly format: 'csv' | 'jsonl',
    private readonly truth: boolean,
  ) {}

  async write(chunk: LoggedInteractions, pscore: boolean): Promise<void> {
    await this.start(pscore);
    const { log, propensity } = chunk;
    const truth = this.truth ? chunk.truth! : null;
    const csv = this.format === 'csv';
    const p = this.prefixes;
    const theta = this.exposureFloats;
    let text = '';
    let rowsInText = 0;
    for (let row = 0; row < log.user.length; row++) {
      if (csv) {
        text += `${log.user[row]},${log.item[row]},${log.click[row]}`;
        if (propensity !== undefined) text += `,${theta.format(propensity[row])}`;
        if (truth !== null) text += `,${theta.format(truth.exposureProbability[row])},${formatFloat32(truth.preferenceProbability[row])}`;
        text += '\n';
      } else {
        text += `${p[0]}${log.user[row]}${p[1]}${log.item[row]}${p[2]}${log.click[row]}`;
        let k = 3;
        if (propensity !== undefined) text += `${p[k++]}${theta.format(propensity[row])}`;
        if (truth !== null) text += `${p[k]}${theta.format(truth.exposureProbability[row])}${p[k + 1]}${formatFloat32(truth.preferenceProbability[row])}`;
        text += '}\n';
      }
      if (++rowsInText === TEXT_BLOCK_ROWS) {
        await this.handle.write(text);
        text = '';
        rowsInText = 0;
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
    if (this.format === 'csv') await this.handle.write(`${names.join(',')}\n`);
    else this.prefixes = names.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  }
}

class ParquetSink implements ChunkSink {
  private writer: ParquetWriter | null = null;

  constructor(
    private readonly path: string,
    private readonly truth: boolean,
  ) {}

  async write(chunk: LoggedInteractions, pscore: boolean): Promise<void> {
    const { log, propensity } = chunk;
    const C = INTERACTION_LOG_COLUMNS;
    const columnData: ColumnSource[] = [
      { name: C.user, data: log.user },
      { name: C.item, data: log.item },
      { name: C.click, data: log.click },
    ];
    if (propensity !== undefined) columnData.push({ name: C.pscore, data: propensity });
    if (this.truth) {
      columnData.push(
        { name: C.exposureProbability, data: chunk.truth!.exposureProbability },
        { name: C.preferenceProbability, data: chunk.truth!.preferenceProbability },
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
    const C = INTERACTION_LOG_COLUMNS;
    const int = (name: string): SchemaElement => ({ name, type: 'INT32', repetition_type: 'REQUIRED' });
    const float = (name: string): SchemaElement => ({ name, type: 'FLOAT', repetition_type: 'REQUIRED' });
    const columns = [int(C.user), int(C.item), int(C.click)];
    if (pscore) columns.push(float(C.pscore));
    if (this.truth) columns.push(float(C.exposureProbability), float(C.preferenceProbability));
    const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns];
    this.writer = new ParquetWriter({ writer: fileWriter(this.path), schema, createdBy: 'clicklab' });
    return this.writer;
  }
}

/**
 * Writes an interaction log to CSV, JSON Lines or Parquet a chunk of users at a time, so that a log
 * larger than memory can be simulated and written piece by piece. Rows are written as they come:
 * chunks must not repeat a user of an earlier chunk (except that the last user of one chunk may
 * continue at the start of the next), or the file will not read back. Whether the file has `pscore`
 * is fixed by the first chunk; later chunks must agree. Each Parquet `write` becomes its own row
 * group(s) of at most 2^20 rows. Arrow has no streaming writer: use `writeInteractionLog`.
 *
 *     const writer = await InteractionLogWriter.open('interactions.parquet');
 *     await simulateRecommenderLog(spec, rng, (chunk) => writer.write(chunk));
 *     await writer.close();
 */
export class InteractionLogWriter {
  private rowCount = 0;
  private pscore: boolean | null = null;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly sink: ChunkSink,
    private readonly truth: boolean,
  ) {}

  static async open(path: string, options: InteractionLogWriteOptions = {}): Promise<InteractionLogWriter> {
    const format = options.format ?? interactionLogFormatOf(path);
    const truth = options.truth === true;
    if (format === 'csv' || format === 'jsonl') {
      return new InteractionLogWriter(path, new TextSink(await open(path, 'w'), format, truth), truth);
    }
    if (format === 'parquet') {
      await writeFile(path, ''); // fail here, not at the first chunk, when the path cannot be written
      return new InteractionLogWriter(path, new ParquetSink(path, truth), truth);
    }
    throw new ConfigError('format', `InteractionLogWriter streams csv, jsonl and parquet, not ${format}: write Arrow files whole with writeInteractionLog`);
  }

  /** Rows written so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Appends the rows of `chunk`, after checking that they will read back as they are. */
  async write(chunk: LoggedInteractions): Promise<void> {
    if (this.closed) throw new Error(`InteractionLogWriter(${this.path}): write after close`);
    checkLoggedInteractions(chunk, this.truth);
    const pscore = chunk.propensity !== undefined;
    this.pscore ??= pscore;
    if (pscore !== this.pscore) {
      throw new RangeError(`cannot write the interaction log to ${this.path}: the first chunk ${this.pscore ? 'had' : 'had no'} propensities, this one ${pscore ? 'has' : 'has none'}`);
    }
    await this.sink.write(chunk, pscore);
    this.rowCount += chunk.log.user.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.close(this.pscore ?? false);
  }
}

/** Explicit Arrow types: flechette cannot infer a type from an empty array, and these keep the schema fixed. */
function arrowTypes(table: ColumnTable): Record<string, DataType> {
  const C = INTERACTION_LOG_COLUMNS;
  const floats = new Set<string>([C.pscore, C.exposureProbability, C.preferenceProbability]);
  const types: Record<string, DataType> = {};
  for (const name of table.columnNames()) types[name] = name === C.click ? uint8() : floats.has(name) ? float32() : int32();
  return types;
}

/** Writes a whole interaction log in the format of the file's extension (or `options.format`). */
export async function writeInteractionLog(path: string, logged: LoggedInteractions, options: InteractionLogWriteOptions = {}): Promise<void> {
  const format = options.format ?? interactionLogFormatOf(path);
  if (format === 'arrow') {
    // The IPC file format: what `.arrow` and Feather v2 files are, and what pyarrow.feather reads.
    const table = interactionLogToTable(logged, { truth: options.truth });
    await writeFile(path, toArrowIPC(table, { format: 'file', types: arrowTypes(table) }));
    return;
  }
  checkLoggedInteractions(logged, options.truth === true); // before the file is created
  const writer = await InteractionLogWriter.open(path, { ...options, format });
  try {
    await writer.write(logged);
  } finally {
    await writer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads an interaction log in the format of the file's extension (or `options.format`), validating every row. */
export async function readInteractionLog(path: string, options: InteractionLogReadOptions = {}): Promise<LoggedInteractions> {
  const format = options.format ?? interactionLogFormatOf(path);
  const truth = options.truth === true;
  switch (format) {
    case 'csv':
    case 'jsonl': {
      const parser = format === 'csv' ? new CsvParser(path, truth) : new JsonLinesParser(path, truth);
      await forEachLine(path, parser);
      return parser.finish();
    }
    case 'arrow':
      return readArrow(path, truth);
    case 'parquet':
      return readParquet(path, truth);
  }
}

/**
 * CSV with a header line, quoted fields allowed within a line; columns that are not part of an
 * interaction log (a timestamp, a rating) are skipped unread.
 */
class CsvParser implements LineParser {
  private lineNumber = 0;
  private builder: InteractionLogBuilder | null = null;
  private roles: Int8Array = new Int8Array(0);
  private columns: string[] = [];
  private readonly values = new Float64Array(INTERACTION_ROLES);

  constructor(
    private readonly file: string,
    private readonly truth: boolean,
  ) {}

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (this.builder === null) {
      this.columns = csvHeader(b, start, end, this.fail);
      const names = resolveInteractionLogColumns(this.columns, this.file, this.truth);
      this.roles = csvRoles(this.columns, interactionRoleNames(names), this.fail);
      this.builder = new InteractionLogBuilder(names, { file: this.file, unit: 'line', first: 2 });
      return;
    }
    const v = this.values;
    csvNumbers(b, start, end, this.roles, this.columns, v, this.fail);
    this.builder.add(v[0], v[1], v[2], v[3], v[4], v[5]);
  }

  finish(): LoggedInteractions {
    if (this.builder === null) throw new DataFormatError(this.file, null, 'expected a header line, found an empty file');
    return this.builder.finish();
  }

  private readonly fail: LineFail = (problem) => {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  };
}

/**
 * JSON Lines: one object per line, columns as keys. The first line fixes the keys: a later line
 * lacking one of them, or bringing a `pscore` the first did not have, is an error. Values must be
 * JSON numbers (`"1"`, `true` or `null` are errors, not conversions).
 */
class JsonLinesParser implements LineParser {
  private lineNumber = 0;
  private builder: InteractionLogBuilder | null = null;
  private keys: (string | null)[] = [];
  /** Whether line 1 had no propensity, so that a later line bringing one is caught. */
  private pscoreAbsent = false;
  private readonly values = new Float64Array(INTERACTION_ROLES);

  constructor(
    private readonly file: string,
    private readonly truth: boolean,
  ) {}

  line(b: Buffer, start: number, end: number): void {
    this.lineNumber++;
    const object = jsonObject(b, start, end, this.fail);
    if (this.builder === null) {
      const names = resolveInteractionLogColumns(Object.keys(object), this.file, this.truth);
      this.keys = interactionRoleNames(names);
      this.pscoreAbsent = names.pscore === null;
      this.builder = new InteractionLogBuilder(names, { file: this.file, unit: 'line', first: 1 });
    }
    const { keys, values } = this;
    for (let role = 0; role < INTERACTION_ROLES; role++) {
      const key = keys[role];
      if (key === null) {
        values[role] = NaN;
        continue;
      }
      const value = object[key];
      if (typeof value !== 'number') {
        this.fail(value === undefined ? `expected the key '${key}' (as on line 1), found none` : `expected a number for '${key}', found ${describeValue(value)}`);
      }
      values[role] = value;
    }
    if (this.pscoreAbsent && INTERACTION_LOG_COLUMNS.pscore in object) {
      this.fail(`expected no '${INTERACTION_LOG_COLUMNS.pscore}' (line 1 has none), found one`);
    }
    this.builder.add(values[0], values[1], values[2], values[3], values[4], values[5]);
  }

  /** An empty file is an empty log (JSON Lines has no header to require), as `writeInteractionLog` writes one. */
  finish(): LoggedInteractions {
    if (this.builder !== null) return this.builder.finish();
    const names = resolveInteractionLogColumns(textColumns(false, this.truth), this.file, this.truth);
    return new InteractionLogBuilder(names, { file: this.file, unit: 'line', first: 1 }).finish();
  }

  private readonly fail: LineFail = (problem) => {
    throw new DataFormatError(this.file, this.lineNumber, problem);
  };
}

async function readArrow(path: string, truth: boolean): Promise<LoggedInteractions> {
  const bytes = await readFile(path);
  let table: ColumnTable;
  try {
    // 64-bit integers as bigint, so that one beyond 2^53 is reported at its row, not thrown by the decoder.
    table = fromArrow(bytes, { useBigInt: true });
  } catch (error) {
    throw new DataFormatError(path, null, `expected Arrow IPC data (file or stream format), found bytes that do not decode (${(error as Error).message})`);
  }
  return interactionLogFromTable(table, { source: path, truth });
}

/** Decodes and validates one row group at a time, so the file's columns are never all in memory. */
async function readParquet(path: string, truth: boolean): Promise<LoggedInteractions> {
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
  const names = resolveInteractionLogColumns(available, path, truth);
  const at: RowNumbering = { file: path, unit: 'row', first: 1 };
  const builder = new InteractionLogBuilder(names, at, Number(scan.metadata.num_rows));
  const wanted = interactionRoleNames(names);
  for (const range of scan.ranges) {
    const columns: (ColumnValues | null)[] = [];
    for (const column of wanted) {
      if (column === null) {
        columns.push(null);
        continue;
      }
      try {
        columns.push(await scan.readColumn({ column, ...range }));
      } catch (error) {
        throw notParquet(error);
      }
    }
    addInteractionRows(builder, names, columns, range.rowEnd - range.rowStart);
  }
  return builder.finish();
}
