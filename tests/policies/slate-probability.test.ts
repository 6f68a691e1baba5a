import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { createPolicy } from '../../src/policies/bandits/factory.js';
import { runOnline } from '../../src/policies/online.js';
import { createClickModel } from '../../src/simulation/click-models/index.js';

const n = 4;
const K = 2;
const slates = [...Array(n).keys()].flatMap((a) => [...Array(n).keys()].filter((b) => b !== a).map((b) => Int32Array.of(a, b)));

describe('whole-slate probabilities', () => {
  const specs = [{ type: 'random' }, { type: 'epsilon-greedy', epsilon: 0.3 }, { type: 'plackett-luce', scores: [0.5, -1, 2, 0], temperature: 0.7 }, { type: 'greedy' }, { type: 'pbm-ucb' }];
  for (const spec of specs) {
    it(`${spec.type}: sum to 1 over all ordered slates and match the policy's own choice frequencies`, () => {
      const policy = createPolicy(spec, { numItems: n, slateSize: K, positionWeights: [1, 0.5] });
      // Give the learning ones some history, so that the greedy slate is not the first by index.
      policy.update(Int32Array.of(2, 3), Uint8Array.of(1, 0), Uint8Array.of(1, 1));
      policy.update(Int32Array.of(0, 1), Uint8Array.of(0, 0), Uint8Array.of(1, 1));
      const probabilities = slates.map((s) => policy.slateProbability!(s));
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const draws = 40_000;
      const counts = new Map<string, number>();
      const rng = randomStream(spec.type);
      const slate = new Int32Array(K);
      for (let d = 0; d < draws; d++) {
        policy.choose(rng, slate);
        counts.set(slate.join(','), (counts.get(slate.join(',')) ?? 0) + 1);
      }
      slates.forEach((s, i) => {
        const p = probabilities[i];
        expect(Math.abs((counts.get(s.join(',')) ?? 0) / draws - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / draws) + 1e-12);
      });
    });
  }

  it('are logged per round by the online loop for the policies that have them', () => {
    const world = { numItems: n, attractiveness: Float64Array.of(0.1, 0.2, 0.3, 0.4), clickModel: createClickModel({ type: 'pbm' }, K) };
    const random = runOnline(createPolicy({ type: 'random' }, { numItems: n, slateSize: K }), world, { rounds: 20, batchSize: 4, rng: randomStream(1), propensityDraws: 10 });
    expect(Array.from(new Set(random.slatePropensity))).toEqual([1 / 12]);
    const ts = runOnline(createPolicy({ type: 'bernoulli-ts' }, { numItems: n, slateSize: K }), world, { rounds: 20, batchSize: 4, rng: randomStream(1), propensityDraws: 10 });
    expect(ts.slatePropensity).toBeUndefined();
  });
});
