/**
 * Baidu-ULTR click sessions and expert annotations from the public Parquet and Arrow (Feather)
 * copies, as a clicklab click log and as labelled ranking data.
 *
 * Source: Zou et al., "A Large Scale Search Dataset for Unbiased Learning to Rank" (NeurIPS 2022
 * Datasets and Benchmarks): 1.2 billion search sessions of Baidu's engine and 7,008 expert-annotated
 * queries (397,572 query–document pairs). Originals: the authors' release (github.com/ChuXiaokai/
 * baidu_ultr_dataset, WSDM Cup 2023). Tabular copies with per-document BERT vectors: Hugging Face
 * `philipphager/baidu-ultr_baidu-mlm-ctr`, `..._uva-mlm-ctr`, `..._tencent-mlm-ctr` (Hager et al.,
 * "Unbiased Learning to Rank Meets Reality: Lessons from Baidu's Large-Scale Search Dataset",
 * SIGIR 2024); licence CC BY-NC 4.0 (non-commercial research use).
 *
 * Layouts read (the columns are looked up by name, others such as `query_document_embedding` are
 * never decoded):
 *
 * 1. One row per search session (the Hugging Face click and annotation splits):
 *        query_id   string or integer
 *        position   list<int>    1-based display position of each document
 *        click      list<int>    0/1 per document                         (click split)
 *        label      list<int>    expert grade 0–4 per document            (annotation split)
 *        url_md5    list<string> document id (optional)
 *        n          int          number of documents (optional; checked against the lists)
 *        displayed_time list<float> seconds the document was on screen (optional, kept)
 * 2. One row per document (`baidu-ultr-606k` Feather parts): the same names holding scalars; a
 *    session is a run of consecutive rows with one `query_id`, as that data set's loader groups them.
 *
 * A session's documents are put in order of `position`; positions must be distinct integers ≥ 1.
 * The copies note that `position` "does not always match the original item position" and some
 * sessions lack documents, so positions may have gaps: the click log stores the rank among the
 * logged documents (0, 1, 2, ...) and `displayPosition` keeps the recorded value, row by row.
 * Without `url_md5` a document is identified by (query_id, position), the only identity the file has.
 * Query ids and document ids become dense indices (see replayed-log.ts).
 *
 * Arrow files must be uncompressed IPC (flechette does not decode LZ4/ZSTD record batches; pyarrow
 * writes Feather with LZ4 by default: re-save with `compression='uncompressed'`, or use Parquet).
 *
 * This reader holds the whole file in memory and makes a JS object per row; the Parquet copies and
 * the authors' raw gzipped partitions stream through baidu-ultr-parquet.ts and baidu-ultr-raw.ts
 * (a file, a folder or a glob, several times faster: docs/baidu-ultr.md). It stays for Arrow files
 * and the annotations.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { tableFromIPC, type Table } from '@uwdata/flechette';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { MAX_LIST_LENGTH, type ClickLog, type RankingData } from '../core/types.js';
import { describeValue } from './tokenizer.js';
import { IdVocabulary } from './id-vocabulary.js';
import type { ReplayedClicks } from './replayed-log.js';
import { type Growable, grown } from './log-schema.js';

export interface BaiduUltrClickLog extends ReplayedClicks {
  /** The `position` each row had in the file (1-based); the log's own position is the rank within the session. */
  readonly displayPosition: Uint16Array;
  /** `displayed_time` per row, when the file has it. */
  readonly displayedTime: Float32Array | null;
}

/** Rows handed to the builder per read: bounds the memory of the decoded (row-object) Parquet values. */
const BLOCK_ROWS = 1 << 16;

/** A table-shaped source: Parquet (read a block of rows at a time) or Arrow IPC (decoded lazily, whole). */
interface ColumnSource {
  readonly columns: readonly string[];
  readonly rows: number;
  /** Values of `names` for rows [start, end). */
  read(names: readonly string[], start: number, end: number): Promise<Record<string, ArrayLike<unknown>>>;
}

async function openSource(path: string): Promise<ColumnSource> {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return openParquet(path);
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return openArrow(path);
  throw new ConfigError(path, "cannot tell the Baidu-ULTR file format from the file name's extension: expected .parquet, .arrow or .feather");
}

async function openParquet(path: string): Promise<ColumnSource> {
  const file: AsyncBuffer = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new DataFormatError(path, null, `expected a Parquet file, found data that does not decode (${(error as Error).message})`);
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  return {
    columns,
    rows: Number(metadata.num_rows),
    async read(names, start, end) {
      let objects: Record<string, unknown>[];
      try {
        objects = await parquetReadObjects({ file, metadata, columns: [...names], rowStart: start, rowEnd: end });
      } catch (error) {
        throw new DataFormatError(path, null, `expected Parquet rows ${start + 1}–${end} to decode, found an error (${(error as Error).message})`);
      }
      const out: Record<string, unknown[]> = {};
      for (const name of names) out[name] = objects.map((o) => o[name]);
      return out;
    },
  };
}

async function openArrow(path: string): Promise<ColumnSource> {
  const bytes = await readFile(path);
  let table: Table;
  try {
    table = tableFromIPC(bytes, { useBigInt: true });
  } catch (error) {
    const message = (error as Error).message;
    const hint = /compression/i.test(message) ? ' — compressed Arrow is not read: re-save uncompressed or as Parquet' : '';
    throw new DataFormatError(path, null, `expected uncompressed Arrow IPC data, found bytes that do not decode (${message})${hint}`);
  }
  return {
    columns: table.schema.fields.map((f) => f.name),
    rows: table.numRows,
    async read(names, start, end) {
      const out: Record<string, unknown[]> = {};
      for (const name of names) {
        const column = table.getChild(name);
        const values: unknown[] = new Array(end - start);
        for (let r = start; r < end; r++) values[r - start] = column.at(r);
        out[name] = values;
      }
      return out;
    },
  };
}

/** Grows typed arrays as sessions arrive. */
class RowSink {
  rows = 0;
  document = new Int32Array(1 << 12);
  position = new Uint16Array(1 << 12);
  display = new Uint16Array(1 << 12);
  value = new Int32Array(1 << 12); // click or label
  time: Float32Array | null;
  sessionQuery: number[] = [];
  sessionOffsets: number[] = [0];

  constructor(time: boolean) {
    this.time = time ? new Float32Array(1 << 12) : null;
  }

  reserve(n: number): void {
    if (this.rows + n <= this.document.length) return;
    let size = this.document.length;
    while (this.rows + n > size) size *= 2;
    const grow = <T extends Growable>(a: T): T => grown(a, size);
    this.document = grow(this.document);
    this.position = grow(this.position);
    this.display = grow(this.display);
    this.value = grow(this.value);
    if (this.time !== null) this.time = grow(this.time);
  }
}

interface Roles {
  readonly query: string;
  readonly position: string;
  readonly value: string; // click or label
  readonly url: string | null;
  readonly n: string | null;
  readonly time: string | null;
}

function findRoles(path: string, columns: readonly string[], value: 'click' | 'label', withTime: boolean): Roles {
  const have = new Set(columns);
  const missing = ['query_id', 'position', value].filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new DataFormatError(path, null, `expected the Baidu-ULTR columns ${missing.map((c) => `'${c}'`).join(', ')}, missing; found columns: ${columns.map((c) => `'${c}'`).join(', ')}`);
  }
  return {
    query: 'query_id',
    position: 'position',
    value,
    url: have.has('url_md5') ? 'url_md5' : null,
    n: have.has('n') ? 'n' : null,
    time: withTime && have.has('displayed_time') ? 'displayed_time' : null,
  };
}

function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/**
 * Reads either layout (see the top of this file) into `sink`, validating every value.
 * `check(value)` says what is wrong with a click or label value, or null.
 */
async function readSessions(
  path: string,
  roles: Roles,
  sink: RowSink,
  valueCheck: (v: number) => string | null,
  queries: IdVocabulary,
  documents: IdVocabulary,
  source: ColumnSource,
  progress: Progress,
): Promise<void> {
  const names = [roles.query, roles.position, roles.value, roles.url, roles.n, roles.time].filter((n): n is string => n !== null);
  const fail = (row: number, problem: string): never => {
    throw new DataFormatError(path, null, `row ${row + 1}: ${problem}`);
  };
  const number = (row: number, column: string, v: unknown): number => {
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return Number(v);
    return fail(row, `expected a number in '${column}', found ${describeValue(v)}`);
  };
  const queryKey = (row: number, v: unknown): string => {
    if (typeof v === 'string' && v.length > 0) return v;
    if ((typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint') return String(v);
    return fail(row, `expected a query id (text or integer) in '${roles.query}', found ${describeValue(v)}`);
  };
  // Documents of the session being built (flat layout) or of one row (list layout).
  let current: { query: string; firstRow: number; position: number[]; value: number[]; url: (string | null)[]; time: number[] } | null = null;

  const flush = (): void => {
    if (current === null) return;
    const { query, firstRow, position, value, url, time } = current;
    const n = position.length;
    if (n === 0) fail(firstRow, `expected at least one document in the session of query '${query}', found none`);
    if (n > MAX_LIST_LENGTH) fail(firstRow, `expected at most ${MAX_LIST_LENGTH} documents in a session, found ${n}`);
    const order = Array.from({ length: n }, (_, i) => i);
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) sorted = position[k - 1] <= position[k];
    if (!sorted) order.sort((a, b) => position[a] - position[b]);
    for (let k = 1; k < n; k++) {
      if (position[order[k]] === position[order[k - 1]]) fail(firstRow, `expected distinct positions in the session of query '${query}', found position ${position[order[k]]} twice`);
    }
    sink.reserve(n);
    const q = queries.encode(query);
    sink.sessionQuery.push(q);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const row = sink.rows + k;
      sink.document[row] = documents.encode(url[i] ?? `${query}\t${position[i]}`);
      sink.position[row] = k;
      sink.display[row] = position[i];
      sink.value[row] = value[i];
      if (sink.time !== null) sink.time[row] = time[i];
    }
    sink.rows += n;
    sink.sessionOffsets.push(sink.rows);
    current = null;
  };

  const addDocument = (row: number, where: string, position: unknown, value: unknown, url: unknown, time: unknown): void => {
    const p = number(row, `${roles.position}${where}`, position);
    if (!Number.isInteger(p) || p < 1 || p > MAX_LIST_LENGTH) fail(row, `expected a position in [1, ${MAX_LIST_LENGTH}] in '${roles.position}${where}', found ${p}`);
    const v = number(row, `${roles.value}${where}`, value);
    const problem = valueCheck(v);
    if (problem !== null) fail(row, `expected ${problem} in '${roles.value}${where}', found ${v}`);
    let id: string | null = null;
    if (roles.url !== null) {
      if (typeof url !== 'string' || url.length === 0) fail(row, `expected a document id (text) in '${roles.url}${where}', found ${describeValue(url)}`);
      id = url as string;
    }
    let t = NaN;
    if (roles.time !== null) {
      t = number(row, `${roles.time}${where}`, time);
      if (!(t >= 0)) fail(row, `expected a time ≥ 0 in '${roles.time}${where}', found ${t}`);
    }
    current!.position.push(p);
    current!.value.push(v);
    current!.url.push(id);
    current!.time.push(t);
  };

  let layout: 'list' | 'flat' | null = null;
  progress.start(`reading ${path}`, source.rows);
  for (let start = 0; start < source.rows; start += BLOCK_ROWS) {
    progress.update(start);
    const end = Math.min(source.rows, start + BLOCK_ROWS);
    const block = await source.read(names, start, end);
    for (let r = start; r < end; r++) {
      const i = r - start;
      const query = queryKey(r, block[roles.query][i]);
      const position = block[roles.position][i];
      layout ??= isList(position) ? 'list' : 'flat';
      if (layout === 'list') {
        const lists: Record<string, ArrayLike<unknown>> = {};
        for (const column of [roles.position, roles.value, roles.url, roles.time]) {
          if (column === null) continue;
          const v = block[column][i];
          if (!isList(v)) fail(r, `expected a list in '${column}' (one value per document, as in row 1), found ${describeValue(v)}`);
          lists[column] = v as ArrayLike<unknown>;
        }
        const length = lists[roles.position].length;
        for (const [column, list] of Object.entries(lists)) {
          if (list.length !== length) fail(r, `expected '${column}' to list ${length} values (as '${roles.position}'), found ${list.length}`);
        }
        if (roles.n !== null) {
          const n = number(r, roles.n, block[roles.n][i]);
          if (n !== length) fail(r, `expected '${roles.n}' to equal the ${length} documents listed, found ${n}`);
        }
        current = { query, firstRow: r, position: [], value: [], url: [], time: [] };
        for (let k = 0; k < length; k++) {
          addDocument(r, `[${k}]`, lists[roles.position][k], lists[roles.value][k], roles.url === null ? null : lists[roles.url][k], roles.time === null ? null : lists[roles.time][k]);
        }
        flush();
      } else {
        if (isList(position)) fail(r, `expected a number in '${roles.position}' (one document per row, as in row 1), found a list`);
        if (current !== null && current.query !== query) flush();
        current ??= { query, firstRow: r, position: [], value: [], url: [], time: [] };
        addDocument(r, '', position, block[roles.value][i], roles.url === null ? null : block[roles.url][i], roles.time === null ? null : block[roles.time][i]);
      }
    }
  }
  flush();
  progress.finish();
}

/** Reads a Baidu-ULTR click file (Parquet, or uncompressed Arrow/Feather) into a click log; `progress` reports the rows read. */
export async function readBaiduUltrClicks(path: string, options: { progress?: Progress } = {}): Promise<BaiduUltrClickLog> {
  const source = await openSource(path);
  const roles = findRoles(path, source.columns, 'click', true);
  const sink = new RowSink(roles.time !== null);
  const queries = new IdVocabulary();
  const documents = new IdVocabulary();
  await readSessions(path, roles, sink, (v) => (v === 0 || v === 1 ? null : '0 or 1'), queries, documents, source, options.progress ?? silentProgress);
  const rows = sink.rows;
  const log: ClickLog = {
    sessionQuery: Int32Array.from(sink.sessionQuery),
    sessionOffsets: Int32Array.from(sink.sessionOffsets),
    document: sink.document.slice(0, rows),
    position: sink.position.slice(0, rows),
    click: Uint8Array.from(sink.value.subarray(0, rows)),
  };
  return {
    logged: { log },
    queryIds: queries.ids,
    itemIds: documents.ids,
    displayPosition: sink.display.slice(0, rows),
    displayedTime: sink.time === null ? null : sink.time.slice(0, rows),
  };
}

/**
 * Reads the Baidu-ULTR expert annotations (grades 0–4: bad, fair, good, excellent, perfect) as
 * ranking data: one query per row (or run of rows), its documents in position order, no features
 * (`numFeatures` 0: the copies' 768-d BERT vectors are not read), `qids` the query ids and
 * `docIds` the `url_md5` ids (or `query_id<TAB>position` without them).
 */
export async function readBaiduUltrAnnotations(path: string, options: { progress?: Progress } = {}): Promise<RankingData> {
  const source = await openSource(path);
  const roles = findRoles(path, source.columns, 'label', false);
  const sink = new RowSink(false);
  const queries = new IdVocabulary();
  const documents = new IdVocabulary();
  await readSessions(path, roles, sink, (v) => (Number.isInteger(v) && v >= 0 && v <= 4 ? null : 'an integer grade in [0, 4]'), queries, documents, source, options.progress ?? silentProgress);
  const rows = sink.rows;
  return {
    source: path,
    numFeatures: 0,
    features: new Float32Array(0),
    labels: sink.value.slice(0, rows),
    queryOffsets: Int32Array.from(sink.sessionOffsets),
    qids: sink.sessionQuery.map((q) => queries.ids[q]),
    docIds: Array.from(sink.document.subarray(0, rows), (d) => documents.ids[d]),
  };
}
