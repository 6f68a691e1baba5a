import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finnSequenceBlocks } from '../../src/data/finn-sequences.js';
import { finnEvaluationBlocks, finnTrainingBlocks, finnUserPhase, splitFinnBlock, type FinnPhase } from '../../src/data/finn-split.js';
import { finnArrays, finnNpz } from '../helpers/finn-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'clicklab-finn-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = finnArrays(2000, { steps: 8, slots: 4, items: 30 });
const file = join(dir, 'data.npz');
writeFileSync(file, finnNpz(A));

describe('finnUserPhase', () => {
  it('holds out about 5% + 5% of users, deterministically, a different set for another seed', () => {
    const ids = Array.from({ length: 40_000 }, (_, i) => i);
    const phases = ids.map((id) => finnUserPhase(id));
    const count = (p: FinnPhase, of = phases) => of.filter((x) => x === p).length;
    // Binomial(40000, 0.05): sd ≈ 43.6; 4 sd either side of 2000.
    for (const p of ['valid', 'test'] as const) expect(Math.abs(count(p) - 2000)).toBeLessThan(175);
    expect(ids.map((id) => finnUserPhase(id))).toEqual(phases);
    const other = ids.map((id) => finnUserPhase(id, { seed: 1 }));
    // Independent draws: about 5% of seed 0's validation users are validation users under seed 1.
    const both = ids.filter((i) => phases[i] === 'valid' && other[i] === 'valid').length;
    expect(both).toBeGreaterThan(40);
    expect(both).toBeLessThan(180);
    const tenth = ids.map((id) => finnUserPhase(id, { validFraction: 0.1, testFraction: 0 }));
    expect(Math.abs(count('valid', tenth) - 4000)).toBeLessThan(240);
    expect(count('test', tenth)).toBe(0);
    expect(() => finnUserPhase(1, { validFraction: 0.6, testFraction: 0.5 })).toThrow('sum ≤ 1');
  });
});

describe('splitFinnBlock', () => {
  it('masks held-out users after 5 steps in training and gives their whole histories for scoring, whatever the block size', async () => {
    const T = 8;
    const S = 4;
    for (const blockUsers of [333, 2000]) {
      const phases: FinnPhase[] = [];
      const validIds: number[] = [];
      const testIds: number[] = [];
      let firstRow = 0;
      for await (const block of finnSequenceBlocks(file, { blockUsers })) {
        const { train, valid, test } = splitFinnBlock(block);
        expect(train.users).toBe(block.users);
        expect(valid.fromStep).toBe(5);
        for (let u = 0; u < block.users; u++) {
          const row = firstRow + u;
          const phase = finnUserPhase(A.userId[row]);
          phases.push(phase);
          for (let t = 0; t < T; t++) {
            const k = row * T + t;
            const kept = phase === 'train' || t < 5;
            expect(train.click[u * T + t]).toBe(kept ? A.click[k] : 0);
            expect(train.slateLengths[u * T + t]).toBe(kept ? A.slate_lengths[k] : 0);
            expect(train.interactionType[u * T + t]).toBe(kept ? A.interaction_type[k] : 0);
            expect(Array.from(train.slate.subarray((u * T + t) * S, (u * T + t + 1) * S))).toEqual(kept ? A.slate.slice(k * S, (k + 1) * S) : [0, 0, 0, 0]);
          }
        }
        // The evaluation views: the held-out users' unmasked rows, in file order.
        for (const [view, ids] of [
          [valid, validIds],
          [test, testIds],
        ] as const) {
          for (let i = 0; i < view.sequences.users; i++) {
            const id = view.sequences.userId[i];
            ids.push(id);
            const row = A.userId.indexOf(id);
            expect(Array.from(view.sequences.click.subarray(i * T, (i + 1) * T))).toEqual(A.click.slice(row * T, (row + 1) * T));
            expect(Array.from(view.sequences.clickIdx.subarray(i * T, (i + 1) * T))).toEqual(A.click_idx.slice(row * T, (row + 1) * T));
            expect(Array.from(view.sequences.slate.subarray(i * T * S, (i + 1) * T * S))).toEqual(A.slate.slice(row * T * S, (row + 1) * T * S));
          }
        }
        // The block itself is not changed.
        expect(Array.from(block.click)).toEqual(A.click.slice(firstRow * T, (firstRow + block.users) * T));
        firstRow += block.users;
      }
      expect(validIds).toEqual(A.userId.filter((_, r) => phases[r] === 'valid'));
      expect(testIds).toEqual(A.userId.filter((_, r) => phases[r] === 'test'));
      expect(validIds.length).toBeGreaterThan(50);
      expect(testIds.length).toBeGreaterThan(50);
    }
  });

  it('streams the training and evaluation views of a file directly', async () => {
    const split = { seed: 7, trainSteps: 3 };
    const manual = [];
    for await (const block of finnSequenceBlocks(file, { blockUsers: 450 })) manual.push(splitFinnBlock(block, split));
    const train = [];
    for await (const b of finnTrainingBlocks(file, { blockUsers: 450, split })) train.push(b);
    expect(train.map((b) => Array.from(b.slate))).toEqual(manual.map((m) => Array.from(m.train.slate)));
    const test = [];
    for await (const v of finnEvaluationBlocks(file, 'test', { blockUsers: 450, split })) test.push(v);
    expect(test.every((v) => v.fromStep === 3 && v.sequences.users > 0)).toBe(true);
    expect(test.flatMap((v) => Array.from(v.sequences.userId))).toEqual(manual.flatMap((m) => Array.from(m.test.sequences.userId)));
    expect(test.flatMap((v) => Array.from(v.sequences.userId)).every((id) => finnUserPhase(id, split) === 'test')).toBe(true);
  });
});
