/**
 * Columns between JS and DuckDB, in bulk: typed arrays copied into data-chunk vectors whole (one
 * `TypedArray.set` and one copy into DuckDB per vector, not a call per value), appended to a
 * temporary table, and copied out as one zstd Parquet file (`ColumnAppender`); and a result
 * vector's values as the typed array under it (`columnValues`). LogEngine (engine.ts) makes the
 * appenders; the Parquet log sink and reader (log-format.ts) and `writeParquetColumns` use them.
 *
 * Why a table and then COPY: DuckDB's Parquet writer reads a query, and the node-api has no way to
 * feed a running query from JS as chunks arrive (a JS table function is called once per 2048 rows
 * across threads: 10M rows took 9.4 s against 6 s for append + COPY, measured 2026-12-06).
 */
import { DOUBLE, DuckDBDataChunk, FLOAT, INTEGER, UTINYINT, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';
import { identifier, literal } from './sql-text.js';

/** A column's name and DuckDB type. */
export interface ParquetColumnSpec {
  readonly name: string;
  /** Its type in the file. */
  readonly type: 'INTEGER' | 'FLOAT' | 'DOUBLE' | 'VARCHAR';
  /**
   * A narrower type the table holds it in, for values in [0, 255] (appended from a Uint8Array: clicks,
   * flags), cast to `type` by the COPY: DuckDB appends a click log's rows 1.3–2× faster so.
   */
  readonly stored?: 'UTINYINT';
}

/** The values of one column: numbers in a typed array, or text. */
export type ColumnArray = Int32Array | Float32Array | Float64Array | Uint8Array | Uint16Array | readonly string[];

/** A column for `writeParquetColumns`. */
export type ParquetColumn =
  | { readonly name: string; readonly type: 'INTEGER' | 'FLOAT' | 'DOUBLE'; readonly values: Int32Array | Float32Array | Float64Array | Uint8Array | Uint16Array }
  | { readonly name: string; readonly type: 'VARCHAR'; readonly values: readonly string[] };

export interface ParquetCopyOptions {
  /** Key-value metadata of the file's footer (clicklab's log mark). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Rows per Parquet row group: pyarrow's default, and what the hyparquet writer wrote before. */
const ROW_GROUP_ROWS = 1 << 20;

/** DuckDB's vector size: the most rows a data chunk holds. */
const CHUNK_ROWS = 2048;

const TYPES = { INTEGER, FLOAT, DOUBLE, VARCHAR, UTINYINT };

/**
 * Columns appended to a temporary table as they come (`append`, any number of times), then written
 * as one Parquet file (`copyTo`: zstd, row groups of 2^20 rows, in append order) and dropped
 * (`drop`, also after a failure). Made by `LogEngine.appendColumns`, inside a transaction that
 * `copyTo` commits.
 */
export class ColumnAppender {
  private readonly chunk: DuckDBDataChunk;
  /** Rows the reused chunk is sized for (DuckDB rebuilds its vectors when that changes). */
  private chunkRows = CHUNK_ROWS;
  private open = true;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly table: string,
    private readonly columns: readonly ParquetColumnSpec[],
    private readonly appender: DuckDBAppender,
  ) {
    this.chunk = DuckDBDataChunk.create(
      columns.map((c) => TYPES[c.stored ?? c.type]),
      CHUNK_ROWS,
    );
  }

  /** Appends rows: one array per column, all of one length. */
  append(values: readonly ColumnArray[]): void {
    const { columns, chunk } = this;
    if (values.length !== columns.length) throw new RangeError(`ColumnAppender: expected ${columns.length} columns, found ${values.length}`);
    const n = values[0]?.length ?? 0;
    values.forEach((v, j) => {
      if (v.length !== n) throw new RangeError(`ColumnAppender: column ${columns[j].name} has ${v.length} values, expected ${n}`);
    });
    for (let at = 0; at < n; at += CHUNK_ROWS) {
      const m = Math.min(CHUNK_ROWS, n - at);
      if (m !== this.chunkRows) {
        chunk.rowCount = m;
        this.chunkRows = m;
      }
      for (let j = 0; j < columns.length; j++) fillVector(chunk.getColumnVector(j), values[j], at, m);
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Writes the rows appended so far to `path` as zstd Parquet (DuckDB writes the file itself: no temporary beside it). */
  async copyTo(path: string, options: ParquetCopyOptions = {}): Promise<void> {
    this.closeAppender();
    await this.connection.run('COMMIT');
    const metadata = Object.entries(options.metadata ?? {});
    const kv = metadata.length === 0 ? '' : `, KV_METADATA {${metadata.map(([k, v]) => `${literal(k)}: ${literal(v)}`).join(', ')}}`;
    const select = this.columns.map((c) => (c.stored === undefined ? identifier(c.name) : `CAST(${identifier(c.name)} AS ${c.type}) AS ${identifier(c.name)}`)).join(', ');
    // In append order: DuckDB keeps a scan's order through a projection (preserve_insertion_order).
    await this.connection.run(`COPY (SELECT ${select} FROM ${this.table}) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, USE_TMP_FILE false${kv})`);
  }

  /** Drops the table (and, before `copyTo`, the transaction with it). */
  async drop(): Promise<void> {
    if (this.open) {
      this.closeAppender();
      await this.connection.run('ROLLBACK').catch(() => {});
    }
    await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`);
  }

  private closeAppender(): void {
    if (!this.open) return;
    this.open = false;
    this.appender.closeSync();
  }
}

/** A typed array's view of a node-api vector's data: the private field every numeric vector keeps (read by `columnValues` too). */
type VectorItems = Int32Array | Float32Array | Float64Array | Uint8Array | Uint16Array | BigInt64Array | Int8Array | Int16Array | Uint32Array | BigUint64Array;

function vectorItems(vector: DuckDBVector): VectorItems | null {
  const items = (vector as unknown as { readonly items?: unknown }).items;
  return ArrayBuffer.isView(items) && !(items instanceof DataView) ? (items as VectorItems) : null;
}

/** Whether `TypedArray.set` copies `from`'s values into `to` exactly (no truncation or rounding, as `setItem` would refuse). */
function exactCopy(from: ColumnArray, to: VectorItems): boolean {
  if (to instanceof Int32Array) return from instanceof Int32Array || from instanceof Uint8Array || from instanceof Uint16Array;
  if (to instanceof Float32Array) return from instanceof Float32Array || from instanceof Uint8Array || from instanceof Uint16Array;
  if (to instanceof Float64Array) return !Array.isArray(from);
  if (to instanceof Uint8Array) return from instanceof Uint8Array;
  return false;
}

/** Rows `at .. at + m` of `values` into `vector` (sized `m`): the typed array copied whole where that is exact, else value by value. */
function fillVector(vector: DuckDBVector, values: ColumnArray, at: number, m: number): void {
  const items = vectorItems(vector);
  if (items !== null && items.length === m && exactCopy(values, items)) {
    (items as Int32Array).set((values as Int32Array).subarray(at, at + m));
  } else {
    for (let i = 0; i < m; i++) vector.setItem(i, values[at + i] as never);
  }
  vector.flush();
}

/** Whether a vector holds a NULL among its first `n` values (a vector without a validity mask has none). */
function hasNull(vector: DuckDBVector, n: number): boolean {
  const words = (vector as unknown as { readonly validity?: { readonly data?: unknown } }).validity?.data;
  if (words === null) return false;
  if (!(words instanceof BigUint64Array)) {
    for (let i = 0; i < n; i++) if (vector.getItem(i) === null) return true;
    return false;
  }
  // The validity mask, 64 rows a word (a bit set: a value); DuckDB may keep one with every bit set.
  const full = Math.floor(n / 64);
  for (let w = 0; w < full; w++) if (words[w] !== 0xffffffffffffffffn) return true;
  const rest = BigInt(n % 64);
  const mask = (1n << rest) - 1n;
  return rest > 0n && (words[full] & mask) !== mask;
}

/**
 * A result vector's first `n` values: the typed array under it (numbers, or bigints for 64-bit
 * integers) when it has one and no NULL, else the values one by one (NULL as null, text as strings).
 */
export function columnValues(vector: DuckDBVector, n: number): ArrayLike<unknown> {
  const items = vectorItems(vector);
  if (items !== null && items.length >= n && !hasNull(vector, n)) return items;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = vector.getItem(i);
  return out;
}
