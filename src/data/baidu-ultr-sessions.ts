/**
 * Baidu-ULTR click sessions as the streamed readers hand them over: batches of whole sessions in
 * typed arrays, whose query and document indices point into vocabularies shared by every batch of a
 * read (the raw gzipped text in baidu-ultr-raw.ts, the Parquet copies through DuckDB in
 * baidu-ultr-parquet.ts). One builder checks and orders every session for both readers, the way
 * the in-memory reader (baidu-ultr.ts) does, so the three give the same log for the same sessions.
 */
import { MAX_LIST_LENGTH, type ClickLog } from '../core/types.js';
import type { BaiduUltrClickLog } from './baidu-ultr.js';
import { IdVocabulary } from './id-vocabulary.js';
import { type Growable, grown } from './log-schema.js';

/** Sessions read so far, as a click log whose indices point into the read's vocabularies. */
export interface BaiduUltrBatch {
  /** Positions are ranks among the session's logged documents (0, 1, ...). */
  readonly log: ClickLog;
  /** The recorded (1-based) position of each row. */
  readonly displayPosition: Uint16Array;
  /** Seconds each document was on screen, when read. */
  readonly displayedTime: Float32Array | null;
}

/** The text ids behind a read's indices; they grow as batches arrive (memory: the distinct ids, not the rows). */
export interface BaiduUltrVocabularies {
  readonly queries: IdVocabulary;
  readonly documents: IdVocabulary;
}

export interface BaiduUltrBatchOptions {
  /** Rows (displayed documents) per batch, about: a batch ends at the first session boundary past it (default 2^20). */
  readonly batchRows?: number;
  /** Keep the displayed time of each document (default true). */
  readonly displayedTime?: boolean;
  /** Vocabularies to encode into (default fresh ones): pass them to read several inputs into one id space, or to look ids up while streaming. */
  readonly vocabularies?: BaiduUltrVocabularies;
}

export const DEFAULT_BATCH_ROWS = 1 << 20;

/**
 * Builds batches one session at a time: `begin`, `add` per document, `end` (which checks the
 * positions, orders the documents by position and encodes the ids: the query first, then the
 * documents in position order, as the in-memory reader does, so that indices agree), and `take`
 * the finished sessions. `fail` is how a reader reports a problem with the session being ended.
 */
export class BaiduSessionBuilder {
  private query = '';
  private readonly pendingPosition: number[] = [];
  private readonly pendingUrl: (string | null)[] = [];
  private readonly pendingClick: number[] = [];
  private readonly pendingTime: number[] = [];
  private readonly pendingDocument: number[] = [];
  private readonly order: number[] = [];
  private sessionQuery: number[] = [];
  private sessionOffsets: number[] = [0];
  private document: Int32Array;
  private position: Uint16Array;
  private display: Uint16Array;
  private click: Uint8Array;
  private time: Float32Array | null;
  rows = 0;

  constructor(
    readonly vocabularies: BaiduUltrVocabularies,
    withTime: boolean,
    capacity = 1 << 12,
  ) {
    this.document = new Int32Array(capacity);
    this.position = new Uint16Array(capacity);
    this.display = new Uint16Array(capacity);
    this.click = new Uint8Array(capacity);
    this.time = withTime ? new Float32Array(capacity) : null;
  }

  get withTime(): boolean {
    return this.time !== null;
  }

  /** The query index the session ended last got (`end`). */
  endedQuery = -1;
  private queryIndex = -1;

  /** Starts a session of `query`; `queryIndex`, its index in the queries' vocabulary where the reader knows it already. */
  begin(query: string, queryIndex = -1): void {
    this.query = query;
    this.queryIndex = queryIndex;
    this.pendingPosition.length = 0;
    this.pendingUrl.length = 0;
    this.pendingClick.length = 0;
    this.pendingTime.length = 0;
    this.pendingDocument.length = 0;
  }

  /**
   * A document of the session: `position` an integer in [1, MAX_LIST_LENGTH], `click` 0 or 1 (the
   * reader checks both); `url` its id, or null where the file has none; or `document`, its index in
   * the documents' vocabulary where the reader encoded it already (then `url` is not read).
   */
  add(position: number, url: string | null, click: number, time: number, document = -1): void {
    this.pendingDocument.push(document);
    this.pendingPosition.push(position);
    this.pendingUrl.push(url);
    this.pendingClick.push(click);
    this.pendingTime.push(time);
  }

  /** Documents added to the session begun last. */
  get pending(): number {
    return this.pendingPosition.length;
  }

  /** The document index the `k`-th document added to the session ended last got (until the next `begin`). */
  documentOf(k: number): number {
    return this.pendingDocument[k];
  }

  /** Ends the session begun last; `fail(problem)` throws the reader's error for it. */
  end(fail: (problem: string) => never): void {
    const position = this.pendingPosition;
    const n = position.length;
    if (n === 0) fail(`expected at least one document in the session of query '${this.query}', found none`);
    if (n > MAX_LIST_LENGTH) fail(`expected at most ${MAX_LIST_LENGTH} documents in a session, found ${n}`);
    const order = this.order;
    order.length = n;
    let sorted = true;
    for (let k = 0; k < n; k++) {
      order[k] = k;
      if (k > 0 && position[k - 1] > position[k]) sorted = false;
    }
    if (!sorted) order.sort((a, b) => position[a] - position[b]);
    for (let k = 1; k < n; k++) {
      if (position[order[k]] === position[order[k - 1]]) fail(`expected distinct positions in the session of query '${this.query}', found position ${position[order[k]]} twice`);
    }
    this.reserve(n);
    const { queries, documents } = this.vocabularies;
    this.endedQuery = this.queryIndex >= 0 ? this.queryIndex : queries.encode(this.query);
    this.sessionQuery.push(this.endedQuery);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const row = this.rows + k;
      let encoded = this.pendingDocument[i];
      if (encoded < 0) this.pendingDocument[i] = encoded = documents.encode(this.pendingUrl[i] ?? `${this.query}\t${position[i]}`);
      this.document[row] = encoded;
      this.position[row] = k;
      this.display[row] = position[i];
      this.click[row] = this.pendingClick[i];
      if (this.time !== null) this.time[row] = this.pendingTime[i];
    }
    this.rows += n;
    this.sessionOffsets.push(this.rows);
  }

  /** The sessions ended since the last `take`, as a batch (copies: the builder's arrays are reused). */
  take(): BaiduUltrBatch {
    const rows = this.rows;
    const batch: BaiduUltrBatch = {
      log: {
        sessionQuery: Int32Array.from(this.sessionQuery),
        sessionOffsets: Int32Array.from(this.sessionOffsets),
        document: this.document.slice(0, rows),
        position: this.position.slice(0, rows),
        click: this.click.slice(0, rows),
      },
      displayPosition: this.display.slice(0, rows),
      displayedTime: this.time === null ? null : this.time.slice(0, rows),
    };
    this.sessionQuery = [];
    this.sessionOffsets = [0];
    this.rows = 0;
    return batch;
  }

  private reserve(n: number): void {
    if (this.rows + n <= this.document.length) return;
    let size = this.document.length;
    while (this.rows + n > size) size *= 2;
    const grow = <T extends Growable>(a: T): T => grown(a, size);
    this.document = grow(this.document);
    this.position = grow(this.position);
    this.display = grow(this.display);
    this.click = grow(this.click);
    if (this.time !== null) this.time = grow(this.time);
  }
}

/** Every batch of a read as one click log with its ids (what `readBaiduUltrClicks` returns): memory grows with the log. */
export async function collectBaiduUltrBatches(batches: AsyncIterable<BaiduUltrBatch>, vocabularies: BaiduUltrVocabularies): Promise<BaiduUltrClickLog> {
  const parts: BaiduUltrBatch[] = [];
  let sessions = 0;
  let rows = 0;
  for await (const batch of batches) {
    parts.push(batch);
    sessions += batch.log.sessionQuery.length;
    rows += batch.log.document.length;
  }
  const sessionQuery = new Int32Array(sessions);
  const sessionOffsets = new Int32Array(sessions + 1);
  const document = new Int32Array(rows);
  const position = new Uint16Array(rows);
  const click = new Uint8Array(rows);
  const displayPosition = new Uint16Array(rows);
  const withTime = parts.length > 0 && parts.every((p) => p.displayedTime !== null);
  const displayedTime = withTime ? new Float32Array(rows) : null;
  let s = 0;
  let r = 0;
  for (const { log, displayPosition: display, displayedTime: time } of parts) {
    sessionQuery.set(log.sessionQuery, s);
    for (let k = 1; k < log.sessionOffsets.length; k++) sessionOffsets[s + k] = r + log.sessionOffsets[k];
    document.set(log.document, r);
    position.set(log.position, r);
    click.set(log.click, r);
    displayPosition.set(display, r);
    if (displayedTime !== null) displayedTime.set(time!, r);
    s += log.sessionQuery.length;
    r += log.document.length;
  }
  return {
    logged: { log: { sessionQuery, sessionOffsets, document, position, click } },
    queryIds: vocabularies.queries.ids,
    itemIds: vocabularies.documents.ids,
    displayPosition,
    displayedTime,
  };
}

export function newVocabularies(): BaiduUltrVocabularies {
  return { queries: new IdVocabulary(), documents: new IdVocabulary() };
}
