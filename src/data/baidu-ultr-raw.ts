/**
 * Baidu-ULTR click sessions from the authors' raw gzipped text partitions (`part-00000.gz`, ...;
 * the WSDM Cup 2023 "Unbiased learning to rank" training data), streamed: gunzipped by node's zlib
 * and cut into lines and fields by scanning bytes, handed over as batches of whole sessions, so
 * memory is one batch plus the id vocabularies, whatever the length of the log.
 *
 * Layout (verified against the authors' README, "Large Scale Web Search Session Data", and their
 * loader `dataloader.py` in github.com/ChuXiaokai/baidu_ultr_dataset, and against Hager's parser,
 * github.com/philipphager/baidu-ultr-parser `src/const.py` and `src/dataset.py`): lines separated
 * by '\n', fields by '\t'. A line with 3 fields starts a search session:
 *     0 qid, 1 query (token ids joined by '\x01'), 2 query reformulation (the same)
 * every following line with more fields is one displayed document of that session:
 *     0 pos (display order, [1, 30] in the README), 1 url_md5, 2 title tokens, 3 abstract tokens,
 *     4 multimedia type, 5 click (0/1), 6 -, 7 -, 8 skip, 9 SERP height, 10 displayed time,
 *     11 displayed time middle, 12 first click, ... (32 fields in the README's table; up to 31 is
 *     not read here).
 * The authors' loader tells the two kinds apart by the field count (3: a query; more than 6: a
 * document), and so does this reader; a line of any other count is an error naming its file and
 * line. Read: qid (the query id, as text), pos, url_md5 (the document id), click and, optionally,
 * displayed time (field 10, seconds on screen, as the Parquet copies' `displayed_time`). Not
 * verified against a real partition (none was at hand): whether a query line can come without any
 * document line (read as an error here, as the Parquet reader treats an empty session), and the
 * number format of displayed time (read as any decimal number ≥ 0).
 *
 * Input: one file (gzipped when its name ends in .gz, else plain text), a folder (its .gz files,
 * in any subfolder, in path order) or a glob (DuckDB's, as every other log input).
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { ConfigError, DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { MAX_LIST_LENGTH } from '../core/types.js';
import type { BaiduUltrClickLog } from './baidu-ultr.js';
import { BaiduSessionBuilder, collectBaiduUltrBatches, DEFAULT_BATCH_ROWS, newVocabularies, type BaiduUltrBatch, type BaiduUltrBatchOptions } from './baidu-ultr-sessions.js';
import { ByteIds } from './byte-ids.js';
import { isGlob, LogEngine } from './engine.js';

const TAB = 9;
const NEWLINE = 10;
const CR = 13;
const ZERO = 48;
/** Bytes read (and gunzipped) at a time. */
const CHUNK_BYTES = 1 << 20;
/** Field indices of a document line (pos is field 0, url_md5 field 1). */
const CLICK = 5;
const DISPLAYED_TIME = 10;

/** The files of a raw Baidu-ULTR input: the file, a folder's .gz partitions or a glob's matches, in path order. */
export async function baiduUltrRawFiles(input: string, option = '--log'): Promise<string[]> {
  let files: string[];
  if (isGlob(input)) {
    const engine = await LogEngine.open({ threads: 1 });
    try {
      files = await engine.glob(input);
    } finally {
      engine.close();
    }
  } else {
    let folder: boolean;
    try {
      folder = statSync(input).isDirectory();
    } catch {
      throw new ConfigError(option, `expected a file, a folder of partitions or a glob, found no file or folder '${input}'`);
    }
    files = folder
      ? readdirSync(input, { recursive: true })
          .map(String)
          .filter((f) => /\.gz$/i.test(f))
          .map((f) => join(input, f))
          .sort()
      : [input];
  }
  if (files.length === 0) throw new ConfigError(option, `expected gzipped Baidu-ULTR partitions (.gz) in '${input}', found none`);
  return files;
}

/**
 * The sessions of a raw Baidu-ULTR input as batches of whole sessions (about `batchRows` rows each),
 * files in path order, each in its line order; indices point into `options.vocabularies`.
 */
export async function* baiduUltrRawBatches(input: string, options: BaiduUltrBatchOptions & { readonly progress?: Progress } = {}): AsyncGenerator<BaiduUltrBatch> {
  const files = await baiduUltrRawFiles(input);
  const builder = new BaiduSessionBuilder(options.vocabularies ?? newVocabularies(), options.displayedTime ?? true);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const progress = options.progress ?? silentProgress;
  const queryIds = new ByteIds();
  const ids = new ByteIds();
  for (const file of files) {
    progress.start(`reading ${file}`, 0);
    const parser = new RawParser(file, builder, queryIds, ids);
    const source = createReadStream(file, { highWaterMark: CHUNK_BYTES });
    const stream = /\.gz$/i.test(file) ? source.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : source;
    // A source error (a missing file) reaches the gunzip stream's iterator only this way.
    if (stream !== source) source.on('error', (error) => stream.destroy(error));
    let rest: Buffer | null = null;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const buffer: Buffer = rest === null ? chunk : Buffer.concat([rest, chunk]);
        let at = 0;
        for (;;) {
          at = parser.lines(buffer, at, false, batchRows);
          if (builder.rows < batchRows) break;
          yield builder.take(); // the parser stopped at the session that filled the batch
        }
        rest = at < buffer.length ? buffer.subarray(at) : null;
        progress.update(parser.line);
      }
    } catch (error) {
      if (error instanceof DataFormatError) throw error;
      throw new DataFormatError(file, null, `expected ${stream === source ? 'a readable text file' : 'gzip data'}, found an error (${(error as Error).message})`);
    }
    if (rest !== null) parser.lines(rest, 0, true, Number.POSITIVE_INFINITY);
    parser.endSession();
    progress.finish(`${parser.line} lines`);
  }
  if (builder.rows > 0) yield builder.take();
}

/** A raw Baidu-ULTR input read whole into one click log with its ids (memory grows with the log; see `baiduUltrRawBatches` for a stream). */
export async function readBaiduUltrRaw(input: string, options: Omit<BaiduUltrBatchOptions, 'batchRows'> & { readonly progress?: Progress } = {}): Promise<BaiduUltrClickLog> {
  const vocabularies = options.vocabularies ?? newVocabularies();
  return collectBaiduUltrBatches(baiduUltrRawBatches(input, { ...options, vocabularies }), vocabularies);
}

/** The lines of one file, parsed into a builder; `line` counts the lines read (1-based line of the last one). */
class RawParser {
  line = 0;
  private inSession = false;
  private sessionLine = 0;

  /** Document ids first seen in the current session: index among the session's documents, then the text. */
  private readonly unseen: (number | string)[] = [];
  /** The current session's query id, when first seen in it, or null. */
  private unseenQuery: string | null = null;

  constructor(
    private readonly file: string,
    private readonly builder: BaiduSessionBuilder,
    /** The vocabulary index of every query and document id seen in this read, by its bytes. */
    private readonly queryIds: ByteIds,
    private readonly ids: ByteIds,
  ) {}

  /**
   * Parses the whole lines of `buffer` from `from` (and the last one, unterminated, when `last`),
   * stopping early once the builder holds `limit` rows of ended sessions; returns the offset after
   * the last line parsed.
   */
  lines(buffer: Buffer, from: number, last: boolean, limit: number): number {
    let at = from;
    const length = buffer.length;
    while (at < length && this.builder.rows < limit) {
      let end = buffer.indexOf(NEWLINE, at);
      if (end < 0) {
        if (!last) break;
        end = length;
      }
      this.line++;
      this.parse(buffer, at, end > at && buffer[end - 1] === CR ? end - 1 : end);
      at = end + 1;
    }
    return Math.min(at, length);
  }

  endSession(): void {
    if (!this.inSession) return;
    this.inSession = false;
    this.builder.end((problem) => {
      throw new DataFormatError(this.file, this.sessionLine, problem);
    });
    // Ids first seen in this session got their indices from the builder (in position order, as the other readers number them).
    for (let j = 0; j < this.unseen.length; j += 2) {
      const bytes = Buffer.from(this.unseen[j + 1] as string, 'latin1');
      if (this.ids.get(bytes, 0, bytes.length) < 0) this.ids.set(bytes, 0, bytes.length, this.builder.documentOf(this.unseen[j] as number));
    }
    this.unseen.length = 0;
    if (this.unseenQuery !== null) {
      const bytes = Buffer.from(this.unseenQuery, 'latin1');
      if (this.queryIds.get(bytes, 0, bytes.length) < 0) this.queryIds.set(bytes, 0, bytes.length, this.builder.endedQuery);
      this.unseenQuery = null;
    }
  }

  private fail(problem: string): never {
    throw new DataFormatError(this.file, this.line, problem);
  }

  /** One line, bytes [start, end) of `b`. */
  private parse(b: Buffer, start: number, end: number): void {
    // Field boundaries by memchr (Buffer.indexOf): a tab past `end` belongs to a later line.
    const t1 = b.indexOf(TAB, start);
    const t2 = t1 < 0 || t1 >= end ? -1 : b.indexOf(TAB, t1 + 1);
    if (t2 < 0 || t2 >= end)
      this.fail(
        `expected a query line (3 tab-separated fields: qid, query, reformulation) or a document line (pos, url_md5, title, abstract, type, click, ...), found ${t1 < 0 || t1 >= end ? 1 : 2} field${t1 < 0 || t1 >= end ? '' : 's'}`,
      );
    const t3 = b.indexOf(TAB, t2 + 1);
    if (t3 < 0 || t3 >= end) {
      this.endSession();
      if (t1 === start) this.fail('expected a query id in field 1 of the query line, found an empty field');
      const known = this.queryIds.get(b, start, t1);
      if (known >= 0) {
        this.builder.begin(this.builder.vocabularies.queries.ids[known], known);
      } else {
        this.unseenQuery = b.toString('latin1', start, t1);
        this.builder.begin(this.unseenQuery);
      }
      this.inSession = true;
      this.sessionLine = this.line;
      return;
    }
    if (!this.inSession) this.fail('expected a query line (3 fields) before the first document line, found a document line');
    // Fields 3 (abstract) to the last one read, each ending at the next tab or at the end of the line.
    let from = t3 + 1;
    let clickStart = -1;
    let clickEnd = -1;
    let timeStart = -1;
    let timeEnd = -1;
    const lastField = this.builder.withTime ? DISPLAYED_TIME : CLICK;
    for (let field = 3; ; field++) {
      let t = b.indexOf(TAB, from);
      if (t < 0 || t > end) t = end;
      if (field === CLICK) {
        clickStart = from;
        clickEnd = t;
      } else if (field === DISPLAYED_TIME) {
        timeStart = from;
        timeEnd = t;
      }
      if (field === lastField) break;
      if (t === end) {
        this.fail(
          `expected a query line (3 fields) or a document line of at least ${lastField + 1} fields (${lastField === CLICK ? 'click' : 'displayed time'} is field ${lastField + 1}), found ${field + 1} fields`,
        );
      }
      from = t + 1;
    }
    // pos: digits only.
    let position = 0;
    if (t1 === start || t1 - start > 6) this.fail(`expected a position in [1, ${MAX_LIST_LENGTH}] in field 1 (pos), found '${b.toString('latin1', start, t1)}'`);
    for (let i = start; i < t1; i++) {
      const digit = b[i] - ZERO;
      if (digit < 0 || digit > 9) this.fail(`expected a position in [1, ${MAX_LIST_LENGTH}] in field 1 (pos), found '${b.toString('latin1', start, t1)}'`);
      position = position * 10 + digit;
    }
    if (position < 1 || position > MAX_LIST_LENGTH) this.fail(`expected a position in [1, ${MAX_LIST_LENGTH}] in field 1 (pos), found ${position}`);
    if (t2 === t1 + 1) this.fail('expected a document id in field 2 (url_md5), found an empty field');
    const click = clickEnd === clickStart + 1 ? b[clickStart] - ZERO : -1;
    if (click !== 0 && click !== 1) this.fail(`expected a click of 0 or 1 in field 6, found '${b.toString('latin1', clickStart, clickEnd)}'`);
    let time = Number.NaN;
    if (timeStart >= 0) {
      time = timeEnd > timeStart ? Number(b.toString('latin1', timeStart, timeEnd)) : Number.NaN;
      if (!(time >= 0 && time < Number.POSITIVE_INFINITY)) this.fail(`expected a displayed time ≥ 0 (seconds) in field 11, found '${b.toString('latin1', timeStart, timeEnd)}'`);
    }
    const known = this.ids.get(b, t1 + 1, t2);
    if (known >= 0) {
      this.builder.add(position, null, click, time, known);
    } else {
      // First sight: the builder encodes the text in position order (as the other readers), and the bytes are stored once the session ends.
      const url = b.toString('latin1', t1 + 1, t2);
      this.unseen.push(this.builder.pending, url);
      this.builder.add(position, url, click, time);
    }
  }
}
