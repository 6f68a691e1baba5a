import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finnUserPhase } from '../../src/data/finn-split.js';
import type { SlateSequences } from '../../src/data/slate-sequences.js';
import { evaluateFinnBaselines, hitRateAt, PopularityBaseline, slateLogLikelihood, uniformSlateProbabilities, userHitsAt } from '../../src/evaluation/slate-sequence-metrics.js';
import { finnArrays, finnNpz } from '../helpers/finn-writer.js';

/**
 * Two users, 3 steps, 3 slots. User 0: a click on 5 (slot 1), a no-click, padding. User 1: a click
 * on the unknown item (not scored by the likelihood), a click on 7 (slot 1), a click on 9, which is
 * not in the slate (click_idx 0, as FINN records it).
 */
const SEQ: SlateSequences = {
  users: 2,
  steps: 3,
  slots: 3,
  userId: Int32Array.of(10, 11),
  click: Int32Array.of(5, 1, 0, 2, 7, 9),
  clickIdx: Int32Array.of(1, 0, 0, 1, 1, 0),
  slateLengths: Int32Array.of(3, 2, 0, 3, 3, 2),
  slate: Int32Array.of(1, 5, 6, 1, 6, 0, 0, 0, 0, 1, 2, 7, 1, 7, 5, 1, 5, 0),
  interactionType: Uint8Array.of(1, 2, 0, 1, 1, 2),
};

describe('slateLogLikelihood', () => {
  const p = Float64Array.of(0.2, 0.5, 0.3, 0.6, 0.4, 0, 0, 0, 0, 0.3, 0.3, 0.4, 0.1, 0.7, 0.2, 0.25, 0.75, 0);
  it('scores log p of the clicked slot on steps with a choice, from fromStep on', () => {
    const all = slateLogLikelihood(p, SEQ);
    expect(all.steps).toBe(4);
    expect(all.sum).toBeCloseTo(Math.log(0.5) + Math.log(0.6) + Math.log(0.7) + Math.log(0.25), 12);
    expect(all.value).toBeCloseTo(all.sum / 4, 12);
    expect(all.perUser[0]).toBeCloseTo((Math.log(0.5) + Math.log(0.6)) / 2, 12);
    expect(all.perUser[1]).toBeCloseTo((Math.log(0.7) + Math.log(0.25)) / 2, 12);
    expect(Array.from(all.perUserSteps)).toEqual([2, 2]);
    const later = slateLogLikelihood(p, SEQ, { fromStep: 2 });
    expect(later.steps).toBe(1);
    expect(later.value).toBeCloseTo(Math.log(0.25), 12);
    expect(later.perUser[0]).toBeNaN();
    expect(() => slateLogLikelihood(p.subarray(1), SEQ)).toThrow('found length 17');
  });
});

describe('hitRateAt and userHitsAt', () => {
  it('counts a per-step hit when the clicked real item is in the top k', () => {
    const shared = hitRateAt(Int32Array.of(5, 7), 2, SEQ);
    expect([shared.sum, shared.steps]).toEqual([2, 3]);
    expect(Array.from(shared.perUser)).toEqual([1, 0.5]);
    expect(hitRateAt(Int32Array.of(5, 7), 2, SEQ, { fromStep: 2 }).value).toBe(0);
    // One list per step: only user 1's last step (click 9) has 9 in its list.
    const perStep = new Int32Array(2 * 3 * 2);
    perStep.set([9, 8], (1 * 3 + 2) * 2);
    const dynamic = hitRateAt(perStep, 2, SEQ);
    expect([dynamic.sum, dynamic.steps]).toEqual([1, 3]);
  });

  it("counts the authors' distinct later hits per user, optionally without earlier clicks", () => {
    const hits = userHitsAt(Int32Array.of(5, 9), 2, SEQ);
    expect(Array.from(hits.perUser)).toEqual([1, 1]);
    const later = userHitsAt(Int32Array.of(5, 9), 2, SEQ, { fromStep: 1, removeEarlierClicks: true });
    expect(Array.from(later.perUser)).toEqual([0, 1]);
    expect(later.value).toBe(0.5);
    // Without removal, user 0's list still holds 5 but 5 is not clicked again: still 0.
    expect(Array.from(userHitsAt(Int32Array.of(5, 9), 2, SEQ, { fromStep: 1 }).perUser)).toEqual([0, 1]);
    const twice: SlateSequences = { ...SEQ, click: Int32Array.of(5, 5, 0, 2, 7, 7) };
    expect(Array.from(userHitsAt(Int32Array.of(5, 7), 2, twice).perUser)).toEqual([1, 1]);
  });
});

describe('baselines', () => {
  it('popularity: counts, top k with ties by index, and smoothed slot probabilities', () => {
    const pop = new PopularityBaseline();
    pop.add(SEQ);
    expect([pop.clicks(5), pop.clicks(7), pop.clicks(9), pop.clicks(6)]).toEqual([1, 1, 1, 0]);
    expect(pop.noClickRate).toBeCloseTo(2 / 6, 12); // (1 no-click + 1) / (4 choices + 2)
    expect(Array.from(pop.topK(2))).toEqual([5, 7]);
    expect(Array.from(pop.topK(4))).toEqual([5, 7, 9, 3]);
    const p = pop.slateProbabilities(SEQ);
    const close = (got: ArrayLike<number>, want: number[]) => {
      for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 12);
    };
    close(p.subarray(0, 3), [1 / 3, 4 / 9, 2 / 9]); // masses: 5 → 1 + 1, 6 → 0 + 1
    close(p.subarray(3, 6), [1 / 3, 2 / 3, 0]);
    close(p.subarray(9, 12), [1 / 3, 0, 2 / 3]); // the unknown item gets nothing
  });

  it('uniform: every no-click or real-item slot alike', () => {
    const p = uniformSlateProbabilities(SEQ);
    expect(Array.from(p.subarray(0, 6))).toEqual([1 / 3, 1 / 3, 1 / 3, 0.5, 0.5, 0]);
    expect(Array.from(p.subarray(9, 12))).toEqual([0.5, 0, 0.5]);
    // Scored: [1, 5, 6] and [1, 7, 5] (1/3 each), [1, 6] and [1, 5] (1/2 each).
    expect(slateLogLikelihood(p, SEQ).sum).toBeCloseTo(2 * Math.log(1 / 3) + 2 * Math.log(1 / 2), 12);
  });

  describe('evaluateFinnBaselines on a FINN-layout file of several blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clicklab-finn-metrics-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const T = 10;
    const S = 6;
    const A = finnArrays(3000, { steps: T, slots: S, items: 60, seed: 'metrics' });
    const file = join(dir, 'data.npz');
    writeFileSync(file, finnNpz(A));

    it('matches a direct computation on the generated arrays, whatever the block size', async () => {
      // Independent: popularity counts from the raw arrays and the split rule, then the test metrics.
      const phase = A.userId.map((id) => finnUserPhase(id));
      const counts = new Map<number, number>();
      let choices = 0;
      let noClicks = 0;
      for (let r = 0; r < A.users; r++) {
        for (let t = 0; t < T; t++) {
          const c = A.click[r * T + t];
          if (!(phase[r] === 'train' || t < 5) || c === 0 || c === 2) continue;
          choices++;
          if (c === 1) noClicks++;
          else counts.set(c, (counts.get(c) ?? 0) + 1);
        }
      }
      const pi0 = (noClicks + 1) / (choices + 2);
      let popularityLl = 0;
      const top = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, 5)
        .map(([i]) => i);
      let hits = 0;
      let steps = 0;
      let uniformLl = 0;
      let llSteps = 0;
      const userHits: number[] = [];
      for (let r = 0; r < A.users; r++) {
        if (phase[r] !== 'test') continue;
        const later = new Set<number>();
        for (let t = 5; t < T; t++) {
          const k = r * T + t;
          const c = A.click[k];
          if (c >= 3) {
            steps++;
            if (top.includes(c)) hits++;
            later.add(c);
          }
          if (c !== 0 && c !== 2) {
            const shown = A.slate.slice(k * S, k * S + A.slate_lengths[k]).filter((v) => v === 1 || v >= 3).length;
            uniformLl += Math.log(1 / shown);
            // Popularity: the no-click slot π₀, real items (1 − π₀)(c + 1) / Σ(c + 1), then normalised over the slate.
            const slate = A.slate.slice(k * S, k * S + A.slate_lengths[k]);
            const mass = slate.filter((v) => v >= 3).reduce((m, v) => m + (counts.get(v) ?? 0) + 1, 0);
            const weight = (v: number) => (v === 1 ? pi0 : v >= 3 ? ((1 - pi0) * ((counts.get(v) ?? 0) + 1)) / mass : 0);
            const total = slate.reduce((m, v) => m + weight(v), 0);
            popularityLl += Math.log(weight(slate[A.click_idx[k]]) / total);
            llSteps++;
          }
        }
        userHits.push([...later].filter((i) => top.includes(i)).length);
      }
      const first = await evaluateFinnBaselines(file, { k: 5, blockUsers: 701 });
      const again = await evaluateFinnBaselines(file, { k: 5, blockUsers: 3000 });
      // The same up to the order of floating-point sums.
      expect(again.map((r) => [r.model, r.phase, r.steps, r.users])).toEqual(first.map((r) => [r.model, r.phase, r.steps, r.users]));
      again.forEach((r, i) => {
        for (const key of ['logLikelihood', 'hitRate', 'userHits', 'logLikelihoodHalfWidth', 'userHitsHalfWidth'] as const) expect(r[key]).toBeCloseTo(first[i][key], 12);
      });
      const popTest = first.find((r) => r.model === 'popularity' && r.phase === 'test')!;
      expect(popTest.hitRate).toBeCloseTo(hits / steps, 12);
      expect(popTest.users).toBe(userHits.length);
      expect(popTest.userHits).toBeCloseTo(userHits.reduce((a, b) => a + b, 0) / userHits.length, 12);
      expect(popTest.steps).toBe(llSteps);
      const uniTest = first.find((r) => r.model === 'uniform' && r.phase === 'test')!;
      expect(uniTest.logLikelihood).toBeCloseTo(uniformLl / llSteps, 10);
      expect(popTest.logLikelihood).toBeCloseTo(popularityLl / llSteps, 10);
      expect(popTest.logLikelihoodHalfWidth).toBeGreaterThan(0);
      // Real items: up to the largest index in the training views' slates.
      const maxItem = A.slate.reduce((m, v, i) => (phase[Math.floor(i / (T * S))] === 'train' || Math.floor(i / S) % T < 5 ? Math.max(m, v) : m), 0);
      expect(uniTest.hitRate).toBeCloseTo(5 / (maxItem - 2), 12);
    });
  });
});
