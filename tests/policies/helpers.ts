import { expect } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { SlatePolicy } from '../../src/policies/slate-policy.js';

/** Four standard errors of a binomial proportion p from n draws: a false alarm about once in 16,000 checks. */
export const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

/** Every slate has K distinct items in [0, numItems). */
export function expectValidSlate(slate: Int32Array, numItems: number): void {
  const seen = new Set<number>();
  for (const item of slate) {
    expect(Number.isInteger(item) && item >= 0 && item < numItems).toBe(true);
    seen.add(item);
  }
  expect(seen.size).toBe(slate.length);
}

/** Frequencies of item i at position k over `runs` calls of the policy's own `choose`, at `[i * K + k]`. */
export function bruteForceFrequencies(policy: SlatePolicy, seed: string, runs: number, context?: number): Float64Array {
  const K = policy.slateSize;
  const counts = new Float64Array(policy.numItems * K);
  const slate = new Int32Array(K);
  const rng = randomStream(seed);
  for (let r = 0; r < runs; r++) {
    policy.choose(rng, slate, context);
    for (let k = 0; k < K; k++) counts[slate[k] * K + k]++;
  }
  for (let j = 0; j < counts.length; j++) counts[j] /= runs;
  return counts;
}

/**
 * Compares `positionPropensities` (drawn with its own seed and `draws`) with brute-force
 * frequencies of `choose` (another seed, `runs` rounds): within 4 standard errors of the
 * difference when both are Monte Carlo, exactly (up to the brute force's own 4 SE) when `exact`.
 * Also checks that every position's column sums to 1 and that computing propensities leaves the
 * policy's choices unchanged.
 */
export function checkPropensities(policy: SlatePolicy, options: { draws: number; runs: number; exact?: boolean; context?: number }): Float64Array {
  const { draws, runs, exact = false, context } = options;
  const K = policy.slateSize;
  const n = policy.numItems;
  const before = new Int32Array(K);
  policy.choose(randomStream('probe'), before, context);
  const out = new Float64Array(n * K);
  policy.positionPropensities(randomStream('propensities'), draws, out, context);
  const after = new Int32Array(K);
  policy.choose(randomStream('probe'), after, context);
  expect(Array.from(after)).toEqual(Array.from(before));
  for (let k = 0; k < K; k++) {
    let column = 0;
    for (let i = 0; i < n; i++) column += out[i * K + k];
    expect(column).toBeCloseTo(1, 9);
  }
  const freq = bruteForceFrequencies(policy, 'brute-force', runs, context);
  for (let j = 0; j < n * K; j++) {
    const p = (out[j] + freq[j]) / 2;
    const se = exact ? Math.sqrt((p * (1 - p)) / runs) : Math.sqrt(p * (1 - p) * (1 / runs + 1 / draws));
    expect(Math.abs(out[j] - freq[j]), `item ${Math.floor(j / K)} at position ${j % K}: ${out[j]} vs ${freq[j]}`).toBeLessThanOrEqual(4 * se + 1e-12);
  }
  return out;
}

/** Feeds `rounds` rounds of a fixed click-probability world (clicks ~ Bernoulli(κ_k·θ_i)) to a policy. */
export function train(policy: SlatePolicy, seed: string, rounds: number, attraction: ArrayLike<number>, kappa: ArrayLike<number>, context?: number): void {
  const K = policy.slateSize;
  const rng = randomStream(`${seed}/choose`);
  const world = randomStream(`${seed}/world`);
  const slate = new Int32Array(K);
  const clicks = new Uint8Array(K);
  const observed = new Uint8Array(K).fill(1);
  for (let r = 0; r < rounds; r++) {
    policy.choose(rng, slate, context);
    for (let k = 0; k < K; k++) clicks[k] = world.uniform() < kappa[k] * attraction[slate[k]] ? 1 : 0;
    policy.update(slate, clicks, observed, context);
  }
}
