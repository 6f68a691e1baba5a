import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { BernoulliTS } from '../../src/policies/bandits/bernoulli-ts.js';
import { selectTopK } from '../../src/policies/bandits/common.js';
import { InSlateTS } from '../../src/policies/bandits/in-slate-ts.js';
import { bruteForceFrequencies, checkPropensities, expectValidSlate, tolerance, train } from './helpers.js';

describe('top-K selection', () => {
  it('equals a full sort (score descending, ties to the lower index) for small and large K', () => {
    const rng = randomStream('topk');
    for (const [n, k] of [
      [10, 1],
      [10, 3],
      [100, 10],
      [100, 24],
      [100, 25],
      [60, 60],
      [500, 100],
    ]) {
      for (let rep = 0; rep < 20; rep++) {
        // Few distinct values, so ties are common.
        const scores = Float64Array.from({ length: n }, () => rng.int(rep % 2 ? 5 : 1000) / 7);
        const out = new Int32Array(k);
        selectTopK(scores, n, k, out, new Float64Array(k));
        const sorted = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
        expect(Array.from(out)).toEqual(sorted.slice(0, k));
      }
    }
  });
});

describe('BernoulliTS', () => {
  it('updates θ_a ~ Beta(α_a + S_a, β_a + N_a − S_a) from observed positions only, with per-item priors', () => {
    const policy = new BernoulliTS({ numItems: 5, slateSize: 3, alpha: 2, beta: [1, 2, 3, 4, 5] });
    policy.update(Int32Array.from([4, 1, 0]), Uint8Array.from([1, 0, 1]), Uint8Array.from([1, 1, 1]));
    policy.update(Int32Array.from([1, 4, 2]), Uint8Array.from([1, 1, 0]), Uint8Array.from([1, 0, 1])); // item 4 unobserved
    policy.update(Int32Array.from([0, 2, 3]), Uint8Array.from([0, 0, 0]), Uint8Array.from([1, 1, 1]));
    // item: S, N → Beta(2 + S, β + N − S)
    expect(policy.posterior(0)).toEqual([2 + 1, 1 + 2 - 1]);
    expect(policy.posterior(1)).toEqual([2 + 1, 2 + 2 - 1]);
    expect(policy.posterior(2)).toEqual([2 + 0, 3 + 2]);
    expect(policy.posterior(3)).toEqual([2, 4 + 1]);
    expect(policy.posterior(4)).toEqual([2 + 1, 5]);
    expect(Array.from(policy.views)).toEqual([2, 2, 2, 1, 1]);
    expect(Array.from(policy.clicks)).toEqual([1, 1, 0, 0, 1]);
  });

  it('always shows K distinct valid items, also through the heap path (K > 24)', () => {
    for (const [n, K] of [
      [30, 5],
      [60, 40],
      [7, 7],
    ]) {
      const policy = new BernoulliTS({ numItems: n, slateSize: K });
      const rng = randomStream(`valid/${n}`);
      const slate = new Int32Array(K);
      const attraction = Float64Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
      for (let r = 0; r < 300; r++) {
        policy.choose(rng, slate);
        expectValidSlate(slate, n);
        policy.update(
          slate,
          Uint8Array.from(slate, (i) => (rng.uniform() < attraction[i] ? 1 : 0)),
          new Uint8Array(K).fill(1),
        );
      }
    }
  });

  it('gives the same slates from the same seed', () => {
    const run = (seed: string) => {
      const policy = new BernoulliTS({ numItems: 20, slateSize: 4 });
      train(
        policy,
        seed,
        200,
        Float64Array.from({ length: 20 }, (_, i) => i / 40),
        [1, 0.7, 0.5, 0.3],
      );
      const slate = new Int32Array(4);
      policy.choose(randomStream('final'), slate);
      return [Array.from(slate), Array.from(policy.clicks)];
    };
    expect(run('a')).toEqual(run('a'));
    expect(run('a')).not.toEqual(run('b'));
  });

  it('reports Monte Carlo propensities that match brute-force frequencies of its own choices', () => {
    const policy = new BernoulliTS({ numItems: 8, slateSize: 3 });
    train(policy, 'propensities', 60, [0.1, 0.5, 0.3, 0.45, 0.2, 0.05, 0.4, 0.35], [1, 0.6, 0.4]);
    checkPropensities(policy, { draws: 30_000, runs: 30_000 });
  });

  it('ranks by one posterior draw: with θ_0 ≈ 0.9, θ_1 ≈ 0.8, θ_2 ~ U(0, 1), item 2 is first w.p. 0.1 and second w.p. 0.1', () => {
    const policy = new BernoulliTS({ numItems: 3, slateSize: 2, alpha: [9e5, 8e5, 1], beta: [1e5, 2e5, 1] });
    const runs = 40_000;
    const freq = bruteForceFrequencies(policy, 'one-draw', runs);
    const slack = 0.002; // θ_0 and θ_1 are not quite point masses
    for (const [index, p] of [
      [2 * 2 + 0, 0.1],
      [2 * 2 + 1, 0.1],
      [0 * 2 + 0, 0.9],
      [1 * 2 + 1, 0.8],
    ]) {
      expect(Math.abs(freq[index] - p)).toBeLessThan(tolerance(p, runs) + slack);
    }
  });
});

describe('In-slate TS', () => {
  it('interleaves K posterior draws: with θ_0 ≈ 0.9, θ_1 ≈ 0.8, θ_2 ~ U(0, 1) and K = 2, item 2 is second w.p. 0.18', () => {
    // Draw 1 puts item 2 first w.p. 0.1 (slate [2, 0]); otherwise slot 2 takes draw 2's first item
    // when it is item 2 (0.1), else draw 1's second item, which is item 2 when θ_2 ∈ (0.8, 0.9).
    // P(2 second) = 0.9·(0.1 + 0.9·0.1/0.9) = 0.18, P(0 second) = 0.1, P(1 second) = 0.72.
    const policy = new InSlateTS({ numItems: 3, slateSize: 2, alpha: [9e5, 8e5, 1], beta: [1e5, 2e5, 1] });
    const runs = 40_000;
    const freq = bruteForceFrequencies(policy, 'interleave', runs);
    const slack = 0.002;
    for (const [index, p] of [
      [2 * 2 + 0, 0.1],
      [0 * 2 + 0, 0.9],
      [2 * 2 + 1, 0.18],
      [0 * 2 + 1, 0.1],
      [1 * 2 + 1, 0.72],
    ]) {
      expect(Math.abs(freq[index] - p), `entry ${index}`).toBeLessThan(tolerance(p, runs) + slack);
    }
  });

  it('shares BernoulliTS posterior updates and shows K distinct valid items', () => {
    const policy = new InSlateTS({ numItems: 12, slateSize: 4, alpha: 1, beta: 2 });
    policy.update(Int32Array.from([3, 1, 0, 2]), Uint8Array.from([1, 0, 0, 1]), Uint8Array.from([1, 1, 0, 1]));
    expect(policy.posterior(3)).toEqual([2, 2]);
    expect(policy.posterior(1)).toEqual([1, 3]);
    expect(policy.posterior(0)).toEqual([1, 2]);
    expect(policy.posterior(2)).toEqual([2, 2]);
    expect(policy.name).toBe('in-slate-ts');
    const rng = randomStream('in-slate-valid');
    const slate = new Int32Array(4);
    for (let r = 0; r < 300; r++) {
      policy.choose(rng, slate);
      expectValidSlate(slate, 12);
    }
  });

  it('reports Monte Carlo propensities that match brute-force frequencies of its own choices', () => {
    const policy = new InSlateTS({ numItems: 6, slateSize: 3 });
    train(policy, 'in-slate-propensities', 40, [0.1, 0.5, 0.3, 0.45, 0.2, 0.6], [1, 0.6, 0.4]);
    checkPropensities(policy, { draws: 20_000, runs: 20_000 });
  });
});
