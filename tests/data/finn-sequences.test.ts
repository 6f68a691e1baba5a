import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { finnSequenceBlocks, readFinnItemCategories } from '../../src/data/finn-sequences.js';
import { readFinnSlates } from '../../src/data/finn-slates.js';
import type { SlateSequences } from '../../src/data/slate-sequences.js';
import { finnArrays, finnNpz, type FinnArrays } from '../helpers/finn-writer.js';
import { npzBytes } from '../helpers/npz-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-finn-seq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(bytes: Buffer): string {
  const file = join(dir, `data-${files++}.npz`);
  writeFileSync(file, bytes);
  return file;
}

async function collect(file: string, blockUsers: number, users?: number) {
  const blocks = [];
  for await (const block of finnSequenceBlocks(file, { blockUsers, users })) blocks.push(block);
  return blocks;
}

/** The blocks joined back into whole arrays, as plain numbers. */
function joined(blocks: SlateSequences[]) {
  const cat = (pick: (b: SlateSequences) => ArrayLike<number>) => blocks.flatMap((b) => Array.from(pick(b)));
  return {
    userId: cat((b) => b.userId),
    click: cat((b) => b.click),
    click_idx: cat((b) => b.clickIdx),
    slate_lengths: cat((b) => b.slateLengths),
    slate: cat((b) => b.slate),
    interaction_type: cat((b) => b.interactionType),
  };
}

const A = finnArrays(1003, { steps: 6, slots: 5, items: 40 });

describe('finnSequenceBlocks', () => {
  for (const [descr, compress, blockUsers] of [
    ['<i8', true, 97],
    ['<i8', false, 1000],
    ['<i4', true, 1003],
    ['<i4', false, 5000],
  ] as const) {
    it(`yields every user once, in order, as the file holds them (${descr}, ${compress ? 'deflated' : 'stored'}, blocks of ${blockUsers})`, async () => {
      const blocks = await collect(write(finnNpz(A, { descr, compress })), blockUsers);
      expect(blocks.length).toBe(Math.ceil(1003 / blockUsers));
      expect(blocks.map((b) => b.firstRow)).toEqual(blocks.map((_, i) => i * blockUsers));
      for (const b of blocks) {
        expect([b.steps, b.slots, b.totalUsers]).toEqual([6, 5, 1003]);
        expect(b.click.length).toBe(b.users * 6);
        expect(b.slate.length).toBe(b.users * 30);
        expect(b.slate).toBeInstanceOf(Int32Array);
      }
      const { users: _u, steps: _t, slots: _s, ...expected } = A;
      expect(joined(blocks)).toEqual(expected);
    });
  }

  it('reads a prefix of the users, and stops cleanly when the consumer breaks', async () => {
    const file = write(finnNpz(A));
    const blocks = await collect(file, 100, 250);
    expect(blocks.map((b) => b.users)).toEqual([100, 100, 50]);
    expect(joined(blocks).userId).toEqual(A.userId.slice(0, 250));
    let seen = 0;
    for await (const block of finnSequenceBlocks(file, { blockUsers: 10 })) {
      seen += block.users;
      if (seen >= 30) break;
    }
    expect(seen).toBe(30);
  });

  it('gives readFinnSlates the same slates whatever the file dtype and compression', async () => {
    const a = await readFinnSlates(write(finnNpz(A)));
    const b = await readFinnSlates(write(finnNpz(A, { descr: '<i4', compress: false })));
    expect(b).toEqual(a);
    // Counted from the generator's arrays: one slate per step with an interaction, its length in rows.
    const steps = A.click.filter((c) => c !== 0).length;
    const rows = A.slate_lengths.reduce((x, y) => x + y, 0);
    expect(a.clickCounts.steps).toBe(steps);
    expect(a.slates.item.length).toBe(rows);
    expect(a.clickCounts.noClick).toBe(A.click.filter((c) => c === 1).length);
    expect(a.clickCounts.unknownItem).toBe(A.click.filter((c) => c === 2).length);
  });

  const spoiled = (spoil: (a: { -readonly [K in keyof FinnArrays]: FinnArrays[K] }) => void): string => {
    const copy = structuredClone(A) as { -readonly [K in keyof FinnArrays]: FinnArrays[K] };
    spoil(copy);
    return write(finnNpz(copy));
  };
  // Row 500 (0-based 499) lies in the sixth block of 97: the message gives its row in the file.
  const row = 499;
  const firstStep = row * 6;
  it('rejects a click_idx outside the shown slots, naming file, row, step and array', async () => {
    const file = spoiled((a) => {
      a.click_idx[firstStep] = a.slate_lengths[firstStep];
    });
    const error = await collect(file, 97).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    const length = A.slate_lengths[firstStep];
    expect((error as Error).message).toBe(`${file}: row 500 (userId ${A.userId[row]}), step 0, array 'click_idx': expected a slot in [0, ${length - 1}] (slate_lengths is ${length}), found ${length}`);
  });

  it('rejects an item beyond the slate length', async () => {
    const file = spoiled((a) => {
      a.slate_lengths[firstStep] = 1;
      a.click[firstStep] = 1;
      a.click_idx[firstStep] = 0;
      a.slate[firstStep * 5 + 1] = 9;
    });
    await expect(collect(file, 97)).rejects.toThrow(`row 500 (userId ${A.userId[row]}), step 0, array 'slate': expected padding (0) in slot 1 beyond slate_lengths 1, found 9`);
  });

  it('rejects an int64 value beyond 32 bits, naming the array and row', async () => {
    const file = spoiled((a) => {
      a.slate[firstStep * 5] = 2 ** 31;
    });
    await expect(collect(file, 97)).rejects.toThrow(`${file}: row 500, array 'slate': expected values within [−2^31, 2^31 − 1], found 2147483648`);
    const negative = spoiled((a) => {
      a.userId[3] = -(2 ** 40);
    });
    await expect(collect(negative, 97)).rejects.toThrow("row 4, array 'userId': expected values within [−2^31, 2^31 − 1], found -1099511627776");
  });
});

describe('readFinnItemCategories', () => {
  it('reads item → category, and rejects a negative category', async () => {
    const category = Array.from({ length: 3001 }, (_, i) => (i * 13) % 290);
    const file = write(npzBytes({ category: { descr: '<i8', shape: [3001], data: BigInt64Array.from(category, BigInt) } }, true));
    expect(Array.from(await readFinnItemCategories(file))).toEqual(category);
    const bad = write(npzBytes({ category: { descr: '<i4', shape: [3], data: Int32Array.of(0, -1, 2) } }, false));
    await expect(readFinnItemCategories(bad)).rejects.toThrow(`${bad}: row 2, array 'category': expected a category index ≥ 0, found -1`);
  });
});
