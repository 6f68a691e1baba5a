import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { readClickLog } from '../../src/data/click-log-io.js';
import { convertClickLog, parseColumnMapping } from '../../src/data/convert.js';
import { npzBytes } from '../helpers/npz-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = resolve('dist/cli/main.js');

const YANDEX = ['5\t0\tQ\t12\t1\t30\t31\t32', '5\t4\tC\t31', '5\t6\tC\t31', '5\t9\tC\t77', '6\t0\tQ\t13\t1\t31\t33'].join('\n');

describe('parseColumnMapping', () => {
  it('reads role=column pairs, document as item and an empty session', () => {
    expect(parseColumnMapping('query=qid, document=url,position=rank,click=c,session=')).toEqual({ query: 'qid', item: 'url', position: 'rank', click: 'c', session: null });
  });
  it('rejects unknown roles, repeated roles and empty columns', () => {
    expect(() => parseColumnMapping('qry=qid')).toThrow(ConfigError);
    expect(() => parseColumnMapping('item=a,document=b')).toThrow("found 'item' twice");
    expect(() => parseColumnMapping('query=')).toThrow("expected a column name for 'query'");
  });
});

describe('convertClickLog', () => {
  it('writes a Yandex log as a clicklab log that reads back', async () => {
    const input = join(dir, 'yandex.txt');
    writeFileSync(input, YANDEX);
    const out = join(dir, 'yandex.parquet');
    const summary = await convertClickLog(input, out, { format: 'yandex' });
    expect(summary).toMatchObject({ sessions: 2, rows: 5, clicks: 1, idFiles: [] });
    expect(summary.notes[0]).toBe('3 click lines: 1 repeated clicks on a clicked result counted once, 1 on a URL not on the page and 0 without a page of their session dropped (as PyClick)');
    const { log } = await readClickLog(out);
    expect(Array.from(log.document)).toEqual([30, 31, 32, 31, 33]);
    expect(Array.from(log.click)).toEqual([0, 1, 0, 0, 0]);
  });

  it('writes the id vocabularies of a generic log with text ids', async () => {
    const input = join(dir, 'generic.csv');
    writeFileSync(input, 'q,doc,r,c\nx,u1,1,1\nx,u2,2,0\ny,u2,1,0\n');
    const out = join(dir, 'generic.jsonl');
    const summary = await convertClickLog(input, out, { format: 'generic', columns: parseColumnMapping('session=,query=q,item=doc,position=r,click=c'), ids: 'text' });
    expect(summary).toMatchObject({ sessions: 2, rows: 3, clicks: 1 });
    expect(readFileSync(`${out}.query-ids.txt`, 'utf8')).toBe('x\ny\n');
    expect(readFileSync(`${out}.item-ids.txt`, 'utf8')).toBe('u1\nu2\n');
    const { log } = await readClickLog(out);
    expect(Array.from(log.document)).toEqual([0, 1, 1]);
  });

  it('converts Baidu-ULTR Parquet and FINN.no npz files', async () => {
    const baidu = join(dir, 'baidu.parquet');
    const listOf = (name: string, type: 'INT32' | 'BYTE_ARRAY') => [
      { name, repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'LIST' as const },
      { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
      { name: 'element', type, repetition_type: 'OPTIONAL' as const, ...(type === 'BYTE_ARRAY' ? { converted_type: 'UTF8' as const } : {}) },
    ];
    const schema = [
      { name: 'root', num_children: 3 },
      { name: 'query_id', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const },
      ...listOf('position', 'INT32'),
      ...listOf('click', 'INT32'),
    ];
    writeFileSync(
      baidu,
      new Uint8Array(
        parquetWriteBuffer({
          schema,
          columnData: [
            { name: 'query_id', data: ['9'] },
            { name: 'position', data: [[2, 1]] },
            { name: 'click', data: [[1, 0]] },
          ],
        }),
      ),
    );
    const baiduOut = join(dir, 'baidu.csv');
    expect(await convertClickLog(baidu, baiduOut, { format: 'baidu-ultr' })).toMatchObject({ sessions: 1, rows: 2, clicks: 1 });
    expect(readFileSync(baiduOut, 'utf8')).toBe('# clicklab log {"kind":"click-log","version":1}\nsession,query,item_id,position,click\n0,0,0,1,0\n0,0,1,2,1\n# clicklab end rows=2 sessions=1\n');

    const finn = join(dir, 'data.npz');
    const i4 = (shape: number[], values: number[]) => ({ descr: '<i4', shape, data: Int32Array.from(values) });
    writeFileSync(
      finn,
      npzBytes(
        {
          userId: i4([1], [3]),
          click: i4([1, 2], [8, 0]),
          click_idx: i4([1, 2], [1, 0]),
          slate_lengths: i4([1, 2], [2, 0]),
          slate: i4([1, 2, 3], [1, 8, 0, 0, 0, 0]),
          interaction_type: i4([1, 2], [2, 0]),
        },
        true,
      ),
    );
    const finnOut = join(dir, 'finn.arrow');
    expect(await convertClickLog(finn, finnOut, { format: 'finn' })).toMatchObject({ sessions: 1, rows: 2, clicks: 1 });
    const { log } = await readClickLog(finnOut);
    expect(Array.from(log.sessionQuery)).toEqual([3]);
    expect(Array.from(log.document)).toEqual([1, 8]);
  });

  it('runs as clicklab convert, and reports malformed input with file and line', () => {
    const input = join(dir, 'cli.txt');
    writeFileSync(input, YANDEX);
    const out = join(dir, 'cli.csv');
    const stdout = execFileSync(process.execPath, [cli, 'convert', input, '--format', 'yandex', '--out', out], { encoding: 'utf8' });
    expect(stdout).toContain(`${out}: 2 sessions, 5 displayed results, 1 clicks`);
    writeFileSync(input, `${YANDEX}\n6\t1\tZ\t31\n`);
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'convert', input, '--format', 'yandex', '--out', out], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toBe(`clicklab: ${input}:6: expected the action type Q or C in field 3, found 'Z'\n`);
  });
});
