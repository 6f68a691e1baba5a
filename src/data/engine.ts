/**
 * The embedded analytical engine for click logs: an in-process DuckDB (`@duckdb/node-api`) that
 * reads a log given as a file (Parquet, CSV, gzipped CSV), a folder of partitions or a glob, out of
 * core (`memory_limit`, spilling to a temporary folder), and hands it over either as a stream of
 * clicklab `ClickLog` batches (bounded memory: whole sessions, about `batchRows` rows each), as the
 * cascade family's distinct session groups, or as query results for the modules that aggregate in SQL
 * (data/count-classes.ts: PBM's and UBM's counts).
 *
 * The log has clicklab's click-log columns (`session`, `query`, `item_id`, 1-based `position`,
 * `click`) or others named by role (`columns`). Sessions are told apart by file and session id, so
 * partitions that each number their sessions from 0 (what `clicklab simulate` writes) do not collide.
 * Query and document ids are integers in [0, 2^31 − 1], or text numbered in DuckDB (`ids`, engine-ids.ts).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk, type DuckDBVector } from '@duckdb/node-api';
import { ClickLabError, ConfigError } from '../core/errors.js';
import { PendingFile } from '../core/files.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { randomStream } from '../core/random.js';
import type { ClickLog } from '../core/types.js';
import type { ClickLogColumnMapping } from './click-log-table.js';
import { type EngineIds, type IdColumns, idSql, TextIds, textColumn } from './engine-ids.js';
import { ColumnAppender, type ParquetColumn, type ParquetColumnSpec } from './engine-parquet.js';
import { identifier, literal, partOf } from './sql-text.js';

export interface EngineOptions {
  /** DuckDB's memory limit (default '1GB'); beyond it, sorts and aggregations spill to `tempDirectory`. */
  readonly memoryLimit?: string;
  /** Where DuckDB spills (default a fresh folder under the OS temporary folder, removed on close). */
  readonly tempDirectory?: string;
  /** DuckDB worker threads (default one per core the process may use). */
  readonly threads?: number;
}

export interface EngineLogOptions {
  /** The log's column names by role (default clicklab's). A session column is required. */
  readonly columns?: ClickLogColumnMapping;
  /** Reports rows (batches) or the stages of an aggregation (default silent). */
  readonly progress?: Progress;
  /** Query and document ids: 'integer' (default), 'text', or 'auto' (text where the column is not an integer type); see engine-ids.ts. */
  readonly ids?: EngineIds;
  /** Slots aggregated per pass over the log (default `SLOTS_PER_PASS`; tests use fewer to cover several passes). */
  readonly slotsPerPass?: number;
}

/** An interaction log reduced to what the implicit recommenders read (`LogEngine.interactionPairs`). */
export interface InteractionPairs {
  readonly rows: number;
  readonly maxUser: number;
  readonly maxItem: number;
  /** The distinct clicked pairs, in order of first appearance. */
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** θ_i per item from the pscore column (0 for an item never logged), or null without one. */
  readonly theta: Float32Array | null;
}

/** A click log's shape as `LogEngine.clickSummary` counts it. */
export interface ClickLogSummary {
  readonly sessions: number;
  readonly rows: number;
  readonly clicks: number;
  /** Results of the longest session. */
  readonly longest: number;
  /** Sessions with at least one click. */
  readonly clicked: number;
  /** Sessions of two or more results with both a clicked and an unclicked one. */
  readonly contrasted: number;
  readonly minQuery: number;
  readonly maxQuery: number;
  readonly minItem: number;
  readonly maxItem: number;
}

const GLOB = /[*?[]/;

/** Whether a log input is a glob (its files are the ones DuckDB's glob matches). */
export function isGlob(input: string): boolean {
  return GLOB.test(input);
}

/** Whether a log input is one only the engine reads (and the streaming paths stream): a folder of partitions or a glob. */
export function isPartitionedLog(input: string): boolean {
  if (GLOB.test(input)) return true;
  try {
    return statSync(input).isDirectory();
  } catch {
    return false;
  }
}

let tableSerial = 0;

/**
 * The DuckDB table function that reads `input`: a file, a folder of partitions (Parquet, or else CSV) or a glob.
 * CSV columns named in `text` are read as VARCHAR (DuckDB's sniffer would take a column of numbers
 * in its first 20,480 rows for integers and fail on a text id after them).
 */
export function logSourceSql(input: string, option = '--log', text: readonly string[] = []): string {
  let pattern = input;
  if (!GLOB.test(input)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(input).isDirectory();
    } catch {
      throw new ConfigError(option, `expected a file, a folder of partitions or a glob, found no file or folder '${input}'`);
    }
    if (isFolder) {
      const files = readdirSync(input, { recursive: true }).map(String);
      const parquet = files.some((f) => /\.parquet$/i.test(f));
      if (!parquet && !files.some((f) => CSV.test(f))) throw new ConfigError(option, `expected Parquet or CSV partitions in the folder '${input}', found none`);
      pattern = join(input, '**', parquet ? '*.parquet' : '*.csv*');
    }
  }
  if (/\.parquet$/i.test(pattern)) return `(SELECT *, file_index AS clicklab_file_index FROM read_parquet(${literal(pattern)}, filename = true, union_by_name = true))`;
  if (CSV.test(pattern) || pattern.endsWith('*.csv*'))
    return `(SELECT *, file_index AS clicklab_file_index FROM read_csv(${literal(pattern)}, header = true, comment = '#', filename = true, union_by_name = true${text.length > 0 ? `, types = {${text.map((c) => `${literal(c)}: 'VARCHAR'`).join(', ')}}` : ''}))`;
  throw new ConfigError(option, `expected a .parquet, .csv or .csv.gz file, a folder of partitions or a glob of those, found '${input}'`);
}

const CSV = /\.(csv|tsv)(\.gz|\.zst)?$/i;

interface Roles extends IdColumns {
  readonly session: string;
  readonly position: string;
  readonly click: string;
}

function rolesOf(columns: ClickLogColumnMapping | undefined): Roles {
  const c = columns ?? {};
  if (c.session === null) throw new ConfigError('--columns', 'expected a session column for the engine (logs without one are read in memory), found session=');
  return { session: c.session ?? 'session', query: c.query ?? 'query', item: c.item ?? 'item_id', position: c.position ?? 'position', click: c.click ?? 'click' };
}

/** The log as (f: file, s: session, q, d, k: 0-based rank, c: 0/1). */
function slotsSql(input: string, roles: Roles): string {
  const ids = idSql(logSourceSql(input, '--log', roles.textColumns), roles);
  return `SELECT filename AS f, CAST(clicklab_file_index AS INTEGER) AS fi, CAST(${identifier(roles.session)} AS DOUBLE) AS s, ${ids.query} AS q, ${ids.item} AS d,
    CAST(${identifier(roles.position)} AS INTEGER) - 1 AS k, CAST(CAST(${identifier(roles.click)} AS DOUBLE) > 0 AS INTEGER) AS c FROM ${ids.from}`;
}

/** An in-process DuckDB for click logs (`close` it: that ends DuckDB and removes its default temporary folder). */
export class LogEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly ownTemp: string | null,
  ) {
    this.textIds = new TextIds(connection);
  }

  /** The dictionaries of text query and document ids (engine-ids.ts). */
  private readonly textIds: TextIds;

  /** A log's column roles, its id columns checked (and with text ids, numbered in the engine's dictionaries). */
  private async rolesFor(input: string, options: EngineLogOptions): Promise<Roles> {
    const roles = rolesOf(options.columns);
    // --ids text: CSV id columns read as VARCHAR, whatever DuckDB's sniffer makes of them.
    const columns: Roles = options.ids === 'text' ? { ...roles, textColumns: [roles.query, roles.item] } : roles;
    return { ...columns, ...(await this.textIds.prepare(input, logSourceSql(input, '--log', columns.textColumns), columns, options.ids)) };
  }

  /**
   * The slots of a log as SQL: (f: file index, s: session, q, d: dense ids, k: 0-based rank, c: 0/1),
   * text ids numbered through the engine's dictionaries (data/engine-ids.ts).
   */
  async slots(input: string, options: EngineLogOptions = {}): Promise<string> {
    return slotsFromSql(input, await this.rolesFor(input, options));
  }

  /** The dictionary table (clicklab_text, clicklab_id) of a role read with text ids so far, or null: SQL can join it. */
  idDictionary(role: 'query' | 'item'): string | null {
    return this.textIds.table(role);
  }

  /** The text behind each id of the logs read with text ids so far (index = id; null for integer ids). */
  async idTexts(): Promise<{ readonly query: string[] | null; readonly item: string[] | null }> {
    return this.textIds.texts();
  }

  static async open(options: EngineOptions = {}): Promise<LogEngine> {
    const ownTemp = options.tempDirectory === undefined ? mkdtempSync(join(tmpdir(), 'clicklab-duckdb-')) : null;
    const config: Record<string, string> = { memory_limit: options.memoryLimit ?? '1GB', temp_directory: options.tempDirectory ?? ownTemp! };
    config.threads = String(options.threads ?? Math.max(1, availableParallelism()));
    const instance = await DuckDBInstance.create(':memory:', config);
    return new LogEngine(instance, await instance.connect(), ownTemp);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.ownTemp) rmSync(this.ownTemp, { recursive: true, force: true });
  }

  /** Runs SQL for its effect (e.g. COPY ... TO a Parquet file). */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** DuckDB's memory limit in bytes, as it reports it (e.g. "953.6 MiB" for 1GB). */
  async memoryLimit(): Promise<number> {
    const [[text]] = await this.rows("SELECT current_setting('memory_limit')");
    const m = /^([\d.]+)\s*(bytes|[KMGTP]i?B)?$/i.exec(String(text).trim());
    if (m === null) throw new ClickLabError(`DuckDB reported its memory limit as ${JSON.stringify(text)}, not a size`);
    const unit = (m[2] ?? 'bytes').toUpperCase();
    const power = unit === 'BYTES' ? 0 : 'KMGTP'.indexOf(unit[0]) + 1;
    return Number(m[1]) * (unit.includes('I') ? 1024 : 1000) ** power;
  }

  /** Sets DuckDB's memory limit (bytes, rounded down to whole MiB). */
  async setMemoryLimit(bytes: number): Promise<void> {
    await this.run(`SET memory_limit = '${Math.floor(bytes / 2 ** 20)}MiB'`);
  }

  /** One row of numbers (a count, a sum). */
  async numbers(sql: string): Promise<number[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRows()[0].map((v) => Number(v));
  }

  /**
   * The log as ClickLog batches of whole sessions, in (file, session, rank) order, each batch about
   * `batchRows` rows (default 2^20): memory stays bounded by a batch and DuckDB's limit, whatever the log's length.
   */
  async *batches(input: string, options: EngineLogOptions & { readonly batchRows?: number; readonly shuffleSeed?: number } = {}): AsyncGenerator<ClickLog> {
    const roles = await this.rolesFor(input, options);
    const progress = options.progress ?? silentProgress;
    const batchRows = options.batchRows ?? 1 << 20;
    // A shuffle seed orders the sessions of each file by a hash of (session, seed) instead of by id: the
    // same sort DuckDB does anyway, so a seeded random session order within a partition costs nothing more.
    const seed = options.shuffleSeed;
    if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31)) throw new RangeError(`shuffleSeed: expected an integer in [0, 2^31), found ${seed}`);
    const order = seed === undefined ? 'f, s, k' : `f, hash(s, ${seed}), s, k`;
    // Rows come in file-name order; a file is told apart by its integer index (no string per row).
    const result = await this.connection.stream(`SELECT fi, s, q, d, k, c FROM (${slotsSql(input, roles)}) ORDER BY ${order}`);
    let builder = new BatchBuilder(batchRows);
    let rows = 0;
    progress.start(`reading ${input}`, 0);
    let prevF = -1;
    let prevS = Number.NaN;
    // The next chunk is asked for before this one is read, so DuckDB decodes it while JS works (e.g.
    // while a streamed learner trains on the sessions already read).
    // A consumer that stops early (training ends mid-epoch) leaves the request pending: its failure
    // once the engine closes is nobody's error.
    const ask = (): Promise<DuckDBDataChunk | null> => {
      const request = result.fetchChunk();
      request.catch(() => {});
      return request;
    };
    let next = ask();
    const started = performance.now();
    for (;;) {
      const chunk: DuckDBDataChunk | null = await next;
      if (chunk === null || chunk.rowCount === 0) break;
      next = ask();
      const n = chunk.rowCount;
      // The columns as the typed arrays under DuckDB's vectors where it exposes them (a value read per
      // row through getItem costs more than the rest of the loop).
      const [f, s, q, d, k, c] = [0, 1, 2, 3, 4, 5].map((col) => numericColumn(chunk.getColumnVector(col), n));
      for (let i = 0; i < n; i++) {
        if (s[i] !== prevS || f[i] !== prevF) {
          if (builder.rows >= batchRows) {
            yield builder.finish();
            builder = new BatchBuilder(batchRows);
          }
          builder.startSession(q[i]);
          prevF = f[i];
          prevS = s[i];
        }
        builder.add(d[i], k[i], c[i]);
      }
      rows += n;
      progress.update(rows, `${Math.round(rows / Math.max((performance.now() - started) / 1000, 1e-9)).toLocaleString('en-US')} rows/s`);
    }
    progress.finish();
    if (builder.rows > 0) yield builder.finish();
  }

  /**
   * Epoch `epoch` of a log given as its `files` (`files(input)`), for a training stream: the files in
   * a random order seeded by (seed, epoch), each file's sessions in a random order seeded by (seed,
   * epoch, file) (a hash of the session id, so the order is that of the file's sort, at no extra
   * cost), as batches of whole sessions (about `batchRows` rows). Memory: one batch and DuckDB's limit.
   */
  async *shuffledBatches(files: readonly string[], epoch: number, seed: number | string, options: EngineLogOptions & { readonly batchRows?: number } = {}): AsyncGenerator<ClickLog> {
    const rng = randomStream(seed).derive('epoch', epoch);
    const order = rng.shuffle(Array.from(files, (_, i) => i));
    for (const i of order) {
      yield* this.batches(files[i], { ...options, shuffleSeed: rng.derive('file', i).int(2 ** 31) });
    }
  }

  /**
   * What a recommender learns from an interaction log (`user_id`, `item_id`, `click`[, `pscore`];
   * also `user`, `item`, `reward`), in one pass that keeps no row: the distinct clicked (user, item)
   * pairs in order of first appearance (files in path order, each in its row order), the largest
   * ids, and with a pscore column θ_i per item (the first pscore of the item's rows; every other row
   * of the item must agree within 1e-6). Memory: the clicked pairs and the items, not the rows.
   */
  async interactionPairs(input: string, option = '--data'): Promise<InteractionPairs> {
    const files = await this.files(input, option);
    const users: number[] = [];
    const items: number[] = [];
    const seen = new Map<number, Set<number>>();
    const theta: number[] = [];
    let maxUser = -1;
    let maxItem = -1;
    let rows = 0;
    let hasPscore: boolean | null = null;
    for (const file of files) {
      const source = logSourceSql(file, option);
      const names = (await this.connection.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`)).columnNames();
      const pick = (...candidates: string[]) => candidates.find((c) => names.includes(c));
      const user = pick('user_id', 'user');
      const item = pick('item_id', 'item');
      const click = pick('click', 'reward');
      if (user === undefined || item === undefined || click === undefined) {
        throw new ConfigError(file, `expected the interaction-log columns user_id, item_id and click (or user, item, reward), found ${names.filter((n) => !n.startsWith('clicklab_')).join(', ')}`);
      }
      const pscore = names.includes('pscore');
      if (hasPscore !== null && hasPscore !== pscore) throw new ConfigError(file, `expected every file ${hasPscore ? 'with' : 'without'} a pscore column, as ${files[0]}`);
      hasPscore = pscore;
      // A plain scan keeps the file's row order (DuckDB preserves insertion order), which first appearance needs.
      const result = await this.connection.stream(
        `SELECT CAST(${identifier(user)} AS DOUBLE), CAST(${identifier(item)} AS DOUBLE), CAST(${identifier(click)} AS DOUBLE), ${pscore ? 'CAST(pscore AS DOUBLE)' : '1.0'} FROM ${source}`,
      );
      let row = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        const [u, i, c, p] = [0, 1, 2, 3].map((k) => chunk.getColumnVector(k));
        for (let r = 0; r < chunk.rowCount; r++, row++) {
          const uu = u.getItem(r) as number;
          const ii = i.getItem(r) as number;
          const cc = c.getItem(r) as number;
          const pp = p.getItem(r) as number;
          const fail = (problem: string): never => {
            throw new ConfigError(file, `row ${row + 1}: ${problem}`);
          };
          if (!(Number.isInteger(uu) && uu >= 0 && uu < 2 ** 31)) fail(`expected a user id in [0, 2^31 − 1], found ${uu}`);
          if (!(Number.isInteger(ii) && ii >= 0 && ii < 2 ** 31)) fail(`expected an item id in [0, 2^31 − 1], found ${ii}`);
          if (cc !== 0 && cc !== 1) fail(`expected a click of 0 or 1, found ${cc}`);
          if (pscore) {
            if (!(pp > 0 && pp <= 1)) fail(`expected a pscore in (0, 1], found ${pp}`);
            if (theta[ii] === undefined) theta[ii] = pp;
            else if (Math.abs(theta[ii] - pp) > 1e-6) fail(`expected one exposure propensity per item, found ${theta[ii]} and ${pp} for item ${ii}: use estimated propensities`);
          }
          if (uu > maxUser) maxUser = uu;
          if (ii > maxItem) maxItem = ii;
          if (cc === 1) {
            let clicked = seen.get(uu);
            if (clicked === undefined) seen.set(uu, (clicked = new Set()));
            if (!clicked.has(ii)) {
              clicked.add(ii);
              users.push(uu);
              items.push(ii);
            }
          }
        }
      }
      rows += row;
    }
    return {
      rows,
      maxUser,
      maxItem,
      user: Int32Array.from(users),
      item: Int32Array.from(items),
      theta: hasPscore ? Float32Array.from({ length: maxItem + 1 }, (_, i) => theta[i] ?? 0) : null,
    };
  }

  /**
   * The files a log input names, in path order: the file itself, a folder's Parquet (or else CSV)
   * partitions, or the files a glob matches (DuckDB's glob). Streaming learners read them one at a time.
   */
  async files(input: string, option = '--log'): Promise<string[]> {
    const source = logSourceSql(input, option);
    const pattern = /read_(?:parquet|csv)\('((?:[^']|'')*)'/.exec(source)![1].replaceAll("''", "'");
    const files = await this.glob(pattern);
    if (files.length === 0) throw new ConfigError(option, `expected at least one file matching '${input}', found none`);
    return files;
  }

  /** The files a glob matches, in path order (DuckDB's glob: `*`, `?`, `[...]`, `**` for any folders). */
  async glob(pattern: string): Promise<string[]> {
    const reader = await this.connection.runAndReadAll(`SELECT file FROM glob(${literal(pattern)}) ORDER BY file`);
    return reader.getRows().map((row) => String(row[0]));
  }

  /** The rows of a small result (a schema, a count), as DuckDB values. */
  async rows(sql: string): Promise<unknown[][]> {
    return (await this.connection.runAndReadAll(sql)).getRows();
  }

  /**
   * The result of `sql` as DuckDB data chunks, for readers that decode their own columns (see
   * `numericColumn`); the next chunk is asked for before this one is handed over, so DuckDB reads
   * while JS works.
   */
  async *chunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.connection.stream(sql);
    const ask = (): Promise<DuckDBDataChunk | null> => {
      const request = result.fetchChunk();
      request.catch(() => {}); // a consumer that stops early leaves it pending: its failure once the engine closes is nobody's error
      return request;
    };
    let next = ask();
    for (;;) {
      const chunk = await next;
      if (chunk === null || chunk.rowCount === 0) return;
      next = ask();
      yield chunk;
    }
  }

  /**
   * What a learner must know of a click log before training (one pass, a GROUP BY by session; given
   * the log's files, one per file, so that memory follows the largest partition, not the log):
   * sessions, rows, clicks, the longest session, sessions with a click, sessions that show both a
   * clicked and an unclicked document, and the range of query and item ids.
   */
  async clickSummary(input: string | readonly string[], options: EngineLogOptions = {}): Promise<ClickLogSummary> {
    if (typeof input !== 'string') {
      // One GROUP BY per file: the hash table holds a partition's sessions, not the log's.
      let total: ClickLogSummary | null = null;
      for (const file of input) {
        const part = await this.clickSummary(file, options);
        if (total === null || total.sessions === 0) total = part;
        else if (part.sessions > 0) {
          total = {
            sessions: total.sessions + part.sessions,
            rows: total.rows + part.rows,
            clicks: total.clicks + part.clicks,
            longest: Math.max(total.longest, part.longest),
            clicked: total.clicked + part.clicked,
            contrasted: total.contrasted + part.contrasted,
            minQuery: Math.min(total.minQuery, part.minQuery),
            maxQuery: Math.max(total.maxQuery, part.maxQuery),
            minItem: Math.min(total.minItem, part.minItem),
            maxItem: Math.max(total.maxItem, part.maxItem),
          };
        }
      }
      if (total === null) throw new ConfigError('--log', 'expected at least one file, found none');
      return total;
    }
    const roles = await this.rolesFor(input, options);
    const [sessions, rows, clicks, longest, clicked, contrasted, minQuery, maxQuery, minItem, maxItem] = await this.numbers(
      `SELECT count(*), coalesce(sum(n), 0), coalesce(sum(clicks), 0), coalesce(max(n), 0), count(*) FILTER (WHERE clicks > 0),
        count(*) FILTER (WHERE n >= 2 AND clicks > 0 AND clicks < n), coalesce(min(minq), 0), coalesce(max(maxq), 0), coalesce(min(mind), 0), coalesce(max(maxd), 0)
       FROM (SELECT f, s, count(*) AS n, sum(c) AS clicks, min(q) AS minq, max(q) AS maxq, min(d) AS mind, max(d) AS maxd FROM (${slotsFromSql(input, roles)}) GROUP BY f, s)`,
    );
    return { sessions, rows, clicks, longest, clicked, contrasted, minQuery, maxQuery, minItem, maxItem };
  }

  /** The first row (in file and session order) whose query or item id lies outside [0, queries) or [0, items), or null. */
  async firstRowOutside(input: string, queries: number, items: number, options: EngineLogOptions = {}): Promise<{ file: string; session: number; query: number; item: number } | null> {
    const roles = await this.rolesFor(input, options);
    const reader = await this.connection.runAndReadAll(`SELECT f, s, q, d FROM (${slotsSql(input, roles)}) WHERE q < 0 OR q >= ${queries} OR d < 0 OR d >= ${items} ORDER BY f, s, k LIMIT 1`);
    const row = reader.getRows()[0];
    return row === undefined ? null : { file: String(row[0]), session: Number(row[1]), query: Number(row[2]), item: Number(row[3]) };
  }

  /** The temporary table `table` of the distinct session groups of `slots` (`sessionGroupsStatements`), in passes beyond `slotsPerPass` slots. */
  async groupSessions(slots: string, table: string, slotsPerPass?: number): Promise<void> {
    const [rows] = await this.numbers(`SELECT count(*) FROM (${slots})`);
    for (const statement of sessionGroupsStatements(slots, table, rows, slotsPerPass)) await this.run(statement);
  }

  /**
   * The cascade family's sufficient statistics (DCM, DBN, SDBN, CCM, CM: their E-step needs the whole
   * session): the log's distinct (query, ranking, click pattern) groups, each with how many sessions
   * it stands for. The groups come back as a `ClickLog` (one session per group, positions 0 .. n − 1)
   * and `weight` per group, ordered by (query, length, hash of the ranking, click pattern), so the
   * result and every sum over it are the same on every run (`sessionGroupsStatements`).
   * A session whose ranks are not 0, 1, …, n − 1 or that shows more than 53 results (the click
   * pattern is a bit mask held exactly in a double) is an error naming the log.
   */
  async sessionGroups(input: string, options: EngineLogOptions = {}): Promise<SessionGroups> {
    const roles = await this.rolesFor(input, options);
    const progress = options.progress ?? silentProgress;
    const slots = slotsFromSql(input, roles);
    const table = `clicklab_groups_${tableSerial++}`;
    progress.start(`grouping sessions of ${input}`, 0);
    const stop = ticking(progress);
    try {
      await this.groupSessions(slots, table, options.slotsPerPass).finally(stop);
      const [query, weight, mask, length] = await this.columns(`SELECT q, w, mask, n FROM ${table} ORDER BY g`, ['INTEGER', 'DOUBLE', 'DOUBLE', 'INTEGER']);
      const groups = query.length;
      const offsets = new Int32Array(groups + 1);
      let sessions = 0;
      for (let g = 0; g < groups; g++) {
        if (mask[g] < 0) throw new ClickLabError(`${input}: a session of query ${query[g]} has ranks that are not 1, 2, …, n in order, or more than 53 results; expected whole sessions ranked from 1`);
        offsets[g + 1] = offsets[g] + length[g];
        sessions += weight[g];
      }
      const rows = offsets[groups];
      const document = new Int32Array(rows);
      const position = new Uint16Array(rows);
      const click = new Uint8Array(rows);
      // The representatives' slots in any order, each put at its group's offset plus its rank.
      const result = await this.connection.stream(`SELECT t.g, e.k, e.d FROM (${slots}) e JOIN ${table} t ON e.f = t.rf AND e.s = t.rs`);
      let read = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        const [g, k, d] = [0, 1, 2].map((col) => numericColumn(chunk.getColumnVector(col), n));
        for (let i = 0; i < n; i++) {
          const at = offsets[g[i]] + k[i];
          document[at] = d[i];
          position[at] = k[i];
          // Bit k of a mask below 2^53: floor(mask / 2^k) mod 2, exact in doubles.
          click[at] = Math.floor(mask[g[i]] / POWERS_OF_TWO[k[i]]) % 2;
        }
        read += n;
        progress.update(read, `${groups} groups of ${sessions} sessions`);
      }
      // n slots ranked from 0 to n − 1 (checked in SQL) fill every place unless two share a rank.
      for (let g = 0; g < groups; g++)
        for (let at = offsets[g] + 1; at < offsets[g + 1]; at++)
          if (position[at] !== at - offsets[g]) throw new ClickLabError(`${input}: a session of query ${query[g]} shows two results at one rank; expected whole sessions ranked 1, 2, …, n`);
      progress.finish();
      return { log: { sessionQuery: query as Int32Array, sessionOffsets: offsets, document, position, click }, weight: weight as Float64Array, sessions };
    } finally {
      await this.run(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  /**
   * Writes typed-array columns of one length as a zstd Parquet file, atomically (a temporary name in
   * the same folder, then a rename): `appendColumns`, then `copyTo`. DuckDB rather than
   * hyparquet-writer here because hyparquet-writer has no zstd (snappy only) and hyparquet cannot
   * read zstd back (scripts/bench-parquet-io.mjs measures both).
   */
  async writeParquetColumns(path: string, columns: readonly ParquetColumn[]): Promise<void> {
    const n = columns[0]?.values.length ?? 0;
    for (const c of columns) if (c.values.length !== n) throw new RangeError(`writeParquetColumns: column ${c.name} has ${c.values.length} values, expected ${n}`);
    const pending = new PendingFile(path);
    const appender = await this.appendColumns(columns);
    try {
      appender.append(columns.map((c) => c.values));
      await appender.copyTo(pending.temporary);
      await pending.commit();
    } catch (error) {
      await pending.abort();
      throw error;
    } finally {
      await appender.drop();
    }
  }

  /**
   * A temporary table of `columns` that typed arrays are appended to as they come, then copied out
   * as one Parquet file (`ColumnAppender`). Memory: DuckDB's limit (the table spills to the
   * temporary folder beyond it), not the length of what is appended.
   */
  async appendColumns(columns: readonly ParquetColumnSpec[]): Promise<ColumnAppender> {
    const table = `clicklab_columns_${tableSerial++}`;
    await this.connection.run(`CREATE TEMPORARY TABLE ${table} (${columns.map((c) => `${identifier(c.name)} ${c.stored ?? c.type}`).join(', ')})`);
    // One transaction around all the appends: the appender's flushes each commit otherwise, which
    // measured twice as slow (10M rows of six columns: 6.7 s against 3.0 s).
    await this.connection.run('BEGIN TRANSACTION');
    const appender = await this.connection.createAppender(table);
    return new ColumnAppender(this.connection, table, columns, appender);
  }

  /** Numeric columns of a Parquet file (or glob) as typed arrays, in file order: INTEGER columns as Int32Array, the others as Float64Array. */
  async readParquetColumns(path: string, columns: readonly { readonly name: string; readonly type: 'INTEGER' | 'DOUBLE' }[]): Promise<(Int32Array | Float64Array)[]> {
    const select = columns.map((c) => `CAST(${identifier(c.name)} AS ${c.type})`).join(', ');
    // In file order: DuckDB keeps a scan's row order (preserve_insertion_order, on by default).
    return this.columns(
      `SELECT ${select} FROM read_parquet(${literal(path)})`,
      columns.map((c) => c.type),
    );
  }

  /** A text column of a Parquet file as strings, in file order (a world's text ids). */
  async readParquetText(path: string, column: string): Promise<string[]> {
    return textColumn(this.connection, `SELECT CAST(${identifier(column)} AS VARCHAR) FROM read_parquet(${literal(path)})`);
  }

  /** The rows of `sql` as typed arrays, one per column: INTEGER columns as Int32Array, the others as Float64Array (`progress`: rows as they come). */
  async columns(sql: string, types: readonly ('INTEGER' | 'DOUBLE')[], progress: Progress = silentProgress): Promise<(Int32Array | Float64Array)[]> {
    const reader = new ColumnReader(types.length);
    const stop = ticking(progress);
    const result = await this.connection.stream(sql).finally(stop);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      reader.add(chunk);
      progress.update(reader.rows);
    }
    return types.map((type, j) => (type === 'INTEGER' ? reader.int32(j) : reader.float64(j)));
  }
}

/** 2^k for the ranks of a click mask. */
const POWERS_OF_TWO = Float64Array.from({ length: 53 }, (_, k) => 2 ** k);

/**
 * Slots of a log aggregated per pass: beyond it, GROUP BYs over the whole log run in passes over
 * parts of its queries (sql-text.ts `partOf`), so that DuckDB's hash tables hold a part's rows (at 10⁸ sessions,
 * one GROUP BY of every session ran out of DuckDB's 1 GB in two runs of three).
 */
export const SLOTS_PER_PASS = 2 ** 27;

/**
 * The statements that make the temporary table `table` of the distinct (query, ranking, click
 * pattern) groups of the slots `slots` (columns f, s, q, d, k, c as in `slotsFromSql`): g (0-based,
 * the order of the groups), q, n (results), mask (clicks as bits, bit k for rank k; −1 for a session
 * whose ranks are not 0 .. n − 1), w (sessions in the group), and the (f, s) of one of its sessions.
 * A session's ranking is keyed by a 128-bit multiset hash of its (rank, document) slots, two
 * independent 64-bit hashes summed in HUGEINT (as the pair classes' cells, data/count-classes.ts):
 * plain GROUP BYs, which spill, where `list(d ORDER BY k)` states do not (at 10M sessions they
 * needed 10 passes over the log, each a scan). The documents are read back for the representative
 * sessions only. A log of more than `slotsPerPass` slots is grouped in passes over parts of its
 * queries (a session and its group have one query), then numbered in one sort.
 */
function sessionGroupsStatements(slots: string, table: string, rows: number, slotsPerPass = SLOTS_PER_PASS): string[] {
  const slot = '(CAST(d AS BIGINT) * 64 + CASE WHEN k BETWEEN 0 AND 52 THEN k ELSE 63 END)';
  const grouped = (from: string) => `SELECT q, n, mask, h1, h2, count(*) AS w, min(f) AS rf, arg_min(s, f) AS rs
      FROM (SELECT f, s, min(q) AS q, CAST(count(*) AS INTEGER) AS n,
          CASE WHEN min(k) = 0 AND max(k) = count(*) - 1 AND max(k) < 53 THEN sum(CASE WHEN k BETWEEN 0 AND 52 THEN CAST(c AS BIGINT) << k ELSE 0 END) ELSE -1 END AS mask,
          sum(CAST(hash(${slot}) AS HUGEINT)) AS h1, sum(CAST(hash(xor(hash(${slot}), CAST(6364136223846793005 AS UBIGINT))) AS HUGEINT)) AS h2
        FROM ${from} GROUP BY f, s)
      GROUP BY q, n, mask, h1, h2`;
  const numbered = (from: string) => `CREATE TEMPORARY TABLE ${table} AS
    SELECT CAST(row_number() OVER (ORDER BY q, n, h1, h2, mask) - 1 AS INTEGER) AS g, q, n, CAST(mask AS DOUBLE) AS mask, CAST(w AS DOUBLE) AS w, rf, rs
    FROM ${from}`;
  const parts = Math.max(1, Math.ceil(rows / slotsPerPass));
  if (parts === 1) return [numbered(`(${grouped(`(${slots})`)})`)];
  const partial = `${table}_parts`;
  const ofPart = (part: number) => grouped(`(SELECT * FROM (${slots}) WHERE ${partOf('q', parts)} = ${part})`);
  return [`CREATE TEMPORARY TABLE ${partial} AS ${ofPart(0)}`, ...Array.from({ length: parts - 1 }, (_, i) => `INSERT INTO ${partial} ${ofPart(i + 1)}`), numbered(partial), `DROP TABLE ${partial}`];
}

/** The slots of a log for counting: the file is DuckDB's `file_index` (an integer), not its name. */
function slotsFromSql(input: string, roles: Roles): string {
  const ids = idSql(logSourceSql(input, '--log', roles.textColumns), roles);
  return `SELECT clicklab_file_index AS f, ${identifier(roles.session)} AS s, ${ids.query} AS q, ${ids.item} AS d,
    CAST(${identifier(roles.position)} AS INTEGER) - 1 AS k, CAST(CAST(${identifier(roles.click)} AS DOUBLE) > 0 AS INTEGER) AS c FROM ${ids.from}`;
}

/**
 * Keeps the progress line alive (its clock running) while DuckDB reads and aggregates before the
 * first result rows come back: the node-api reports no progress of a running query. Returns the
 * function that stops it (safe to call more than once).
 */
export function ticking(progress: Progress): () => void {
  const timer = setInterval(() => progress.update(0, 'DuckDB reading and aggregating'), 500);
  timer.unref();
  return () => clearInterval(timer);
}

/** The typed array under a DuckDB INTEGER or DOUBLE vector without NULLs (the node-api keeps it as a private field), or null. */
function vectorItems(vector: DuckDBVector): Int32Array | Float64Array | null {
  const items = (vector as unknown as { readonly items?: unknown }).items;
  return items instanceof Int32Array || items instanceof Float64Array ? items : null;
}

/** A numeric column of a chunk as a typed array (the vector's own, or copied value by value). */
export function numericColumn(vector: DuckDBVector, n: number): Int32Array | Float64Array {
  const items = vectorItems(vector);
  if (items !== null && items.length >= n) return items;
  const copy = new Float64Array(n);
  for (let i = 0; i < n; i++) copy[i] = Number(vector.getItem(i));
  return copy;
}

/** The cascade family's counts: distinct sessions and how many times each occurred (`LogEngine.sessionGroups`). */
export interface SessionGroups {
  /** One session per group, positions 0 .. n − 1. */
  readonly log: ClickLog;
  /** Sessions in each group. */
  readonly weight: Float64Array;
  /** Sessions counted (the sum of the weights). */
  readonly sessions: number;
}

/** Numeric result columns gathered chunk by chunk into typed arrays (copied whole, not value by value). */
class ColumnReader {
  private readonly columns: (Int32Array | Float64Array)[][];
  rows = 0;

  constructor(count: number) {
    this.columns = Array.from({ length: count }, () => []);
  }

  add(chunk: DuckDBDataChunk): void {
    const n = chunk.rowCount;
    for (let col = 0; col < this.columns.length; col++) {
      const vector = chunk.getColumnVector(col);
      const items = vectorItems(vector);
      if (items !== null && items.length >= n) {
        this.columns[col].push(items.slice(0, n));
      } else {
        const copy = new Float64Array(n);
        for (let i = 0; i < n; i++) copy[i] = Number(vector.getItem(i));
        this.columns[col].push(copy);
      }
    }
    this.rows += n;
  }

  int32(col: number): Int32Array {
    return this.joined(col, new Int32Array(this.rows));
  }

  float64(col: number): Float64Array {
    return this.joined(col, new Float64Array(this.rows));
  }

  /** Column `col`'s chunks one after another in `out`. */
  private joined<T extends Int32Array | Float64Array>(col: number, out: T): T {
    let at = 0;
    for (const part of this.columns[col]) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

class BatchBuilder {
  private sessionQuery: number[] = [];
  private sessionOffsets: number[] = [0];
  private document: Int32Array;
  private position: Uint16Array;
  private click: Uint8Array;
  rows = 0;
  private capacity: number;

  constructor(batchRows: number) {
    this.capacity = batchRows + 1024;
    this.document = new Int32Array(this.capacity);
    this.position = new Uint16Array(this.capacity);
    this.click = new Uint8Array(this.capacity);
  }

  startSession(query: number): void {
    if (this.sessionQuery.length > 0) this.sessionOffsets.push(this.rows);
    this.sessionQuery.push(query);
  }

  add(document: number, rank: number, click: number): void {
    if (this.rows === this.capacity) this.grow();
    this.document[this.rows] = document;
    this.position[this.rows] = rank;
    this.click[this.rows] = click;
    this.rows++;
  }

  private grow(): void {
    this.capacity *= 2;
    const document = new Int32Array(this.capacity);
    document.set(this.document);
    this.document = document;
    const position = new Uint16Array(this.capacity);
    position.set(this.position);
    this.position = position;
    const click = new Uint8Array(this.capacity);
    click.set(this.click);
    this.click = click;
  }

  finish(): ClickLog {
    this.sessionOffsets.push(this.rows);
    return {
      sessionQuery: Int32Array.from(this.sessionQuery),
      sessionOffsets: Int32Array.from(this.sessionOffsets),
      document: this.document.slice(0, this.rows),
      position: this.position.slice(0, this.rows),
      click: this.click.slice(0, this.rows),
    };
  }
}
