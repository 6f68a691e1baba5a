import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { EpsilonGreedyPolicy, GreedyPolicy, PlackettLucePolicy, UniformRandomPolicy } from '../../src/policies/bandits/baselines.js';
import { bruteForceFrequencies, checkPropensities, expectValidSlate, tolerance, train } from './helpers.js';

describe('uniform random slates', () => {
  it('put every item at every position with probability exactly 1/numItems', () => {
    const policy = new UniformRandomPolicy({ numItems: 7, slateSize: 3 });
    const out = checkPropensities(policy, { draws: 1, runs: 30_000, exact: true });
    expect(out.every((p) => p === 1 / 7)).toBe(true);
  });

  it('show K distinct valid items and are reproducible from the seed', () => {
    const a = new UniformRandomPolicy({ numItems: 50, slateSize: 10 });
    const b = new UniformRandomPolicy({ numItems: 50, slateSize: 10 });
    const ra = randomStream('u');
    const rb = randomStream('u');
    const sa = new Int32Array(10);
    const sb = new Int32Array(10);
    for (let r = 0; r < 200; r++) {
      a.choose(ra, sa);
      b.choose(rb, sb);
      expectValidSlate(sa, 50);
      expect(Array.from(sa)).toEqual(Array.from(sb));
    }
  });
});

describe('greedy and ε-greedy', () => {
  it('greedy ranks by empirical CTR, optimistic about unseen items, ties to the lower index, with 0/1 propensities', () => {
    const policy = new GreedyPolicy({ numItems: 5, slateSize: 2 });
    const slate = new Int32Array(2);
    policy.choose(randomStream('x'), slate);
    expect(Array.from(slate)).toEqual([0, 1]); // all unseen (score 1): index order
    policy.update(Int32Array.from([0, 1]), Uint8Array.from([1, 0]), Uint8Array.from([1, 1]));
    policy.update(Int32Array.from([2, 3]), Uint8Array.from([0, 1]), Uint8Array.from([1, 0])); // item 3 unobserved
    policy.update(Int32Array.from([4, 0]), Uint8Array.from([1, 0]), Uint8Array.from([1, 1]));
    // CTRs: 0 → 1/2, 1 → 0, 2 → 0, 3 → unseen (1), 4 → 1/1
    policy.choose(randomStream('x'), slate);
    expect(Array.from(slate)).toEqual([3, 4]);
    const out = checkPropensities(policy, { draws: 1, runs: 50, exact: true });
    expect(out[3 * 2 + 0]).toBe(1);
    expect(out[4 * 2 + 1]).toBe(1);
    expect(out.reduce((s, p) => s + p, 0)).toBe(2);
  });

  it('ε-greedy has the exact propensities (1 − ε)·1[greedy] + ε/numItems', () => {
    const policy = new EpsilonGreedyPolicy({ numItems: 6, slateSize: 3, epsilon: 0.3, unseenScore: 0 });
    train(policy, 'eps', 50, [0.1, 0.5, 0.3, 0.45, 0.2, 0.6], [1, 0.6, 0.4]);
    const greedy = new Int32Array(3);
    const probe = new GreedyPolicy({ numItems: 6, slateSize: 3, unseenScore: 0 });
    probe.clicks.set(policy.clicks);
    probe.views.set(policy.views);
    probe.choose(randomStream('x'), greedy);
    const out = checkPropensities(policy, { draws: 1, runs: 40_000, exact: true });
    for (let i = 0; i < 6; i++) {
      for (let k = 0; k < 3; k++) expect(out[i * 3 + k]).toBeCloseTo((greedy[k] === i ? 0.7 : 0) + 0.3 / 6, 14);
    }
  });
});

describe('Plackett–Luce', () => {
  const scores = Float64Array.from([0.5, -1, 2, 0, 1.2, 0.3]);

  it('draws position 1 with exactly softmax(s/τ) probabilities, and writes them in closed form', () => {
    const temperature = 0.7;
    const policy = new PlackettLucePolicy({ numItems: 6, slateSize: 3, scores, temperature });
    const softmax = Array.from(scores, (s) => Math.exp(s / temperature));
    const total = softmax.reduce((a, b) => a + b, 0);
    const runs = 40_000;
    const freq = bruteForceFrequencies(policy, 'pl-first', runs);
    const out = new Float64Array(18);
    policy.positionPropensities(randomStream('pl'), 10, out);
    for (let i = 0; i < 6; i++) {
      const p = softmax[i] / total;
      expect(out[i * 3]).toBeCloseTo(p, 14);
      expect(Math.abs(freq[i * 3] - p), `item ${i}`).toBeLessThan(tolerance(p, runs));
    }
  });

  it('has Monte Carlo propensities for later positions that match brute-force frequencies (Gumbel-top-K = sequential sampling)', () => {
    const policy = new PlackettLucePolicy({ numItems: 6, slateSize: 3, scores });
    checkPropensities(policy, { draws: 30_000, runs: 30_000 });
    // The second position still has a closed form to check against: P(j second) = Σ_{i≠j} p_i·p_j/(1 − p_i).
    const p = Array.from(scores, (s) => Math.exp(s));
    const total = p.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 6; i++) p[i] /= total;
    const out = new Float64Array(18);
    policy.positionPropensities(randomStream('pl-2'), 30_000, out);
    for (let j = 0; j < 6; j++) {
      let second = 0;
      for (let i = 0; i < 6; i++) if (i !== j) second += (p[i] * p[j]) / (1 - p[i]);
      expect(Math.abs(out[j * 3 + 1] - second), `item ${j}`).toBeLessThan(tolerance(second, 30_000));
    }
  });

  it('takes per-context scores from a function', () => {
    const policy = new PlackettLucePolicy({
      numItems: 4,
      slateSize: 2,
      temperature: 0.01,
      scores: (user, out) => {
        out.fill(0);
        out[user ?? 0] = 1;
      },
    });
    const slate = new Int32Array(2);
    policy.choose(randomStream('ctx'), slate, 3);
    expect(slate[0]).toBe(3);
    policy.choose(randomStream('ctx'), slate, 1);
    expect(slate[0]).toBe(1);
    expectValidSlate(slate, 4);
    expect(() => new PlackettLucePolicy({ numItems: 4, slateSize: 2, scores: Float64Array.from([1, 2]) })).toThrow(/scores: expected a Float64Array of 4 scores/);
  });
});
