import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { bernoulliKL, CascadeKLUCB, klUpperBound } from '../../src/policies/bandits/cascade-kl-ucb.js';
import { CascadeTS } from '../../src/policies/bandits/cascade-ts.js';
import { allObserved, cascadeObserved } from '../../src/policies/bandits/common.js';
import { TSCascade } from '../../src/policies/bandits/ts-cascade.js';
import type { SlatePolicy } from '../../src/policies/slate-policy.js';
import { bruteForceFrequencies, checkPropensities, expectValidSlate, tolerance } from './helpers.js';

/** Runs a cascade world (click the first attractive item, P(attractive) = w_i) with cascade feedback. */
function trainCascade(policy: SlatePolicy, seed: string, rounds: number, attraction: ArrayLike<number>): void {
  const K = policy.slateSize;
  const rng = randomStream(`${seed}/choose`);
  const world = randomStream(`${seed}/world`);
  const slate = new Int32Array(K);
  const clicks = new Uint8Array(K);
  const observed = new Uint8Array(K);
  for (let r = 0; r < rounds; r++) {
    policy.choose(rng, slate);
    clicks.fill(0);
    for (let k = 0; k < K; k++) {
      if (world.uniform() < attraction[slate[k]]) {
        clicks[k] = 1;
        break;
      }
    }
    policy.update(slate, clicks, cascadeObserved(clicks, observed));
  }
}

describe('cascade feedback masks', () => {
  it('observes positions down to and including the first click, or all of them without a click', () => {
    expect(Array.from(cascadeObserved(Uint8Array.from([0, 1, 0, 1]), new Uint8Array(4)))).toEqual([1, 1, 0, 0]);
    expect(Array.from(cascadeObserved(Uint8Array.from([1, 0, 0]), new Uint8Array(3)))).toEqual([1, 0, 0]);
    expect(Array.from(cascadeObserved(Uint8Array.from([0, 0, 0]), new Uint8Array(3)))).toEqual([1, 1, 1]);
    expect(Array.from(allObserved(new Uint8Array(3)))).toEqual([1, 1, 1]);
  });
});

describe('Cascade TS', () => {
  it('updates the Beta posterior of examined items only', () => {
    const policy = new CascadeTS({ numItems: 6, slateSize: 3 });
    expect(policy.feedback).toBe('cascade');
    const slate = Int32Array.from([3, 1, 4]);
    const clicks = Uint8Array.from([0, 1, 0]);
    policy.update(slate, clicks, cascadeObserved(clicks, new Uint8Array(3)));
    const none = Uint8Array.from([0, 0, 0]);
    policy.update(Int32Array.from([4, 5, 3]), none, cascadeObserved(none, new Uint8Array(3)));
    expect(policy.posterior(3)).toEqual([1, 3]); // skipped twice
    expect(policy.posterior(1)).toEqual([2, 1]); // clicked
    expect(policy.posterior(4)).toEqual([1, 2]); // unexamined after the click, then skipped
    expect(policy.posterior(5)).toEqual([1, 2]);
    expect(policy.posterior(0)).toEqual([1, 1]);
  });

  it('shows valid slates, learns the most attractive items, and has Monte Carlo propensities matching its choices', () => {
    const policy = new CascadeTS({ numItems: 8, slateSize: 3 });
    trainCascade(policy, 'cascade-ts', 60, [0.05, 0.1, 0.4, 0.2, 0.3, 0.15, 0.05, 0.35]);
    checkPropensities(policy, { draws: 20_000, runs: 20_000 });
    const slate = new Int32Array(3);
    policy.choose(randomStream('x'), slate);
    expectValidSlate(slate, 8);
  });
});

describe('CascadeKL-UCB', () => {
  it('solves T·KL(ŵ‖U) = log t + 3 log log t for U ∈ [ŵ, 1], with the closed forms at the edges', () => {
    for (const [w, T, delta] of [
      [0.3, 10, 2],
      [0.5, 3, 1.2],
      [0.9, 50, 4],
      [0.01, 1000, 3],
    ]) {
      const u = klUpperBound(w, T, delta);
      expect(u).toBeGreaterThan(w);
      expect(T * bernoulliKL(w, u)).toBeCloseTo(delta, 6);
    }
    expect(klUpperBound(0, 4, 2)).toBeCloseTo(1 - Math.exp(-0.5), 14); // KL(0‖q) = −log(1 − q)
    expect(klUpperBound(1, 4, 2)).toBe(1);
    expect(klUpperBound(0.4, 0, 2)).toBe(1);
    expect(klUpperBound(0.4, 5, 0)).toBe(0.4);
    expect(bernoulliKL(0.3, 0.6)).toBeCloseTo(0.3 * Math.log(0.5) + 0.7 * Math.log(0.7 / 0.4), 14);
  });

  it('indexes items with the counts of examined positions and ranks them', () => {
    const policy = new CascadeKLUCB({ numItems: 5, slateSize: 2 });
    expect(policy.explorationBudget()).toBe(0); // t = 1
    const obs = new Uint8Array(2);
    const rounds: [number[], number[]][] = [
      [
        [0, 1],
        [0, 1],
      ],
      [
        [2, 3],
        [1, 0],
      ],
      [
        [4, 0],
        [0, 0],
      ],
      [
        [1, 2],
        [0, 0],
      ],
    ];
    for (const [slate, clicks] of rounds) {
      const c = Uint8Array.from(clicks);
      policy.update(Int32Array.from(slate), c, cascadeObserved(c, obs));
    }
    // clicks / views: item 0: 0/2, item 1: 1/2, item 2: 1/2, item 3: unexamined, item 4: 0/1
    expect(Array.from(policy.views)).toEqual([2, 2, 2, 0, 1]);
    expect(Array.from(policy.clicks)).toEqual([0, 1, 1, 0, 0]);
    const delta = Math.log(5) + 3 * Math.log(Math.log(5)); // t = 5
    expect(policy.explorationBudget()).toBeCloseTo(delta, 14);
    const expected = [klUpperBound(0, 2, delta), klUpperBound(0.5, 2, delta), klUpperBound(0.5, 2, delta), 1, klUpperBound(0, 1, delta)];
    const got = policy.indices();
    for (let i = 0; i < 5; i++) expect(got[i]).toBeCloseTo(expected[i], 12);
    expect(got[0]).toBeCloseTo(1 - Math.exp(-delta / 2), 12);
    const slate = new Int32Array(2);
    policy.choose(randomStream('unused'), slate);
    // Unexamined item 3 (U = 1) first; then items 1 and 2 (ŵ = 1/2 from 2 views, U ≈ 0.988) beat item 4
    // (ŵ = 0 from 1 view, U = 1 − e^{−δ} ≈ 0.952); the tie between 1 and 2 goes to the lower index.
    expect(got[1]).toBeGreaterThan(got[4]);
    expect(Array.from(slate)).toEqual([3, 1]);
  });

  it('is deterministic with exact 0/1 propensities', () => {
    const policy = new CascadeKLUCB({ numItems: 8, slateSize: 3 });
    trainCascade(policy, 'kl-ucb', 200, [0.05, 0.1, 0.4, 0.2, 0.3, 0.15, 0.05, 0.35]);
    const out = checkPropensities(policy, { draws: 1, runs: 100, exact: true });
    expect(out.every((p) => p === 0 || p === 1)).toBe(true);
  });

  it('concentrates on the most attractive items', () => {
    const policy = new CascadeKLUCB({ numItems: 6, slateSize: 2 });
    trainCascade(policy, 'kl-ucb-learn', 3000, [0.05, 0.1, 0.6, 0.1, 0.5, 0.05]);
    const slate = new Int32Array(2);
    policy.choose(randomStream('unused'), slate);
    expect(new Set(slate)).toEqual(new Set([2, 4]));
  });
});

describe('TS-Cascade', () => {
  it('scores θ(i) = ŵ(i) + Z·max{√(ν̂ log(t + 1)/(N + 1)), √log(t + 1)/(N + 1)} with ν̂ = ŵ(1 − ŵ)', () => {
    const policy = new TSCascade({ numItems: 4, slateSize: 2 });
    const obs = new Uint8Array(2);
    const rounds: [number[], number[]][] = [
      [
        [0, 1],
        [0, 1],
      ],
      [
        [0, 2],
        [0, 0],
      ],
      [
        [0, 1],
        [1, 0],
      ],
      [
        [0, 3],
        [0, 0],
      ],
    ];
    for (const [slate, clicks] of rounds) {
      const c = Uint8Array.from(clicks);
      policy.update(Int32Array.from(slate), c, cascadeObserved(c, obs));
    }
    // item 0: 1 click / 4 views; item 1: 1/1; item 2: 0/1; item 3: 0/1. t = 5 → log(t + 1) = log 6.
    const L = Math.log(6);
    const sigma = (w: number, n: number) => Math.max(Math.sqrt((w * (1 - w) * L) / (n + 1)), Math.sqrt(L) / (n + 1));
    const z = -0.7;
    const got = policy.scores(z);
    expect(got[0]).toBeCloseTo(0.25 + z * sigma(0.25, 4), 12);
    expect(got[1]).toBeCloseTo(1 + z * sigma(1, 1), 12);
    expect(got[2]).toBeCloseTo(z * sigma(0, 1), 12);
    expect(got[3]).toBeCloseTo(z * sigma(0, 1), 12);
    // Item 1 (ŵ = 1, ν̂ = 0) takes the second term; an item with ŵ = 1/2 and N = 9 would take the first.
    expect(sigma(1, 1)).toBe(Math.sqrt(L) / 2);
    expect(sigma(0.5, 9)).toBe(Math.sqrt((0.25 * L) / 10));
  });

  it('breaks ties between unseen items at random and shows valid slates', () => {
    const policy = new TSCascade({ numItems: 5, slateSize: 2 });
    const runs = 20_000;
    const freq = bruteForceFrequencies(policy, 'ties', runs);
    for (let i = 0; i < 5; i++) expect(Math.abs(freq[i * 2] - 0.2)).toBeLessThan(tolerance(0.2, runs));
    const slate = new Int32Array(2);
    policy.choose(randomStream('v'), slate);
    expectValidSlate(slate, 5);
  });

  it('has Monte Carlo propensities matching its choices, and learns the most attractive items', () => {
    const policy = new TSCascade({ numItems: 7, slateSize: 3 });
    trainCascade(policy, 'ts-cascade', 50, [0.05, 0.1, 0.4, 0.2, 0.3, 0.15, 0.35]);
    checkPropensities(policy, { draws: 20_000, runs: 20_000 });
    const learner = new TSCascade({ numItems: 6, slateSize: 2 });
    trainCascade(learner, 'ts-cascade-learn', 4000, [0.05, 0.1, 0.6, 0.1, 0.5, 0.05]);
    const freq = bruteForceFrequencies(learner, 'learned', 500);
    expect(freq[2 * 2] + freq[4 * 2]).toBeGreaterThan(0.9);
  });
});
