import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { readFinnSlates, slateLogToClickLog, slateLogToTable } from '../../src/data/finn-slates.js';
import { checkLoggedClicks } from '../../src/data/click-log-table.js';
import { npzBytes, type NpyInput } from '../helpers/npz-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-finn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** FINN.no's arrays for N = 3 users, T = 3 steps, S = 4 slots (the real file has T = 20, S = 25). */
function finnArrays(): Record<string, { descr: string; shape: number[]; values: number[] }> {
  return {
    userId: { descr: '<i8', shape: [3], values: [40, 41, 42] },
    // user 40: a click on item 7 (slot 2), a no-click step, padding; user 41: unknown item, a click on 9 not in the slate, padding;
    // user 42: a click on 5 that appears twice (first slot takes it), then two padding steps.
    click: { descr: '<i8', shape: [3, 3], values: [7, 1, 0, 2, 9, 0, 5, 0, 0] },
    click_idx: { descr: '<i8', shape: [3, 3], values: [2, 0, 0, 1, 0, 0, 1, 0, 0] },
    slate_lengths: { descr: '<i8', shape: [3, 3], values: [3, 4, 0, 2, 2, 0, 4, 0, 0] },
    slate: {
      descr: '<i8',
      shape: [3, 3, 4],
      values: [
        [3, 4, 7, 0],
        [1, 3, 10, 11],
        [0, 0, 0, 0],
        [1, 2, 0, 0],
        [12, 13, 0, 0],
        [0, 0, 0, 0],
        [1, 5, 6, 5],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ].flat(),
    },
    interaction_type: { descr: '<i8', shape: [3, 3], values: [2, 1, 0, 0, 2, 0, 1, 0, 0] },
  };
}

function write(arrays: ReturnType<typeof finnArrays>, descr?: string): string {
  const inputs: Record<string, NpyInput> = {};
  for (const [name, a] of Object.entries(arrays)) {
    const d = descr ?? a.descr;
    const data = d === '<i8' ? BigInt64Array.from(a.values.map(BigInt)) : Int32Array.from(a.values);
    inputs[name] = { descr: d, shape: a.shape, data };
  }
  const file = join(dir, `data-${files++}.npz`);
  writeFileSync(file, npzBytes(inputs, true));
  return file;
}

describe('readFinnSlates', () => {
  for (const descr of ['<i8', '<i4']) {
    it(`reads the slates of steps with an interaction, with clicks by item (${descr})`, async () => {
      const { slates, clickCounts } = await readFinnSlates(write(finnArrays(), descr));
      expect(Array.from(slates.slateOffsets)).toEqual([0, 3, 7, 9, 11, 15]);
      expect(Array.from(slates.slateUser)).toEqual([40, 40, 41, 41, 42]);
      expect(Array.from(slates.slateStep)).toEqual([0, 1, 0, 1, 0]);
      expect(Array.from(slates.slateInteractionType)).toEqual([2, 1, 0, 2, 1]);
      expect(Array.from(slates.item)).toEqual([3, 4, 7, 1, 3, 10, 11, 1, 2, 12, 13, 1, 5, 6, 5]);
      expect(Array.from(slates.position)).toEqual([0, 1, 2, 0, 1, 2, 3, 0, 1, 0, 1, 0, 1, 2, 3]);
      expect(Array.from(slates.click)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
      expect(clickCounts).toEqual({ steps: 5, clicked: 2, noClick: 1, unknownItem: 1, notInSlate: 1 });
    });
  }

  it('converts to an arquero table and to a click log that writes', async () => {
    const { slates } = await readFinnSlates(write(finnArrays()));
    const table = slateLogToTable(slates);
    expect(table.columnNames()).toEqual(['slate', 'user_id', 'step', 'interaction_type', 'item_id', 'position', 'click']);
    expect(Array.from(table.array('slate') as Int32Array)).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4]);
    expect(Array.from(table.array('position') as Int32Array).slice(0, 7)).toEqual([1, 2, 3, 1, 2, 3, 4]);
    expect(Array.from(table.array('user_id') as Int32Array).slice(9)).toEqual([41, 41, 42, 42, 42, 42]);
    const log = slateLogToClickLog(slates);
    expect(() => checkLoggedClicks({ log }, false)).not.toThrow();
    expect(Array.from(log.sessionQuery)).toEqual([40, 40, 41, 41, 42]);
  });

  it('reads a prefix of the users', async () => {
    const { slates } = await readFinnSlates(write(finnArrays()), { users: 1 });
    expect(Array.from(slates.slateUser)).toEqual([40, 40]);
    expect(slates.item.length).toBe(7);
  });

  const cases: [string, (a: ReturnType<typeof finnArrays>) => void, string][] = [
    ['a missing array', (a) => delete (a as Record<string, unknown>).click_idx, "expected an array 'click_idx' in the archive"],
    [
      'a slate of the wrong shape',
      (a) => {
        a.slate.shape = [3, 12];
      },
      "expected 'slate' of shape (3, T, S) (N from 'userId'), found (3, 12)",
    ],
    [
      'a click array of the wrong shape',
      (a) => {
        a.click.shape = [9, 1];
      },
      "expected 'click' of shape (3, 3) (as 'slate'), found (9, 1)",
    ],
    [
      'a length beyond the slots',
      (a) => {
        a.slate_lengths.values[3] = 5;
      },
      "row 2 (userId 41), step 0, array 'slate_lengths': expected a length in [1, 4] for a step with an interaction, found 5",
    ],
    [
      'a pad item inside the shown slots',
      (a) => {
        a.slate_lengths.values[0] = 4;
      },
      "row 1 (userId 40), step 0, array 'slate': expected an item index ≥ 1 in shown slot 3 (slate_lengths is 4; 0 is padding), found 0",
    ],
    [
      'an unknown interaction type',
      (a) => {
        a.interaction_type.values[6] = 3;
      },
      "row 3 (userId 42), step 0, array 'interaction_type': expected 0 (undefined), 1 (search) or 2 (recommendation), found 3",
    ],
    [
      'a negative click',
      (a) => {
        a.click.values[4] = -1;
      },
      "row 2 (userId 41), step 1, array 'click': expected an item index ≥ 0, found -1",
    ],
  ];
  for (const [name, spoil, message] of cases) {
    it(`rejects ${name}, naming the file and row`, async () => {
      const arrays = finnArrays();
      spoil(arrays);
      const file = write(arrays);
      const error = await readFinnSlates(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toContain(`${file}: `);
      expect((error as Error).message).toContain(message);
    });
  }

  it('rejects a float array where ids are expected', async () => {
    const arrays = finnArrays();
    const inputs: Record<string, NpyInput> = {};
    for (const [name, a] of Object.entries(arrays)) inputs[name] = { descr: '<i4', shape: a.shape, data: Int32Array.from(a.values) };
    inputs.userId = { descr: '<f8', shape: [3], data: Float64Array.of(40, 41, 42) };
    const file = join(dir, `data-${files++}.npz`);
    writeFileSync(file, npzBytes(inputs, false));
    await expect(readFinnSlates(file)).rejects.toThrow(`${file}: expected an integer array 'userId', found dtype <f8`);
  });
});
