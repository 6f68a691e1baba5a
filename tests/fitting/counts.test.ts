import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { evaluateSlotCounts, fitFromCounts, slotCountsOfLog } from '../../src/fitting/counts.js';
import { fitClickModel } from '../../src/fitting/index.js';
import { UserBrowsingModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// Three queries with lists of 3, 5 and 4 results (lengths differ: the log-likelihood weighs by them), shuffled.
const lists = { offsets: Int32Array.of(0, 3, 8, 12), documents: Int32Array.from({ length: 12 }, (_, i) => i) };
const ubmTable = Array.from({ length: 5 }, (_, k) => Array.from({ length: 5 }, (_, d) => (d <= k ? 0.95 - 0.12 * k + 0.03 * d : 0)));
const sim = simulateSessions(lists, {
  numSessions: 4000,
  clickModel: new UserBrowsingModel(ubmTable),
  relevance: Float32Array.from({ length: 12 }, (_, i) => 0.15 + 0.06 * i),
  rng: randomStream('counts'),
  intervention: 'shuffle',
  truth: false,
});

describe('EM on sufficient statistics equals EM on sessions', () => {
  for (const model of ['pbm', 'ubm'] as const) {
    it(`${model}: parameters, log-likelihood and perplexity to 1e-9`, () => {
      const report = fitClickModel(sim.log, { model, iterations: 30, testFraction: 0.25, seed: 3 });
      const counts = slotCountsOfLog(report.log, report.train, model);
      expect(counts.pair.length).toBeLessThan(report.train.length);
      const fitted = fitFromCounts(counts, { model, iterations: 30, listLength: report.model.listLength });
      const close = (xs: Float64Array) => Array.from(xs, (v) => expect.closeTo(v, 9));
      expect(Array.from(fitted.attractiveness.value)).toEqual(close(report.model.attractiveness.value));
      expect(Array.from(fitted.examination.value)).toEqual(close((report.model as typeof fitted).examination.value));
      for (const [sessions, quality] of [
        [report.train, report.trainQuality],
        [report.test, report.testQuality!],
      ] as const) {
        const q = evaluateSlotCounts(fitted, slotCountsOfLog(report.log, sessions, model));
        expect(q.sessions).toBe(sessions.length);
        expect(q.logLikelihood).toBeCloseTo(quality.logLikelihood, 9);
        if (model === 'pbm') {
          expect(q.perplexityAtRank).toEqual(quality.perplexityAtRank.map((v) => expect.closeTo(v, 9)));
          expect(q.perplexity).toBeCloseTo(quality.perplexity, 9);
        } else {
          expect(q.perplexityFromCounts).toBe(false);
        }
      }
    });
  }

  it('pairs with equal counts merged into one id with a multiplicity give the same parameters and log-likelihood; a pair id −1 scores with α = 0.5', () => {
    // Two pairs per count pattern: pairs 0 and 1 alike, pairs 2 and 3 alike; two ranks, sessions of length 2.
    const rows = (pair: number[], impressions: number[], clicks: number[], rank: number[]) => ({
      pair: Int32Array.from(pair),
      rank: Int32Array.from(rank),
      distance: new Int32Array(pair.length),
      length: Int32Array.from(pair.map(() => 2)),
      impressions: Float64Array.from(impressions),
      clicks: Float64Array.from(clicks),
      listLength: 2,
    });
    const full = { ...rows([0, 0, 1, 1, 2, 3], [10, 6, 10, 6, 8, 8], [4, 1, 4, 1, 2, 2], [0, 1, 0, 1, 0, 0]), pairs: 4 };
    const merged = { ...rows([0, 0, 1], [10, 6, 8], [4, 1, 2], [0, 1, 0]), pairs: 2, multiplicity: Float64Array.of(2, 2) };
    const a = fitFromCounts(full, { model: 'pbm', iterations: 7 });
    const b = fitFromCounts(merged, { model: 'pbm', iterations: 7 });
    expect(Array.from(b.examination.value)).toEqual(Array.from(a.examination.value, (v) => expect.closeTo(v, 12)));
    expect([b.attractiveness.value[0], b.attractiveness.value[1]]).toEqual([expect.closeTo(a.attractiveness.value[0], 12), expect.closeTo(a.attractiveness.value[2], 12)]);
    const qa = evaluateSlotCounts(a, full);
    const qb = evaluateSlotCounts(b, merged);
    expect(qb.sessions).toBe(qa.sessions);
    expect(qb.logLikelihood).toBeCloseTo(qa.logLikelihood, 12);
    expect(qb.perplexityAtRank).toEqual(qa.perplexityAtRank.map((v) => expect.closeTo(v, 12)));
    // Held-out counts: pair −1 is one the model has not seen (two sessions of length 2 at rank 0: the sum over slots / 2, / 2 sessions).
    const g = b.examination.value[0];
    const test = { ...rows([-1], [2], [1], [0]), listLength: 1, pairs: 2 };
    expect(evaluateSlotCounts(b, test).logLikelihood).toBeCloseTo((Math.log(g * 0.5) + Math.log(1 - g * 0.5)) / 2 / 2, 12);
    expect(() => fitFromCounts(test, { model: 'pbm', iterations: 1 })).toThrow('training counts number their pairs 0 .. 1');
  });
});
