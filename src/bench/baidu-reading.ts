/**
 * Baidu-ULTR reading throughput, new readers against the old one in the same process: the Parquet
 * copy's layout (one row per session, list columns) read by the in-memory reader (hyparquet row
 * objects: the baseline, ~14k sessions/s when the streamed readers were written) and through DuckDB,
 * and the same sessions as the authors' raw gzipped text read by the byte-scanning reader, with and
 * without the displayed time, next to gunzip alone (the floor of any raw .gz reader in one thread).
 *
 * The sessions have 10 documents (part-00000.gz averages 10.6: 6,271,536 documents of 589,824
 * queries), 32-hex-digit url_md5 ids, and raw document lines of the README's 32 fields with a title
 * of 10 and an abstract of 40 token ids (a guess at real lengths: the bytes per line drive the raw
 * reader's speed). The Parquet file has no BERT embedding column (the copies' 768 floats a document
 * are never decoded by either reader). Files are generated under the OS temporary folder, then removed.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { randomStream } from '../core/random.js';
import { readBaiduUltrClicks } from '../data/baidu-ultr.js';
import { readBaiduUltrParquet } from '../data/baidu-ultr-parquet.js';
import { readBaiduUltrRaw } from '../data/baidu-ultr-raw.js';
import { type BenchmarkRow, withRatios } from './rows.js';

const DOCUMENTS = 10;
const TITLE_TOKENS = 10;
const ABSTRACT_TOKENS = 40;

/** Bytes of gzipped and of plain raw text written, for the report. */
interface BaiduBenchFiles {
  readonly parquet: string;
  readonly raw: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
}

/** `sessions` sessions written as a Parquet copy and as raw gzipped text into `dir`. */
async function writeFiles(dir: string, sessions: number): Promise<BaiduBenchFiles> {
  const rng = randomStream('baidu-reading');
  const hex = (): string =>
    Array.from({ length: 4 }, () =>
      rng
        .int(2 ** 32)
        .toString(16)
        .padStart(8, '0'),
    ).join('');
  const urls = Array.from({ length: 200_000 }, hex);
  const tokens = (n: number): string => Array.from({ length: n }, () => String(rng.int(100_000))).join('\x01');
  const columns = { query_id: [] as string[], url_md5: [] as string[][], position: [] as number[][], click: [] as number[][], displayed_time: [] as number[][] };
  const raw = path.join(dir, 'part-00001.gz');
  const gzip = createGzip();
  const out = gzip.pipe(createWriteStream(raw));
  let rawBytes = 0;
  let text: string[] = [];
  for (let s = 0; s < sessions; s++) {
    const query = String(rng.int(1_000_000));
    const docs = Array.from({ length: DOCUMENTS }, () => urls[rng.int(urls.length)]);
    const clicks = docs.map(() => (rng.uniform() < 0.1 ? 1 : 0));
    const times = docs.map(() => Math.round(rng.uniform() * 4000) / 100);
    columns.query_id.push(query);
    columns.url_md5.push(docs);
    columns.position.push(docs.map((_, k) => k + 1));
    columns.click.push(clicks);
    columns.displayed_time.push(times);
    text.push(`${query}\t${tokens(3)}\t${tokens(3)}`);
    docs.forEach((url, k) => {
      const rest = Array.from({ length: 21 }, () => String(rng.int(10)));
      text.push([k + 1, url, tokens(TITLE_TOKENS), tokens(ABSTRACT_TOKENS), 0, clicks[k], '-', '-', 0, 1080, times[k], ...rest].join('\t'));
    });
    if (text.length >= 10_000 || s === sessions - 1) {
      const chunk = `${text.join('\n')}\n`;
      rawBytes += Buffer.byteLength(chunk);
      text = [];
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
    }
  }
  gzip.end();
  await finished(out);
  const listOf = (name: string, type: 'INT32' | 'FLOAT' | 'BYTE_ARRAY'): SchemaElement[] => [
    { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type, repetition_type: 'OPTIONAL', ...(type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' as const } : {}) },
  ];
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 5 },
    { name: 'query_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ...listOf('url_md5', 'BYTE_ARRAY'),
    ...listOf('position', 'INT32'),
    ...listOf('click', 'INT32'),
    ...listOf('displayed_time', 'FLOAT'),
  ];
  const parquet = path.join(dir, 'clicks.parquet');
  writeFileSync(parquet, new Uint8Array(parquetWriteBuffer({ schema, columnData: Object.entries(columns).map(([name, data]) => ({ name, data })) })));
  return { parquet, raw, rawBytes, gzipBytes: statSync(raw).size };
}

/** Sessions a second of `read`, timed once. */
async function rate(sessions: number, read: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await read();
  return sessions / ((performance.now() - started) / 1000);
}

async function gunzipOnly(file: string): Promise<void> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 }));
  for await (const _ of stream) {
    // bytes only
  }
}

/** The Baidu-ULTR reading rows on `sessions` generated sessions; `onFiles` sees the file sizes. */
export async function baiduReadingRows(sessions: number, onFiles?: (files: BaiduBenchFiles) => void | Promise<void>): Promise<BenchmarkRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-baidu-reading-'));
  try {
    const files = await writeFiles(dir, sessions);
    await onFiles?.(files);
    return withRatios('Baidu-ULTR reading (10 documents a session)', 'sessions/s', [
      ['Parquet, in-memory reader (hyparquet row objects; before)', await rate(sessions, () => readBaiduUltrClicks(files.parquet))],
      ['Parquet through DuckDB, column batches (readBaiduUltrParquet)', await rate(sessions, () => readBaiduUltrParquet(files.parquet))],
      ['raw .gz, byte-scanning reader (readBaiduUltrRaw)', await rate(sessions, () => readBaiduUltrRaw(files.raw))],
      ['raw .gz, without displayed time (as convert)', await rate(sessions, () => readBaiduUltrRaw(files.raw, { displayedTime: false }))],
      ['raw .gz, gunzip alone (the floor of one thread)', await rate(sessions, () => gunzipOnly(files.raw))],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
