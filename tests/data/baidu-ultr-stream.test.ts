import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { float32, int32, list, tableFromArrays, tableToIPC, utf8 } from '@uwdata/flechette';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readBaiduUltrClicks } from '../../src/data/baidu-ultr.js';
import { baiduUltrBatches } from '../../src/data/baidu-ultr-input.js';
import { baiduUltrParquetBatches, readBaiduUltrParquet } from '../../src/data/baidu-ultr-parquet.js';
import { baiduUltrRawBatches, readBaiduUltrRaw } from '../../src/data/baidu-ultr-raw.js';
import { type BaiduUltrBatch, collectBaiduUltrBatches, newVocabularies } from '../../src/data/baidu-ultr-sessions.js';
import { convertClickLog } from '../../src/data/convert.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-baidu-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Session {
  readonly qid: string;
  readonly docs: { readonly pos: number; readonly url: string; readonly click: 0 | 1; readonly time: number }[];
}

/** Sessions of the shapes real logs have: repeated queries and documents, a session listed out of position order, a gap in positions. */
const SESSIONS: Session[] = [
  {
    qid: '1001',
    docs: [
      { pos: 1, url: 'aa', click: 0, time: 1.5 },
      { pos: 2, url: 'bb', click: 1, time: 20 },
      { pos: 3, url: 'cc', click: 0, time: 0 },
    ],
  },
  {
    qid: '1002',
    docs: [
      { pos: 4, url: 'dd', click: 1, time: 3 },
      { pos: 1, url: 'aa', click: 0, time: 0.25 },
      { pos: 2, url: 'ee', click: 0, time: 4 },
    ],
  },
  {
    qid: '1001',
    docs: [
      { pos: 1, url: 'bb', click: 0, time: 2 },
      { pos: 2, url: 'aa', click: 0, time: 2 },
    ],
  },
  { qid: '1003', docs: [{ pos: 1, url: 'ff', click: 1, time: 7.75 }] },
];

/** A document line of the authors' layout: 32 fields, token fields joined by \x01. */
function documentLine(d: Session['docs'][number]): string {
  const fields = [String(d.pos), d.url, '12\x01345\x016', '7\x0189\x01101112', '0', String(d.click), '-', '-', '0', '1080', String(d.time)];
  while (fields.length < 32) fields.push('0');
  return fields.join('\t');
}

function rawText(sessions: Session[]): string {
  return sessions.map((s) => [`${s.qid}\t1\x012\x013\t`, ...s.docs.map(documentLine)].join('\n')).join('\n') + '\n';
}

function writeRaw(sessions: Session[], name = `part-${String(files++).padStart(5, '0')}.gz`, folder = dir): string {
  const file = join(folder, name);
  writeFileSync(file, gzipSync(rawText(sessions)));
  return file;
}

/** The Hugging Face layout (one row per session, list columns) of the same sessions. */
function writeParquet(sessions: Session[], folder = dir): string {
  const listOf = (name: string, type: 'INT32' | 'FLOAT' | 'BYTE_ARRAY'): SchemaElement[] => [
    { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type, repetition_type: 'OPTIONAL', ...(type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' as const } : {}) },
  ];
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 6 },
    { name: 'query_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'n', type: 'INT32', repetition_type: 'OPTIONAL' },
    ...listOf('url_md5', 'BYTE_ARRAY'),
    ...listOf('position', 'INT32'),
    ...listOf('click', 'INT32'),
    ...listOf('displayed_time', 'FLOAT'),
  ];
  const columnData = [
    { name: 'query_id', data: sessions.map((s) => s.qid) },
    { name: 'n', data: sessions.map((s) => s.docs.length) },
    { name: 'url_md5', data: sessions.map((s) => s.docs.map((d) => d.url)) },
    { name: 'position', data: sessions.map((s) => s.docs.map((d) => d.pos)) },
    { name: 'click', data: sessions.map((s) => s.docs.map((d) => d.click)) },
    { name: 'displayed_time', data: sessions.map((s) => s.docs.map((d) => d.time)) },
  ];
  const file = join(folder, `part-${String(files++).padStart(5, '0')}.parquet`);
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ schema, columnData })));
  return file;
}

/** Many generated sessions, for the batch-size test. */
function manySessions(count: number): Session[] {
  return Array.from({ length: count }, (_, s) => ({
    qid: String(s % 17),
    docs: Array.from({ length: 1 + (s % 5) }, (_, k) => ({ pos: k + 1, url: `u${(s * 7 + k) % 23}`, click: ((s + k) % 3 === 0 ? 1 : 0) as 0 | 1, time: k / 4 })),
  }));
}

async function all(batches: AsyncIterable<BaiduUltrBatch>): Promise<BaiduUltrBatch[]> {
  const out: BaiduUltrBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

describe('readBaiduUltrRaw (the authors\u2019 gzipped text partitions)', () => {
  it('reads query lines followed by document lines into the same log as the in-memory Parquet reader', async () => {
    const raw = await readBaiduUltrRaw(writeRaw(SESSIONS));
    const old = await readBaiduUltrClicks(writeParquet(SESSIONS));
    expect(raw.queryIds).toEqual(['1001', '1002', '1003']);
    expect(raw.itemIds).toEqual(old.itemIds);
    expect(raw.logged).toEqual(old.logged);
    expect(Array.from(raw.displayPosition)).toEqual([1, 2, 3, 1, 2, 4, 1, 2, 1]);
    expect(raw.displayedTime).toEqual(old.displayedTime);
    expect(Array.from(raw.logged.log.sessionOffsets)).toEqual([0, 3, 6, 8, 9]);
  });

  it('reads a folder of two partitions and a glob, in path order, into one id space', async () => {
    const folder = join(dir, 'raw-folder');
    mkdirSync(folder);
    writeRaw(SESSIONS.slice(2), 'part-00001.gz', folder);
    writeRaw(SESSIONS.slice(0, 2), 'part-00000.gz', folder);
    writeFileSync(join(folder, 'README.txt'), 'not a partition');
    const whole = await readBaiduUltrRaw(writeRaw(SESSIONS));
    const fromFolder = await readBaiduUltrRaw(folder);
    const fromGlob = await readBaiduUltrRaw(join(folder, 'part-*.gz'));
    expect(fromFolder.logged).toEqual(whole.logged);
    expect(fromFolder.itemIds).toEqual(whole.itemIds);
    expect(fromGlob.logged).toEqual(whole.logged);
    expect(fromGlob.queryIds).toEqual(whole.queryIds);
  });

  it('yields the same sessions in the same order whatever the batch size, every batch whole sessions', async () => {
    const file = writeRaw(manySessions(500));
    const reference = await readBaiduUltrRaw(file);
    for (const batchRows of [1, 7, 100, 1 << 20]) {
      const vocabularies = newVocabularies();
      const batches = await all(baiduUltrRawBatches(file, { batchRows, vocabularies }));
      if (batchRows === 1) expect(batches.length).toBe(500);
      for (const b of batches) {
        expect(b.log.sessionOffsets[0]).toBe(0);
        // Bounded: a batch ends at the first session boundary past batchRows (sessions here have at most 5 documents).
        expect(b.log.document.length).toBeLessThan(batchRows + 5);
      }
      const joined = await collectBaiduUltrBatches(
        (async function* () {
          yield* batches;
        })(),
        vocabularies,
      );
      expect(joined.logged).toEqual(reference.logged);
      expect(joined.displayedTime).toEqual(reference.displayedTime);
    }
  });

  it('reads the last line without a newline, CRLF line ends and plain (not gzipped) text', async () => {
    const text = rawText(SESSIONS).replaceAll('\n', '\r\n').replace(/\r\n$/, '');
    const file = join(dir, 'plain.txt');
    writeFileSync(file, text);
    const plain = await readBaiduUltrRaw(file);
    expect(plain.logged).toEqual((await readBaiduUltrRaw(writeRaw(SESSIONS))).logged);
  });

  it('skips the displayed time when not asked for (documents of 6 fields then suffice)', async () => {
    const file = join(dir, 'short.gz');
    writeFileSync(file, gzipSync('7\tq\t\n1\tu1\tt\ta\t0\t1\n2\tu2\tt\ta\t0\t0\n'));
    const log = await readBaiduUltrRaw(file, { displayedTime: false });
    expect(log.displayedTime).toBeNull();
    expect(Array.from(log.logged.log.click)).toEqual([1, 0]);
    await expect(readBaiduUltrRaw(file)).rejects.toThrow(`${file}:2: expected a query line (3 fields) or a document line of at least 11 fields (displayed time is field 11), found 6 fields`);
  });

  const spoiled: [string, string, string][] = [
    ['a click of 2', documentLine({ pos: 3, url: 'x', click: 0, time: 1 }).replace('\t0\t-', '\t2\t-'), "3: expected a click of 0 or 1 in field 6, found '2'"],
    ['a position that is not a number', documentLine({ pos: 3, url: 'x', click: 0, time: 1 }).replace(/^3/, 'x'), "3: expected a position in [1, 65536] in field 1 (pos), found 'x'"],
    ['a line of 2 fields', '1\tx', '3: expected a query line (3 tab-separated fields: qid, query, reformulation) or a document line (pos, url_md5, title, abstract, type, click, ...), found 2 fields'],
    ['a repeated position', documentLine({ pos: 1, url: 'x', click: 0, time: 1 }), "1: expected distinct positions in the session of query '9', found position 1 twice"],
    ['a negative displayed time', documentLine({ pos: 3, url: 'x', click: 0, time: -1 }), "3: expected a displayed time ≥ 0 (seconds) in field 11, found '-1'"],
  ];
  for (const [name, line, message] of spoiled) {
    it(`rejects ${name} in one line naming the file and line`, async () => {
      const file = join(dir, `spoiled-${files++}.gz`);
      writeFileSync(file, gzipSync(`9\tq\t\n${documentLine({ pos: 1, url: 'a', click: 1, time: 1 })}\n${line}\n`));
      const error = await readBaiduUltrRaw(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toBe(`${file}:${message}`);
    });
  }

  it('rejects a document line before any query line, and bytes that are not gzip', async () => {
    const file = join(dir, 'headless.gz');
    writeFileSync(file, gzipSync(`${documentLine({ pos: 1, url: 'a', click: 1, time: 1 })}\n`));
    await expect(readBaiduUltrRaw(file)).rejects.toThrow(`${file}:1: expected a query line (3 fields) before the first document line, found a document line`);
    const broken = join(dir, 'broken.gz');
    writeFileSync(broken, 'not gzip at all');
    await expect(readBaiduUltrRaw(broken)).rejects.toThrow(`${broken}: expected gzip data, found an error`);
  });

  it('rejects a folder without .gz partitions and a missing file', async () => {
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    await expect(readBaiduUltrRaw(empty)).rejects.toThrow(`--log: expected gzipped Baidu-ULTR partitions (.gz) in '${empty}', found none`);
    await expect(readBaiduUltrRaw(join(dir, 'missing.gz'))).rejects.toThrow('expected a file, a folder of partitions or a glob');
  });
});

describe('readBaiduUltrParquet (the Parquet copies through DuckDB)', () => {
  it('gives the in-memory reader\u2019s log for the same file, and the raw reader\u2019s for the same sessions', async () => {
    const file = writeParquet(SESSIONS);
    const duck = await readBaiduUltrParquet(file);
    const old = await readBaiduUltrClicks(file);
    expect(duck.logged).toEqual(old.logged);
    expect(duck.queryIds).toEqual(old.queryIds);
    expect(duck.itemIds).toEqual(old.itemIds);
    expect(duck.displayPosition).toEqual(old.displayPosition);
    expect(duck.displayedTime).toEqual(old.displayedTime);
    const raw = await readBaiduUltrRaw(writeRaw(SESSIONS));
    expect(duck.logged).toEqual(raw.logged);
    expect(duck.itemIds).toEqual(raw.itemIds);
  });

  it('reads a folder of partitions and yields the same sessions whatever the batch size', async () => {
    const folder = join(dir, 'parquet-folder');
    mkdirSync(folder);
    const sessions = manySessions(300);
    writeParquet(sessions.slice(0, 120), folder);
    writeParquet(sessions.slice(120), folder);
    const reference = await readBaiduUltrRaw(writeRaw(sessions));
    for (const batchRows of [1, 50, 1 << 20]) {
      const vocabularies = newVocabularies();
      const batches = await all(baiduUltrParquetBatches(folder, { batchRows, vocabularies }));
      const joined = await collectBaiduUltrBatches(
        (async function* () {
          yield* batches;
        })(),
        vocabularies,
      );
      expect(joined.logged).toEqual(reference.logged);
      expect(joined.itemIds).toEqual(reference.itemIds);
    }
  });

  const spoiled: [string, (s: Session[]) => Session[], string][] = [
    ['a click of 2', (s) => s.map((x, i) => (i === 1 ? { ...x, docs: x.docs.map((d, k) => (k === 2 ? { ...d, click: 2 as 0 } : d)) } : x)), "row 2: expected 0 or 1 in 'click[2]', found 2"],
    [
      'a repeated position',
      (s) => s.map((x, i) => (i === 0 ? { ...x, docs: x.docs.map((d) => ({ ...d, pos: Math.min(d.pos, 2) })) } : x)),
      "row 1: expected distinct positions in the session of query '1001', found position 2 twice",
    ],
    ['position 0', (s) => s.map((x, i) => (i === 2 ? { ...x, docs: x.docs.map((d) => ({ ...d, pos: d.pos - 1 })) } : x)), "row 3: expected a position in [1, 65536] in 'position[0]', found 0"],
    ['a session without documents', (s) => s.map((x, i) => (i === 3 ? { ...x, docs: [] } : x)), "row 4: expected at least one document in 'position', found an empty list"],
  ];
  for (const [name, spoil, message] of spoiled) {
    it(`rejects ${name}, naming the file and row`, async () => {
      const file = writeParquet(spoil(SESSIONS));
      const error = await readBaiduUltrParquet(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toBe(`${file}: ${message}`);
    });
  }

  it('rejects lists of different lengths and a file without the click column', async () => {
    const file = join(dir, 'uneven.parquet');
    const listOf = (name: string, type: 'INT32' | 'BYTE_ARRAY'): SchemaElement[] => [
      { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type, repetition_type: 'OPTIONAL' },
    ];
    const schema: SchemaElement[] = [{ name: 'root', num_children: 3 }, { name: 'query_id', type: 'INT32', repetition_type: 'OPTIONAL' }, ...listOf('position', 'INT32'), ...listOf('click', 'INT32')];
    writeFileSync(
      file,
      Buffer.from(
        parquetWriteBuffer({
          schema,
          columnData: [
            { name: 'query_id', data: [5, 6] },
            { name: 'position', data: [[1, 2], [1]] },
            {
              name: 'click',
              data: [
                [0, 1],
                [0, 1],
              ],
            },
          ],
        }),
      ),
    );
    await expect(readBaiduUltrParquet(file)).rejects.toThrow(`${file}: row 2: expected 'click' to list 1 values (as 'position'), found 2`);
    const noClick = join(dir, 'no-click.parquet');
    writeFileSync(
      noClick,
      Buffer.from(
        parquetWriteBuffer({
          schema: schema.slice(0, 5).map((e, i) => (i === 0 ? { ...e, num_children: 2 } : e)),
          columnData: [
            { name: 'query_id', data: [5] },
            { name: 'position', data: [[1]] },
          ],
        }),
      ),
    );
    await expect(readBaiduUltrParquet(noClick)).rejects.toThrow(`${noClick}: expected the Baidu-ULTR columns 'click', missing; found columns: 'query_id', 'position'`);
  });
});

describe('convertClickLog --format baidu-ultr', () => {
  it('converts a folder of raw .gz partitions and a Parquet glob into the same clicklab log', async () => {
    const folder = join(dir, 'convert-raw');
    mkdirSync(folder);
    writeRaw(SESSIONS.slice(0, 1), 'part-00000.gz', folder);
    writeRaw(SESSIONS.slice(1), 'part-00001.gz', folder);
    const parquetFolder = join(dir, 'convert-parquet');
    mkdirSync(parquetFolder);
    writeParquet(SESSIONS.slice(0, 3), parquetFolder);
    writeParquet(SESSIONS.slice(3), parquetFolder);
    const fromRaw = join(dir, 'from-raw.csv');
    const fromParquet = join(dir, 'from-parquet.csv');
    expect(await convertClickLog(folder, fromRaw, { format: 'baidu-ultr' })).toMatchObject({ sessions: 4, rows: 9, clicks: 3 });
    expect(await convertClickLog(join(parquetFolder, '*.parquet'), fromParquet, { format: 'baidu-ultr' })).toMatchObject({ sessions: 4, rows: 9, clicks: 3 });
    expect(readFileSync(fromRaw, 'utf8')).toBe(readFileSync(fromParquet, 'utf8'));
    expect(readFileSync(`${fromRaw}.item-ids.txt`, 'utf8')).toBe('aa\nbb\ncc\nee\ndd\nff\n');
  });
});

describe('baiduUltrBatches', () => {
  it('hands an Arrow file over as one batch in the caller\u2019s vocabularies, as the Parquet reader would', async () => {
    const file = join(dir, 'sessions.feather');
    const columns = {
      query_id: SESSIONS.map((s) => s.qid),
      url_md5: SESSIONS.map((s) => s.docs.map((d) => d.url)),
      position: SESSIONS.map((s) => s.docs.map((d) => d.pos)),
      click: SESSIONS.map((s) => s.docs.map((d) => d.click)),
      displayed_time: SESSIONS.map((s) => s.docs.map((d) => d.time)),
    };
    const types = { query_id: utf8(), url_md5: list(utf8()), position: list(int32()), click: list(int32()), displayed_time: list(float32()) };
    writeFileSync(file, tableToIPC(tableFromArrays(columns, { types }), { format: 'file' })!);
    const vocabularies = newVocabularies();
    vocabularies.documents.encode('zz'); // an id from an earlier read: the Arrow file's are renumbered after it
    const batches = await all(baiduUltrBatches(file, { vocabularies }));
    expect(batches.length).toBe(1);
    const parquet = await readBaiduUltrParquet(writeParquet(SESSIONS));
    expect(Array.from(batches[0].log.document, (d) => vocabularies.documents.ids[d])).toEqual(Array.from(parquet.logged.log.document, (d) => parquet.itemIds![d]));
    expect(batches[0].log.click).toEqual(parquet.logged.log.click);
    expect(batches[0].displayedTime).toEqual(parquet.displayedTime);
  });
});
