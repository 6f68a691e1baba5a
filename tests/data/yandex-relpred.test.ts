import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readYandexRelPredLog } from '../../src/data/yandex-relpred.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-yandex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function write(lines: string[]): string {
  const file = join(dir, `log-${files++}.txt`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

const tab = (...fields: (string | number)[]): string => fields.join('\t');

describe('readYandexRelPredLog', () => {
  it('reads Q and C lines into sessions, counting repeated and unmatched clicks as PyClick treats them', async () => {
    const file = write([
      tab(0, 0, 'Q', 7, 213, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110),
      tab(0, 5, 'C', 103),
      tab(0, 9, 'C', 103), // repeated: counts once
      tab(0, 12, 'C', 101),
      tab(0, 20, 'C', 999), // not on the page: dropped
      tab(0, 30, 'Q', 8, 213, '201,5', '202,6', '203,5'), // URLID,DomainID form; 3 results
      tab(1, 0, 'C', 201), // session 1 has no Q line yet: dropped
      tab(1, 0, 'Q', 7, 1, 101, 102),
      tab(1, 3, 'C', 102),
    ]);
    const { logged, queryIds, itemIds, yandexSession, clickCounts } = await readYandexRelPredLog(file);
    const { log } = logged;
    expect(queryIds).toBeNull();
    expect(itemIds).toBeNull();
    expect(Array.from(log.sessionQuery)).toEqual([7, 8, 7]);
    expect(Array.from(log.sessionOffsets)).toEqual([0, 10, 13, 15]);
    expect(Array.from(yandexSession)).toEqual([0, 0, 1]);
    expect(Array.from(log.document)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 201, 202, 203, 101, 102]);
    expect(Array.from(log.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 0, 1]);
    expect(Array.from(log.click)).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(clickCounts).toEqual({ clicks: 6, repeated: 1, notOnPage: 1, noPage: 1 });
  });

  it("rejects unmatched clicks with unmatchedClicks: 'error', naming the line", async () => {
    const file = write([tab(0, 0, 'Q', 7, 213, 101, 102), tab(0, 5, 'C', 555)]);
    await expect(readYandexRelPredLog(file, { unmatchedClicks: 'error' })).rejects.toThrow(`${file}:2: expected a click on one of the URLIDs of the latest Q line of session 0, found URLID 555`);
  });

  const good = tab(0, 0, 'Q', 7, 213, 101, 102);
  const malformed: [string, string[], number, string][] = [
    ['a query line without URLs', [tab(0, 0, 'Q', 7, 213)], 1, 'at least one URLID, found 5 fields'],
    ['an unknown action type', [good, tab(0, 1, 'X', 101)], 2, "expected the action type Q or C in field 3, found 'X'"],
    ['a click line with 5 fields', [good, tab(0, 1, 'C', 101, 3)], 2, "'SessionID TimePassed C URLID' (4 fields), found 5 fields"],
    ['a non-integer URLID', [tab(0, 0, 'Q', 7, 213, 101, 'abc')], 1, "expected URLID of result 2 to be an integer in [0, 2147483647], found 'abc'"],
    ['a negative QueryID', [tab(0, 0, 'Q', -7, 213, 101)], 1, 'expected QueryID to be an integer'],
    ['a space-separated line', [good, '0 1 C 101'], 2, 'found 1 field'],
    ['an empty line', [good, ''], 2, 'found an empty line'],
    ['an id beyond int32', [tab(0, 0, 'Q', 7, 213, 3000000000)], 1, "found '3000000000'"],
  ];
  for (const [name, lines, line, message] of malformed) {
    it(`rejects ${name} with the file and line`, async () => {
      const file = write(lines);
      const error = await readYandexRelPredLog(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).file).toBe(file);
      expect((error as DataFormatError).line).toBe(line);
      expect((error as Error).message).toContain(message);
    });
  }
});
