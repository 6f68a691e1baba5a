import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { evaluateSlotCounts, fitFromCounts, numberPairs, slotCountsOfLog } from '../../src/fitting/counts.js';
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

  it('numbers pairs from raw counts, held-out pairs after the training pairs (α = 0.5)', () => {
    const raw = (query: number[], document: number[]) => ({
      query: Int32Array.from(query),
      document: Int32Array.from(document),
      rank: Int32Array.from(query.map(() => 0)),
      distance: new Int32Array(query.length),
      length: Int32Array.from(query.map(() => 1)),
      impressions: Float64Array.from(query.map(() => 2)),
      clicks: Float64Array.from(query.map(() => 1)),
    });
    const train = numberPairs(raw([5, 5, 7], [1, 2, 1]));
    expect(Array.from(train.pair)).toEqual([0, 1, 2]);
    expect([train.listLength, train.unseen]).toEqual([1, 0]);
    const test = numberPairs(raw([7, 9], [1, 1]), train);
    expect(Array.from(test.pair)).toEqual([2, 3]);
    expect(test.unseen).toBe(2);
    const model = fitFromCounts(train, { model: 'pbm', iterations: 5 });
    // One session per row with one result; the unseen pair scores with α = 0.5.
    const g = model.examination.value[0];
    const a = model.attractiveness.value[2];
    const expected = (Math.log(g * a) + Math.log(1 - g * a) + Math.log(g * 0.5) + Math.log(1 - g * 0.5)) / 4;
    expect(evaluateSlotCounts(model, test).logLikelihood).toBeCloseTo(expected, 12);
  });
});
