/**
 * Baidu-ULTR click sessions from the Parquet copies (the layouts baidu-ultr.ts documents: one row
 * per session with list columns, or one row per document), read through DuckDB (LogEngine) as a
 * stream of column batches: DuckDB decodes the Parquet pages and UNNESTs the lists on its own
 * threads and hands over 2048-row chunks, instead of hyparquet's one JS object per row. The same
 * checks as the in-memory reader: lists of one session the same length (and `n` equal to it),
 * positions distinct integers ≥ 1, clicks 0/1, displayed times ≥ 0; an error names the file and row.
 *
 * Input: a .parquet file, a folder of Parquet partitions or a glob (as `LogEngine.files`), files in
 * path order, each in its row order (DuckDB keeps a scan's order). Arrow/Feather files are not read
 * here (DuckDB has no Arrow IPC reader built in): baidu-ultr.ts reads them.
 */
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { MAX_LIST_LENGTH } from '../core/types.js';
import type { BaiduUltrClickLog } from './baidu-ultr.js';
import { BaiduSessionBuilder, collectBaiduUltrBatches, DEFAULT_BATCH_ROWS, newVocabularies, type BaiduUltrBatch, type BaiduUltrBatchOptions } from './baidu-ultr-sessions.js';
import { describeValue } from './tokenizer.js';
import { LogEngine, numericColumn } from './engine.js';
import { identifier, literal } from './sql-text.js';
import { HashedIds } from './hashed-ids.js';

export interface BaiduUltrParquetOptions extends BaiduUltrBatchOptions {
  /** An open engine to read with (default: one opened for the read and closed after). */
  readonly engine?: LogEngine;
  readonly progress?: Progress;
}

/**
 * The SQL that reads one file as document rows: r (the file's row, 0-based), q (query id as text),
 * n and the list lengths, then p, c, u, t per document.
 */
async function documentSql(engine: LogEngine, file: string, withTime: boolean): Promise<{ sql: string; list: boolean; url: boolean; time: boolean }> {
  const source = `read_parquet(${literal(file)}, file_row_number = true)`;
  let schema: unknown[][];
  try {
    schema = await engine.rows(`DESCRIBE SELECT * FROM ${source}`);
  } catch (error) {
    throw new DataFormatError(file, null, `expected a Parquet file, found data that does not decode (${(error as Error).message.split('\n')[0]})`);
  }
  const types = new Map(schema.map((row) => [String(row[0]), String(row[1])]));
  const missing = ['query_id', 'position', 'click'].filter((c) => !types.has(c));
  if (missing.length > 0) {
    const found = [...types.keys()].filter((c) => c !== 'file_row_number');
    throw new DataFormatError(file, null, `expected the Baidu-ULTR columns ${missing.map((c) => `'${c}'`).join(', ')}, missing; found columns: ${found.map((c) => `'${c}'`).join(', ')}`);
  }
  const list = types.get('position')!.endsWith('[]');
  const url = types.has('url_md5');
  if (list && url && !types.get('url_md5')!.endsWith('[]'))
    throw new DataFormatError(file, null, `expected a list column 'url_md5' (one value per document, as 'position'), found type ${types.get('url_md5')}`);
  const time = withTime && types.has('displayed_time');
  const n = types.has('n');
  // A missing or non-numeric value becomes NaN (or −1 for a list length), which the checks reject with the row's number.
  const number = (sql: string) => `coalesce(TRY_CAST(${sql} AS DOUBLE), 'NaN'::DOUBLE)`;
  const length = (column: string) => `CAST(coalesce(len(${identifier(column)}), -1) AS DOUBLE)`;
  // An empty or missing list still gives one row (a NULL document), so that no session vanishes in the UNNEST unchecked.
  const items = (column: string) => `unnest(CASE WHEN len(${identifier(column)}) > 0 THEN ${identifier(column)} ELSE [NULL] END)`;
  const columns = list
    ? [
        'CAST(file_row_number AS DOUBLE) AS r',
        'CAST(query_id AS VARCHAR) AS q',
        `${n ? number('n') : "'NaN'::DOUBLE"} AS n`,
        `${length('position')} AS np`,
        `${length('click')} AS nc`,
        `${url ? length('url_md5') : '0::DOUBLE'} AS nu`,
        `${time ? length('displayed_time') : '0::DOUBLE'} AS nt`,
        `${number(items('position'))} AS p`,
        `${number(items('click'))} AS c`,
        `${url ? `CAST(${items('url_md5')} AS VARCHAR)` : 'NULL::VARCHAR'} AS u`,
        `${time ? number(items('displayed_time')) : "'NaN'::DOUBLE"} AS t`,
      ]
    : [
        'CAST(file_row_number AS DOUBLE) AS r',
        'CAST(query_id AS VARCHAR) AS q',
        "'NaN'::DOUBLE AS n",
        '1::DOUBLE AS np',
        '1::DOUBLE AS nc',
        '1::DOUBLE AS nu',
        '1::DOUBLE AS nt',
        `${number('position')} AS p`,
        `${number('click')} AS c`,
        `${url ? 'CAST(url_md5 AS VARCHAR)' : 'NULL::VARCHAR'} AS u`,
        `${time ? number('displayed_time') : "'NaN'::DOUBLE"} AS t`,
      ];
  if (list) {
    for (const c of ['click', ...(url ? ['url_md5'] : []), ...(time ? ['displayed_time'] : [])]) {
      if (!types.get(c)!.endsWith('[]')) throw new DataFormatError(file, null, `expected a list column '${c}' (one value per document, as 'position'), found type ${types.get(c)}`);
    }
  }
  return { sql: `SELECT ${columns.join(', ')} FROM ${source}`, list, url, time };
}

/**
 * The rows of `sql` (documentSql) as numbers but for q and u: columns r, q, n, np, nc, nu, nt, p, c,
 * u, t, then e (1 where the document id is missing or empty), the document id's 128-bit hash in
 * four 32-bit parts (DuckDB's hash of the id and of the id reversed) and the query id's, by which
 * JS looks ids up without decoding q and u, but for ids it has not seen yet; qe is 1 where the query
 * id is missing or empty.
 */
function hashedRowsSql(sql: string): string {
  const parts = (h: string) => `CAST(${h} >> 32 AS DOUBLE), CAST(${h} & 4294967295 AS DOUBLE)`;
  return `SELECT r, q, n, np, nc, nu, nt, p, c, u, t, CAST(u IS NULL OR u = '' AS DOUBLE) AS e, ${parts('ha')}, ${parts('hb')}, ${parts('qa')}, ${parts('qb')},
      CAST(q IS NULL OR q = '' AS DOUBLE) AS qe
    FROM (SELECT *, hash(u) AS ha, hash(reverse(u)) AS hb, hash(q) AS qa, hash(reverse(q)) AS qb FROM (${sql}))`;
}

/**
 * The sessions of Baidu-ULTR Parquet copies as batches of whole sessions (about `batchRows` rows
 * each, at most a DuckDB chunk of 2048 more): memory is a batch, DuckDB's chunks and the id
 * vocabularies, whatever the length of the log.
 *
 * A JS string and a Map lookup per displayed document cost more than the rest of the reading
 * (measured: docs/baidu-ultr.md), so DuckDB hashes the document ids and JS looks the hashes up
 * (hashed-ids.ts), decoding an id's text only the first time it is seen.
 */
export async function* baiduUltrParquetBatches(input: string, options: BaiduUltrParquetOptions = {}): AsyncGenerator<BaiduUltrBatch> {
  const engine = options.engine ?? (await LogEngine.open());
  const vocabularies = options.vocabularies ?? newVocabularies();
  const builder = new BaiduSessionBuilder(vocabularies, options.displayedTime ?? true);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const progress = options.progress ?? silentProgress;
  const queries = new HashedIds();
  const documents = new HashedIds();
  try {
    for (const file of await engine.files(input)) {
      progress.start(`reading ${file}`, 0);
      const { sql, list, url, time } = await documentSql(engine, file, builder.withTime);
      const reader = new SessionReader(file, builder, list, queries, url ? documents : null, time);
      try {
        for await (const chunk of engine.chunks(hashedRowsSql(sql))) {
          reader.add(chunk);
          if (builder.rows >= batchRows) yield builder.take();
          progress.update(reader.rows);
        }
      } catch (error) {
        if (error instanceof DataFormatError) throw error;
        throw new DataFormatError(file, null, `expected Baidu-ULTR Parquet rows that decode, found an error (${(error as Error).message.split('\n')[0]})`);
      }
      reader.endSession();
      progress.finish(`${reader.rows} rows`);
    }
    if (builder.rows > 0) yield builder.take();
  } finally {
    if (options.engine === undefined) engine.close();
  }
}

/** Baidu-ULTR Parquet copies read whole into one click log with its ids, through DuckDB (see `baiduUltrParquetBatches` for a stream). */
export async function readBaiduUltrParquet(input: string, options: Omit<BaiduUltrParquetOptions, 'batchRows'> = {}): Promise<BaiduUltrClickLog> {
  const vocabularies = options.vocabularies ?? newVocabularies();
  return collectBaiduUltrBatches(baiduUltrParquetBatches(input, { ...options, vocabularies }), vocabularies);
}

/** Document rows of one file into sessions: a new file row starts a session (list layout), or a new query id (one row per document). */
class SessionReader {
  rows = 0;
  private inSession = false;
  private sessionRow = -1;
  /** The current session's query id hash, when first seen in it (stored once the session ends), or null. */
  private unseenQuery: number[] | null = null;
  /** Documents first seen in the current session: their index among the session's documents, then the four hash parts. */
  private readonly unseen: number[] = [];
  private readonly queryHash = [0, 0, 0, 0];

  constructor(
    private readonly file: string,
    private readonly builder: BaiduSessionBuilder,
    private readonly list: boolean,
    /** The vocabulary index of each query id hash seen so far. */
    private readonly queries: HashedIds,
    /** The vocabulary index of each document id hash seen so far, or null without a url_md5 column. */
    private readonly documents: HashedIds | null,
    private readonly time: boolean,
  ) {}

  private fail(row: number, problem: string): never {
    throw new DataFormatError(this.file, null, `row ${row + 1}: ${problem}`);
  }

  endSession(): void {
    if (!this.inSession) return;
    this.inSession = false;
    const builder = this.builder;
    builder.end((problem) => this.fail(this.sessionRow, problem));
    // Ids first seen in this session got their indices from the builder (in position order, as the other readers number them).
    const u = this.unseen;
    for (let j = 0; j < u.length; j += 5) {
      if (this.documents!.get(u[j + 1], u[j + 2], u[j + 3], u[j + 4]) < 0) this.documents!.set(u[j + 1], u[j + 2], u[j + 3], u[j + 4], builder.documentOf(u[j]));
    }
    u.length = 0;
    const q = this.unseenQuery;
    if (q !== null && this.queries.get(q[0], q[1], q[2], q[3]) < 0) this.queries.set(q[0], q[1], q[2], q[3], builder.endedQuery);
    this.unseenQuery = null;
  }

  add(chunk: DuckDBDataChunk): void {
    const m = chunk.rowCount;
    const column = (col: number) => numericColumn(chunk.getColumnVector(col), m);
    const [r, n, np, nc, nu, nt, p, c, t, e, h0, h1, h2, h3, g0, g1, g2, g3, qe] = [0, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map(column);
    const q = chunk.getColumnVector(1);
    const u = chunk.getColumnVector(9);
    const documents = this.documents;
    const hash = this.queryHash;
    const where = (k: number) => (this.list ? `[${k}]` : '');
    let k = 0; // the document's index within its row's lists
    for (let i = 0; i < m; i++) {
      const row = r[i];
      const newSession = this.list ? row !== this.sessionRow : !this.inSession || g0[i] !== hash[0] || g1[i] !== hash[1] || g2[i] !== hash[2] || g3[i] !== hash[3];
      if (newSession) {
        this.endSession();
        if (qe[i] === 1) this.fail(row, `expected a query id (text or integer) in 'query_id', found ${describeValue(q.getItem(i))}`);
        if (this.list) this.checkLists(row, np[i], nc[i], nu[i], nt[i], n[i]);
        hash[0] = g0[i];
        hash[1] = g1[i];
        hash[2] = g2[i];
        hash[3] = g3[i];
        const known = this.queries.get(g0[i], g1[i], g2[i], g3[i]);
        if (known >= 0) {
          this.builder.begin(this.builder.vocabularies.queries.ids[known], known);
        } else {
          this.builder.begin(q.getItem(i) as string);
          this.unseenQuery = [g0[i], g1[i], g2[i], g3[i]];
        }
        this.inSession = true;
        this.sessionRow = row;
        k = 0;
      } else {
        k++;
      }
      const position = p[i];
      if (!(Number.isInteger(position) && position >= 1 && position <= MAX_LIST_LENGTH)) this.fail(row, `expected a position in [1, ${MAX_LIST_LENGTH}] in 'position${where(k)}', found ${position}`);
      const click = c[i];
      if (click !== 0 && click !== 1) this.fail(row, `expected 0 or 1 in 'click${where(k)}', found ${click}`);
      let document = -1;
      let id: string | null = null;
      if (documents !== null) {
        if (e[i] === 1) this.fail(row, `expected a document id (text) in 'url_md5${where(k)}', found ${describeValue(u.getItem(i))}`);
        document = documents.get(h0[i], h1[i], h2[i], h3[i]);
        if (document < 0) {
          // First sight: the text goes to the builder, which numbers it in position order; the hash is stored once the session ends.
          id = u.getItem(i) as string;
          this.unseen.push(this.builder.pending, h0[i], h1[i], h2[i], h3[i]);
        }
      }
      const seconds = t[i];
      if (this.time && !(seconds >= 0)) this.fail(row, `expected a time ≥ 0 in 'displayed_time${where(k)}', found ${seconds}`);
      this.builder.add(position, id, click, seconds, document);
    }
    this.rows += m;
  }

  /** A list-layout row: every list there and as long as 'position', and `n` (where the file has it) equal to that length. */
  private checkLists(row: number, np: number, nc: number, nu: number, nt: number, n: number): void {
    if (np < 0) this.fail(row, "expected a list in 'position', found nothing");
    const lengths: [string, number][] = [['click', nc]];
    if (this.documents !== null) lengths.push(['url_md5', nu]);
    if (this.time) lengths.push(['displayed_time', nt]);
    for (const [column, length] of lengths) {
      if (length < 0) this.fail(row, `expected a list in '${column}' (one value per document), found nothing`);
      if (length !== np) this.fail(row, `expected '${column}' to list ${np} values (as 'position'), found ${length}`);
    }
    if (!Number.isNaN(n) && n !== np) this.fail(row, `expected 'n' to equal the ${np} documents listed, found ${n}`);
    if (np === 0) this.fail(row, "expected at least one document in 'position', found an empty list");
  }
}
