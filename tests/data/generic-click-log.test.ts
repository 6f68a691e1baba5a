import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table as makeTable, toArrowIPC } from 'arquero';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readGenericClickLog } from '../../src/data/click-log-io.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-generic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(ext: string, content: string | Uint8Array): string {
  const file = join(dir, `log-${files++}.${ext}`);
  writeFileSync(file, content);
  return file;
}

/** Two lists for query "apples" (the second starts again at rank 1) and one for "pears"; no session column. */
const ROWS = [
  ['apples', 'https://a.example/1', 1, 0],
  ['apples', 'https://b.example/"x"', 2, 1],
  ['apples', 'https://a.example/1', 1, 1],
  ['apples', 'https://c.example/', 2, 0],
  ['apples', 'https://b.example/"x"', 3, 0],
  ['pears', 'https://c.example/', 1, 1],
] as const;
const MAPPING = { session: null, query: 'qid', item: 'url', position: 'rank', click: 'clicked' } as const;

function csv(rows: readonly (readonly (string | number)[])[] = ROWS): string {
  const quote = (v: string | number) => (typeof v === 'string' ? `"${v.replaceAll('"', '""')}"` : String(v));
  return `qid,url,rank,clicked,dwell\n${rows.map((r) => `${r.map(quote).join(',')},12.5`).join('\n')}\n`;
}

function expectTheLog(result: Awaited<ReturnType<typeof readGenericClickLog>>): void {
  const { log } = result.logged;
  expect(result.queryIds).toEqual(['apples', 'pears']);
  expect(result.itemIds).toEqual(['https://a.example/1', 'https://b.example/"x"', 'https://c.example/']);
  expect(Array.from(log.sessionQuery)).toEqual([0, 0, 1]);
  expect(Array.from(log.sessionOffsets)).toEqual([0, 2, 5, 6]);
  expect(Array.from(log.document)).toEqual([0, 1, 0, 2, 1, 2]);
  expect(Array.from(log.position)).toEqual([0, 1, 0, 1, 2, 0]);
  expect(Array.from(log.click)).toEqual([0, 1, 1, 0, 0, 1]);
}

describe('readGenericClickLog', () => {
  it('maps CSV columns, forms sessions at position 1 and encodes text ids', async () => {
    expectTheLog(await readGenericClickLog(write('csv', csv()), { columns: MAPPING, ids: 'text' }));
  });

  it('reads the same log from JSON Lines, Parquet and Arrow', async () => {
    const objects = ROWS.map(([qid, url, rank, clicked]) => ({ qid, url, rank, clicked }));
    const jsonl = write('jsonl', objects.map((o) => JSON.stringify(o)).join('\n'));
    expectTheLog(await readGenericClickLog(jsonl, { columns: MAPPING, ids: 'text' }));
    const columns = {
      qid: ROWS.map((r) => r[0]),
      url: ROWS.map((r) => r[1]),
      rank: Int32Array.from(ROWS.map((r) => r[2])),
      clicked: Int32Array.from(ROWS.map((r) => r[3])),
    };
    const parquet = write('parquet', new Uint8Array(parquetWriteBuffer({ columnData: Object.entries(columns).map(([name, data]) => ({ name, data })) })));
    expectTheLog(await readGenericClickLog(parquet, { columns: MAPPING, ids: 'text' }));
    const arrow = write('arrow', toArrowIPC(makeTable(columns), { format: 'file' })!);
    expectTheLog(await readGenericClickLog(arrow, { columns: MAPPING, ids: 'text' }));
  });

  it('keeps integer ids and a mapped session column as they are', async () => {
    const file = write('csv', 'sid,q,doc,pos,c\n7,3,40,1,0\n7,3,41,2,1\n9,3,41,1,0\n');
    const { logged, queryIds, itemIds } = await readGenericClickLog(file, { columns: { session: 'sid', query: 'q', item: 'doc', position: 'pos', click: 'c' } });
    expect(queryIds).toBeNull();
    expect(itemIds).toBeNull();
    expect(Array.from(logged.log.sessionQuery)).toEqual([3, 3]);
    expect(Array.from(logged.log.document)).toEqual([40, 41, 41]);
    expect(Array.from(logged.log.sessionOffsets)).toEqual([0, 2, 3]);
  });

  it('rejects a mapped column the file lacks, listing the columns it has', async () => {
    const file = write('csv', csv());
    await expect(readGenericClickLog(file, { columns: { ...MAPPING, click: 'click_flag' }, ids: 'text' })).rejects.toThrow(
      `${file}: expected the column click_flag (mapped to click), missing; found columns: 'qid', 'url', 'rank', 'clicked', 'dwell'`,
    );
  });

  it('rejects a skipped rank within a session formed without a session column, naming the line', async () => {
    const rows: (string | number)[][] = ROWS.map((r) => [...r]);
    rows[4][2] = 4;
    const file = write('csv', csv(rows));
    const error = await readGenericClickLog(file, { columns: MAPPING, ids: 'text' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).line).toBe(6);
    expect((error as Error).message).toBe(`${file}:6: expected position 3 (the next rank of session 1), found 4`);
  });

  it('rejects a list that does not start at rank 1', async () => {
    const file = write('csv', csv([['apples', 'u', 2, 0]]));
    await expect(readGenericClickLog(file, { columns: MAPPING, ids: 'text' })).rejects.toThrow(`${file}:2: expected position 1 on the first row of session 0, found 2`);
  });

  it('rejects a query change inside a run (a list that does not restart at rank 1)', async () => {
    const file = write(
      'csv',
      csv([
        ['apples', 'u', 1, 0],
        ['pears', 'v', 2, 0],
      ]),
    );
    await expect(readGenericClickLog(file, { columns: MAPPING, ids: 'text' })).rejects.toThrow(`${file}:3: expected query 0 in every row of session 0 (as on line 2), found 1`);
  });

  it('rejects text ids unless asked to encode them', async () => {
    const file = write('csv', csv());
    await expect(readGenericClickLog(file, { columns: MAPPING })).rejects.toThrow(`${file}:2: expected a number in column 'qid', found 'apples'`);
  });

  it('rejects an empty id and a null id', async () => {
    const file = write('csv', csv([['apples', '', 1, 0]]));
    await expect(readGenericClickLog(file, { columns: MAPPING, ids: 'text' })).rejects.toThrow(`${file}:2: expected an id in column 'url', found an empty field`);
    const jsonl = write('jsonl', '{"qid":"a","url":"u","rank":1,"clicked":0}\n{"qid":null,"url":"u","rank":2,"clicked":0}\n');
    await expect(readGenericClickLog(jsonl, { columns: MAPPING, ids: 'text' })).rejects.toThrow(`${jsonl}:2: expected an id (text or an integer) in column 'qid', found an empty value (null)`);
  });

  it('rejects one column mapped to two roles', async () => {
    const file = write('csv', csv());
    await expect(readGenericClickLog(file, { columns: { ...MAPPING, item: 'qid' }, ids: 'text' })).rejects.toThrow(
      `${file}: expected each column to hold one role of the click log, found 'qid' mapped to two`,
    );
  });
});
