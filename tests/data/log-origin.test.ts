/** A log records what its ids index (issue 16, item 8), in every format, and a mismatch is refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readClickLogOrigin, writeClickLog } from '../../src/data/click-log-io.js';
import { checkLogOrigin, letorOrigin } from '../../src/data/log-format.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-origin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logged = { log: { sessionQuery: Int32Array.of(1), sessionOffsets: Int32Array.of(0, 2), document: Int32Array.of(3, 4), position: Uint16Array.of(0, 1), click: Uint8Array.of(0, 1) } };

describe('log origin', () => {
  for (const format of ['csv', 'jsonl', 'parquet', 'arrow']) {
    it(`is recorded and read back in ${format}`, async () => {
      const file = join(dir, `log.${format}`);
      await writeClickLog(file, logged, { origin: { dataset: 'mq2008', fold: 1, split: 'train' } });
      const origin = await readClickLogOrigin(file);
      expect(origin).toEqual({ dataset: 'mq2008', fold: 1, split: 'train' });
      expect(() => checkLogOrigin(file, origin, { dataset: 'mq2008', fold: 2, split: 'train' })).toThrow(DataFormatError);
      expect(() => checkLogOrigin(file, origin, { dataset: 'mq2008', fold: 2, split: 'train' })).toThrow(/simulated on mq2008 fold 1 train.*expected mq2008 fold 2 train/);
      expect(() => checkLogOrigin(file, origin, { dataset: 'mq2008', fold: 1, split: 'train' })).not.toThrow();
    });
  }

  it('is absent from other tools’ logs, which pass', async () => {
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'session,query,item_id,position,click\n0,1,3,1,0\n');
    expect(await readClickLogOrigin(file)).toBeNull();
    expect(() => checkLogOrigin(file, null, { dataset: 'mq2008', fold: 2 })).not.toThrow();
    expect(letorOrigin('/data/x/train.txt')).toBe('letor:train.txt');
  });
});
