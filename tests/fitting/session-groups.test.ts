import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { createFittableModel, evaluateClickModel, fitClickModel, FITTED_MODEL_TYPES } from '../../src/fitting/index.js';
import { sessionGroupsOfLog } from '../../src/fitting/session-groups.js';
import { DependentClickModel } from '../../src/simulation/click-models/index.js';
import { simulateSessions } from '../../src/simulation/sessions.js';

// Lists of 3, 5 and 4 results, shuffled (many distinct rankings), DCM clicks (several clicks per session).
const lists = { offsets: Int32Array.of(0, 3, 8, 12), documents: Int32Array.from({ length: 12 }, (_, i) => i) };
const sim = simulateSessions(lists, {
  numSessions: 3000,
  clickModel: new DependentClickModel(Float64Array.of(0.7, 0.6, 0.5, 0.4, 0.3)),
  relevance: Float32Array.from({ length: 12 }, (_, i) => 0.15 + 0.06 * i),
  rng: randomStream('groups'),
  intervention: 'shuffle',
  truth: false,
});

/** Every number of a parameter record, flattened in key order. */
function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbers);
  if (value && typeof value === 'object')
    return Object.keys(value)
      .sort()
      .flatMap((k) => numbers((value as Record<string, unknown>)[k]));
  return [];
}

describe('EM on weighted distinct sessions equals EM on the sessions', () => {
  for (const model of FITTED_MODEL_TYPES) {
    it(`${model}: parameters, log-likelihood and perplexity to 1e-9`, () => {
      const report = fitClickModel(sim.log, { model, iterations: 20, testFraction: 0.25, seed: 5 });
      const { log, groups } = sessionGroupsOfLog(report.log, report.train);
      // Far fewer groups than sessions, or the weights would hardly be tested.
      expect(groups.length).toBeLessThan(report.train.length / 2);
      const fitted = createFittableModel(model, report.log.pairQuery.length, report.model.listLength);
      for (let i = 0; i < report.iterations; i++) fitted.iterate(log, groups);
      const close = (xs: ArrayLike<number>) => Array.from(xs, (v) => expect.closeTo(v, 9));
      expect(Array.from(fitted.attractiveness.value)).toEqual(close(report.model.attractiveness.value));
      const own = numbers(report.model.parameters());
      expect(own.length > 0).toBe(model !== 'cm'); // the cascade model has only α
      expect(numbers(fitted.parameters())).toEqual(close(own));
      const train = evaluateClickModel(fitted, log, groups);
      expect(train.sessions).toBe(report.train.length);
      expect(train.logLikelihood).toBeCloseTo(report.trainQuality.logLikelihood, 9);
      expect(train.perplexityAtRank).toEqual(close(report.trainQuality.perplexityAtRank));
      const test = sessionGroupsOfLog(report.log, report.test);
      const quality = evaluateClickModel(fitted, test.log, test.groups);
      expect(quality.sessions).toBe(report.test.length);
      expect(quality.logLikelihood).toBeCloseTo(report.testQuality!.logLikelihood, 9);
      expect(quality.perplexityAtRank).toEqual(close(report.testQuality!.perplexityAtRank));
    });
  }
});
