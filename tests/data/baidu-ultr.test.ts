import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32, int32, list, tableFromArrays, tableToIPC, utf8, type DataType } from '@uwdata/flechette';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readBaiduUltrAnnotations, readBaiduUltrClicks } from '../../src/data/baidu-ultr.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-baidu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

type Column = { readonly name: string; readonly type: 'INT32' | 'FLOAT' | 'BYTE_ARRAY'; readonly list: boolean; readonly data: unknown[] };

/** A Parquet file as pyarrow writes the Hugging Face copies: scalars and 3-level LIST columns. */
function writeParquet(columns: Column[]): string {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    const leaf = (name: string, repetition: 'REQUIRED' | 'OPTIONAL'): SchemaElement => ({
      name,
      type: c.type,
      repetition_type: repetition,
      ...(c.type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' as const } : {}),
    });
    if (c.list) {
      schema.push({ name: c.name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, leaf('element', 'OPTIONAL'));
    } else {
      schema.push(leaf(c.name, 'OPTIONAL'));
    }
  }
  const file = join(dir, `part-${files++}.parquet`);
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ schema, columnData: columns.map((c) => ({ name: c.name, data: c.data })) })));
  return file;
}

function writeArrow(columns: Record<string, unknown[]>, types: Record<string, DataType>): string {
  const file = join(dir, `part-${files++}.feather`);
  writeFileSync(file, tableToIPC(tableFromArrays(columns, { types }), { format: 'file' })!);
  return file;
}

/** Three sessions; the second lists its documents out of position order with a gap (positions 1, 2, 4). */
function clickColumns(): Column[] {
  return [
    { name: 'query_id', type: 'BYTE_ARRAY', list: false, data: ['1001', '1002', '1001'] },
    { name: 'n', type: 'INT32', list: false, data: [3, 3, 2] },
    {
      name: 'url_md5',
      type: 'BYTE_ARRAY',
      list: true,
      data: [
        ['aa', 'bb', 'cc'],
        ['dd', 'aa', 'ee'],
        ['bb', 'aa'],
      ],
    },
    {
      name: 'position',
      type: 'INT32',
      list: true,
      data: [
        [1, 2, 3],
        [4, 1, 2],
        [1, 2],
      ],
    },
    {
      name: 'click',
      type: 'INT32',
      list: true,
      data: [
        [0, 1, 0],
        [1, 0, 0],
        [0, 0],
      ],
    },
    {
      name: 'displayed_time',
      type: 'FLOAT',
      list: true,
      data: [
        [1.5, 20, 0],
        [3, 0.25, 4],
        [2, 2],
      ],
    },
    {
      name: 'media_type',
      type: 'INT32',
      list: true,
      data: [
        [0, 0, 1],
        [0, 2, 0],
        [0, 0],
      ],
    },
    { name: 'query_document_embedding', type: 'FLOAT', list: true, data: [[0.1, 0.2], [0.3], [0.4]] },
  ];
}

describe('readBaiduUltrClicks', () => {
  it('reads per-session list columns from Parquet, ordering documents by position', async () => {
    const { logged, queryIds, itemIds, displayPosition, displayedTime } = await readBaiduUltrClicks(writeParquet(clickColumns()));
    const { log } = logged;
    expect(queryIds).toEqual(['1001', '1002']);
    expect(itemIds).toEqual(['aa', 'bb', 'cc', 'ee', 'dd']);
    expect(Array.from(log.sessionQuery)).toEqual([0, 1, 0]);
    expect(Array.from(log.sessionOffsets)).toEqual([0, 3, 6, 8]);
    // Session 2 in position order: aa (1), ee (2), dd (4).
    expect(Array.from(log.document)).toEqual([0, 1, 2, 0, 3, 4, 1, 0]);
    expect(Array.from(log.position)).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    expect(Array.from(displayPosition)).toEqual([1, 2, 3, 1, 2, 4, 1, 2]);
    expect(Array.from(log.click)).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(displayedTime!)).toEqual([1.5, 20, 0, 0.25, 4, 3, 2, 2]);
  });

  it('reads the same sessions from uncompressed Arrow (Feather v2) files', async () => {
    const columns: Record<string, unknown[]> = {};
    const types: Record<string, DataType> = {};
    for (const c of clickColumns()) {
      if (c.name === 'query_document_embedding' || c.name === 'displayed_time') continue;
      columns[c.name] = c.data;
      const scalar = c.type === 'BYTE_ARRAY' ? utf8() : int32();
      types[c.name] = c.list ? list(scalar) : scalar;
    }
    const fromArrow = await readBaiduUltrClicks(writeArrow(columns, types));
    const fromParquet = await readBaiduUltrClicks(writeParquet(clickColumns()));
    expect(fromArrow.logged).toEqual(fromParquet.logged);
    expect(fromArrow.itemIds).toEqual(fromParquet.itemIds);
    expect(fromArrow.displayedTime).toBeNull();
  });

  it('reads the one-row-per-document layout, a run of one query_id being a session', async () => {
    const file = writeArrow(
      { query_id: [7, 7, 7, 9, 9], position: [2, 1, 3, 1, 2], click: [1, 0, 0, 0, 1], displayed_time: [1, 2, 3, 4, 5] },
      { query_id: int32(), position: int32(), click: int32(), displayed_time: float32() },
    );
    const { logged, queryIds, itemIds, displayPosition, displayedTime } = await readBaiduUltrClicks(file);
    expect(queryIds).toEqual(['7', '9']);
    expect(itemIds).toEqual(['7\t1', '7\t2', '7\t3', '9\t1', '9\t2']);
    expect(Array.from(logged.log.sessionOffsets)).toEqual([0, 3, 5]);
    expect(Array.from(logged.log.click)).toEqual([0, 1, 0, 0, 1]);
    expect(Array.from(displayPosition)).toEqual([1, 2, 3, 1, 2]);
    expect(Array.from(displayedTime!)).toEqual([2, 1, 3, 4, 5]);
  });

  const spoiled: [string, (c: Column[]) => void, string][] = [
    [
      'a click of 2',
      (c) => {
        (c[4].data[1] as number[])[2] = 2;
      },
      "row 2: expected 0 or 1 in 'click[2]', found 2",
    ],
    [
      'lists of different lengths',
      (c) => {
        (c[4].data[2] as number[]).push(1);
      },
      "row 3: expected 'click' to list 2 values (as 'position'), found 3",
    ],
    [
      'a repeated position',
      (c) => {
        c[3].data[0] = [1, 2, 2];
      },
      "row 1: expected distinct positions in the session of query '1001', found position 2 twice",
    ],
    [
      'position 0',
      (c) => {
        c[3].data[2] = [0, 1];
      },
      "row 3: expected a position in [1, 65536] in 'position[0]', found 0",
    ],
    [
      'n that disagrees with the lists',
      (c) => {
        c[1].data[1] = 10;
      },
      "row 2: expected 'n' to equal the 3 documents listed, found 10",
    ],
    [
      'a missing query id',
      (c) => {
        c[0].data[2] = null;
      },
      "row 3: expected a query id (text or integer) in 'query_id', found an empty value (null)",
    ],
    [
      'a missing document id',
      (c) => {
        (c[2].data[0] as (string | null)[])[1] = null;
      },
      "row 1: expected a document id (text) in 'url_md5[1]', found an empty value (null)",
    ],
    [
      'a negative displayed time',
      (c) => {
        (c[5].data[0] as number[])[0] = -1;
      },
      "row 1: expected a time ≥ 0 in 'displayed_time[0]', found -1",
    ],
  ];
  for (const [name, spoil, message] of spoiled) {
    it(`rejects ${name}, naming the file and row`, async () => {
      const columns = clickColumns();
      spoil(columns);
      const file = writeParquet(columns);
      await expect(readBaiduUltrClicks(file)).rejects.toThrow(new DataFormatError(file, null, message).message);
    });
  }

  it('rejects a file without the click column, listing the columns it has', async () => {
    const file = writeParquet(clickColumns().filter((c) => c.name !== 'click'));
    const error = await readBaiduUltrClicks(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toContain(`${file}: expected the Baidu-ULTR columns 'click', missing; found columns: 'query_id', 'n', 'url_md5'`);
  });

  it('rejects bytes that are not Arrow IPC', async () => {
    const file = join(dir, 'broken.feather');
    writeFileSync(file, 'ARROW1 but not really');
    await expect(readBaiduUltrClicks(file)).rejects.toThrow(`${file}: expected uncompressed Arrow IPC data, found bytes that do not decode`);
  });
});

describe('readBaiduUltrAnnotations', () => {
  it('reads expert grades as ranking data in position order', async () => {
    const file = writeParquet([
      { name: 'query_id', type: 'BYTE_ARRAY', list: false, data: ['q1', 'q2'] },
      { name: 'frequency_bucket', type: 'INT32', list: false, data: [0, 9] },
      {
        name: 'url_md5',
        type: 'BYTE_ARRAY',
        list: true,
        data: [
          ['x', 'y', 'z'],
          ['y', 'w'],
        ],
      },
      {
        name: 'position',
        type: 'INT32',
        list: true,
        data: [
          [3, 1, 2],
          [1, 2],
        ],
      },
      {
        name: 'label',
        type: 'INT32',
        list: true,
        data: [
          [4, 0, 2],
          [1, 3],
        ],
      },
    ]);
    const data = await readBaiduUltrAnnotations(file);
    expect(data.qids).toEqual(['q1', 'q2']);
    expect(Array.from(data.queryOffsets)).toEqual([0, 3, 5]);
    expect(data.docIds).toEqual(['y', 'z', 'x', 'y', 'w']);
    expect(Array.from(data.labels)).toEqual([0, 2, 4, 1, 3]);
    expect(data.numFeatures).toBe(0);
  });

  it('rejects a grade outside 0–4', async () => {
    const file = writeParquet([
      { name: 'query_id', type: 'BYTE_ARRAY', list: false, data: ['q1'] },
      { name: 'position', type: 'INT32', list: true, data: [[1, 2]] },
      { name: 'label', type: 'INT32', list: true, data: [[4, 5]] },
    ]);
    await expect(readBaiduUltrAnnotations(file)).rejects.toThrow(`${file}: row 1: expected an integer grade in [0, 4] in 'label[1]', found 5`);
  });
});
