import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readClickLog } from '../../src/data/click-log-io.js';
import { convertClickLog } from '../../src/data/convert.js';
import { detectYandexFormat, readPyClickSampleLog } from '../../src/data/pyclick-sample.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-pyclick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two lines (queries); sessions separated by ';' with PyClick's spacing; a repeated click, an
// off-page click (59472), a session without clicks ('  :' and ':'), a trailing ';'.
const SAMPLE = ['98435_1\t11,12,13 : 12 , 11 , 12; 98435_1\t11,12,13 :; 98435_1\t13,11,12 : 13 , 59472  ;  ', '7_2\t12,14 :  ;  7_2\t14,12 : 14', ''].join('\n');

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('readPyClickSampleLog', () => {
  it('reads sessions, click order, repeats and off-page clicks', async () => {
    const { logged, queryIds, itemIds, clickCounts } = await readPyClickSampleLog(write('sample.txt', SAMPLE));
    const { log } = logged;
    expect(queryIds).toEqual(['98435_1', '7_2']);
    expect(itemIds).toEqual(['11', '12', '13', '14']);
    expect(Array.from(log.sessionQuery)).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(log.sessionOffsets)).toEqual([0, 3, 6, 9, 11, 13]);
    expect(Array.from(log.document, (d) => itemIds[d])).toEqual(['11', '12', '13', '11', '12', '13', '13', '11', '12', '12', '14', '14', '12']);
    expect(Array.from(log.position)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 0, 1]);
    expect(Array.from(log.click)).toEqual([1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    expect(clickCounts).toEqual({ clicks: 6, repeated: 1, notOnPage: 1 });
  });

  it('rejects off-page clicks when asked, and malformed sessions with the line', async () => {
    const path = write('strict.txt', SAMPLE);
    await expect(readPyClickSampleLog(path, { unmatchedClicks: 'error' })).rejects.toThrow("strict.txt:1: session 3 of the line: expected a click on one of the session's documents, found '59472'");
    await expect(readPyClickSampleLog(write('notab.txt', 'q 1,2 : 1'))).rejects.toThrow(DataFormatError);
    await expect(readPyClickSampleLog(write('nocolon.txt', 'q\t1,2'))).rejects.toThrow("expected ':' after the documents");
    await expect(readPyClickSampleLog(write('emptydoc.txt', 'q\t1,,2 :'))).rejects.toThrow('expected a document id at position 2');
  });
});

describe('detectYandexFormat and convert --format yandex', () => {
  it('tells the two Yandex formats apart by content', async () => {
    expect(await detectYandexFormat(write('a.txt', SAMPLE))).toBe('pyclick');
    expect(await detectYandexFormat(write('b.txt', '5\t0\tQ\t12\t1\t30\t31\n5\t4\tC\t31\n'))).toBe('relpred');
    expect(await detectYandexFormat(write('c.txt', 'query,doc\n'))).toBeNull();
  });

  it("converts PyClick's sample under --format yandex and --format pyclick, with id files", async () => {
    const input = write('conv.txt', SAMPLE);
    for (const format of ['yandex', 'pyclick'] as const) {
      const out = join(dir, `conv-${format}.parquet`);
      const summary = await convertClickLog(input, out, { format });
      expect(summary).toMatchObject({ sessions: 5, rows: 13, clicks: 4, idFiles: [`${out}.query-ids.txt`, `${out}.item-ids.txt`] });
      expect(summary.notes[0]).toContain("PyClick's example sample format: 6 clicks listed, 1 repeated");
      const { log } = await readClickLog(out);
      expect(Array.from(log.click)).toEqual([1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    }
    await expect(convertClickLog(write('neither.txt', 'a,b,c\n'), join(dir, 'x.csv'), { format: 'yandex' })).rejects.toThrow('its first line is neither');
  });

  it('hints --ids text when a generic log has text ids', async () => {
    const input = write('text-ids.csv', 'q,doc,r,c\nx,u1,1,1\nx,u2,2,0\n');
    const columns = { session: null, query: 'q', item: 'doc', position: 'r', click: 'c' };
    await expect(convertClickLog(input, join(dir, 'y.csv'), { format: 'generic', columns })).rejects.toThrow('read them with --ids text');
    await expect(convertClickLog(input, join(dir, 'y.csv'), { format: 'generic', columns, ids: 'text' })).resolves.toMatchObject({ sessions: 1 });
  });
});
