import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { PbmPosterior, PbmTS } from '../../src/policies/bandits/pbm-ts.js';
import { PbmUCB } from '../../src/policies/bandits/pbm-ucb.js';
import { checkPropensities, expectValidSlate, tolerance, train } from './helpers.js';

const all = Uint8Array.from([1, 1, 1]);
/** Three rounds on 4 items with K = 3 (every position observed). */
function feed(policy: PbmUCB | PbmTS): void {
  policy.update(Int32Array.from([0, 1, 2]), Uint8Array.from([1, 0, 0]), all);
  policy.update(Int32Array.from([1, 0, 3]), Uint8Array.from([0, 1, 0]), all);
  policy.update(Int32Array.from([2, 3, 0]), Uint8Array.from([0, 0, 0]), all);
}

describe('PBM-UCB', () => {
  const index = (S: number, N: number, Nt: number, t: number, epsilon: number) => S / Nt + Math.sqrt(N / Nt) * Math.sqrt(((1 + epsilon) * Math.log(t)) / (2 * Nt));

  it('computes U_k = S_k/Ñ_k + √(N_k/Ñ_k)·√((1 + ε) log t/(2Ñ_k)) with Ñ_k = Σ_l κ_l N_kl', () => {
    const policy = new PbmUCB({ numItems: 4, slateSize: 3, positionWeights: [1, 0.5, 0.25], epsilon: 0.1 });
    expect(Array.from(policy.indices())).toEqual([Infinity, Infinity, Infinity, Infinity]);
    feed(policy);
    // item 0: clicks at positions 1 and 2, a skip at 3 → S = 2, N = 3, Ñ = 1 + 0.5 + 0.25
    // item 1: positions 2, 1 → S = 0, N = 2, Ñ = 1.5; item 2: positions 3, 1 → Ñ = 1.25; item 3: positions 3, 2 → Ñ = 0.75
    const expected = [index(2, 3, 1.75, 4, 0.1), index(0, 2, 1.5, 4, 0.1), index(0, 2, 1.25, 4, 0.1), index(0, 2, 0.75, 4, 0.1)];
    const got = policy.indices();
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(expected[i], 12);
    expect(Array.from(policy.positionViews)).toEqual([1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1]);
    expect(Array.from(policy.positionClicks)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Ranking by index: 0 (≈ 2.01), 3 (≈ 1.65), 2 (≈ 0.99); positions in κ order.
    const slate = new Int32Array(3);
    policy.choose(randomStream('unused'), slate);
    expect(Array.from(slate)).toEqual([0, 3, 2]);
  });

  it('puts the best index on the most examined position, and takes a new (estimated) κ', () => {
    const policy = new PbmUCB({ numItems: 4, slateSize: 3, positionWeights: [1, 0.5, 0.25], epsilon: 0.1 });
    feed(policy);
    policy.setPositionWeights([0.5, 1, 0.25]);
    // Ñ recomputed from the kept counts: item 2 → 0.25 + 0.5, item 3 → 0.25 + 1.
    const expected = [index(2, 3, 1.75, 4, 0.1), index(0, 2, 1.5, 4, 0.1), index(0, 2, 0.75, 4, 0.1), index(0, 2, 1.25, 4, 0.1)];
    const got = policy.indices();
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(expected[i], 12);
    // Ranking 0, 2, 3 goes to positions by κ descending: 2nd, 1st, 3rd.
    const slate = new Int32Array(3);
    policy.choose(randomStream('unused'), slate);
    expect(Array.from(slate)).toEqual([2, 0, 3]);
  });

  it('has exact 0/1 propensities equal to its deterministic choice', () => {
    const policy = new PbmUCB({ numItems: 7, slateSize: 3, positionWeights: [0.9, 0.6, 0.3] });
    train(policy, 'pbm-ucb', 100, [0.1, 0.5, 0.3, 0.45, 0.2, 0.05, 0.4], [0.9, 0.6, 0.3]);
    const out = checkPropensities(policy, { draws: 1, runs: 200, exact: true });
    expect(out.every((p) => p === 0 || p === 1)).toBe(true);
  });

  it('rejects bad position weights by field', () => {
    expect(() => new PbmUCB({ numItems: 4, slateSize: 3, positionWeights: [1, 0.5] })).toThrow(/positionWeights: expected at least 3 position weights/);
    expect(() => new PbmUCB({ numItems: 4, slateSize: 3, positionWeights: [1, 1.5, 0.2] })).toThrow(/positionWeights\[1\]: expected an examination probability in \(0, 1\], found 1.5/);
  });
});

/** Mean, variance, fourth central moment and quantiles of a density on (0, 1) by quadrature in θ = sin²φ. */
function numericMoments(post: PbmPosterior, quantiles: number[]) {
  const M = 100_000;
  const theta = new Float64Array(M);
  const weight = new Float64Array(M);
  let max = -Infinity;
  for (let i = 0; i < M; i++) {
    const phi = ((i + 0.5) / M) * (Math.PI / 2);
    theta[i] = Math.sin(phi) ** 2;
    // dθ = 2 sin φ cos φ dφ removes the θ^{−1/2} and (1 − θ)^{−1/2} singularities
    weight[i] = post.logDensity(theta[i]) + Math.log(2 * Math.sin(phi) * Math.cos(phi));
    if (weight[i] > max) max = weight[i];
  }
  let z = 0;
  for (let i = 0; i < M; i++) z += weight[i] = Math.exp(weight[i] - max);
  let mean = 0;
  for (let i = 0; i < M; i++) mean += (weight[i] / z) * theta[i];
  let variance = 0;
  let mu4 = 0;
  for (let i = 0; i < M; i++) {
    const d = theta[i] - mean;
    variance += (weight[i] / z) * d * d;
    mu4 += (weight[i] / z) * d ** 4;
  }
  const cuts: number[] = [];
  let cdf = 0;
  let q = 0;
  for (let i = 0; i < M && q < quantiles.length; i++) {
    cdf += weight[i] / z;
    while (q < quantiles.length && cdf >= quantiles[q]) {
      cuts.push(theta[i]);
      q++;
    }
  }
  // The exact CDF at each cut (the grid CDF overshoots the quantile by at most one cell).
  const cdfAt = cuts.map((c) => {
    let s = 0;
    for (let i = 0; i < M; i++) if (theta[i] <= c) s += weight[i] / z;
    return s;
  });
  return { mean, variance, mu4, cuts, cdfAt };
}

describe('the PBM-TS posterior sampler', () => {
  const cases: { label: string; a: number; b: number; S: number[]; N: number[]; kappa: number[] }[] = [
    { label: 'few observations', a: 0.5, b: 0.5, S: [1, 0, 1], N: [3, 4, 6], kappa: [1, 0.6, 0.3] },
    { label: 'never shown on top: (1 − θ)^{−1/2} mass near 1', a: 0.5, b: 0.5, S: [0, 2, 0], N: [0, 10, 5], kappa: [1, 0.5, 0.2] },
    { label: 'concentrated', a: 0.5, b: 0.5, S: [300, 50], N: [1000, 900], kappa: [0.9, 0.4] },
    { label: 'no clicks: θ^{−1/2} at 0', a: 0.5, b: 0.5, S: [0, 0, 0], N: [0, 30, 400], kappa: [1, 0.5, 0.1] },
    { label: 'rare clicks, many views', a: 0.5, b: 0.5, S: [30, 3], N: [100_000, 5000], kappa: [0.8, 0.3] },
    { label: 'informative prior', a: 2, b: 3, S: [5, 1], N: [5, 40], kappa: [0.7, 0.2] },
    // Σ F·κ = 2 puts a boundary tangent at 2·(1/ΣFκ) = 1 − 2e-16, which once collapsed the ladder towards 1.
    {
      label: 'a tangent within rounding of 1',
      a: 0.5,
      b: 0.5,
      S: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      N: [1, 0, 0, 0, 1, 4, 0, 1, 1, 1],
      kappa: [0.68, 0.61, 0.48, 0.34, 0.28, 0.2, 0.11, 0.1, 0.08, 0.06],
    },
  ];

  for (const { label, a, b, S, N, kappa } of cases) {
    it(`draws exactly from its density (${label}): mean, variance and CDF against numerical integration`, () => {
      const post = new PbmPosterior(S.length);
      post.configure(a, b, S, N, kappa);
      expect(post.conjugate).toBe(false);
      const truth = numericMoments(post, [0.1, 0.5, 0.9]);
      const n = 50_000;
      const rng = randomStream(`pbm-ts/${label}`);
      const x = Float64Array.from({ length: n }, () => post.sample(rng));
      let mean = 0;
      for (const v of x) mean += v;
      mean /= n;
      let variance = 0;
      for (const v of x) variance += (v - mean) ** 2;
      variance /= n;
      expect(Math.abs(mean - truth.mean)).toBeLessThan(4 * Math.sqrt(truth.variance / n));
      expect(Math.abs(variance - truth.variance)).toBeLessThan(4 * Math.sqrt((truth.mu4 - truth.variance ** 2) / n));
      truth.cuts.forEach((cut, j) => {
        let below = 0;
        for (const v of x) if (v <= cut) below++;
        const p = truth.cdfAt[j];
        expect(Math.abs(below / n - p), `P(θ ≤ ${cut})`).toBeLessThan(tolerance(p, n));
      });
      expect(x.every((v) => v > 0 && v < 1)).toBe(true);
      expect(post.accepted / post.proposals).toBeGreaterThan(0.8);
    });
  }

  it('builds an envelope that bounds the density everywhere, for 300 random posteriors', () => {
    const rng = randomStream('envelopes');
    const priors = [0.3, 0.5, 1, 2];
    let worst = -Infinity;
    for (let c = 0; c < 300; c++) {
      const L = 1 + rng.int(5);
      const kappa = Array.from({ length: L }, () => (rng.uniform() < 0.2 ? 1 : 0.05 + 0.9 * rng.uniform()));
      const N = Array.from({ length: L }, () => (rng.uniform() < 0.2 ? 0 : Math.floor(10 ** (4 * rng.uniform()))));
      const S = N.map((n, l) => Math.floor(n * kappa[l] * rng.uniform() * rng.uniform()));
      const post = new PbmPosterior(L);
      post.configure(priors[rng.int(4)], priors[rng.int(4)], S, N, kappa);
      if (post.conjugate) continue;
      for (let j = 1; j < 4000; j++) {
        // a grid dense near both ends as well as in the middle
        const u = j / 4000;
        for (const theta of [u, u ** 4, 1 - u ** 4]) {
          if (!(theta > 0 && theta < 1)) continue;
          const gap = post.logDensity(theta) - post.logEnvelope(theta);
          if (Number.isFinite(gap) && gap > worst) worst = gap;
        }
      }
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('is the conjugate Beta(a + ΣS, b + Σ(N − S)) when every failure is at a position with κ = 1', () => {
    const post = new PbmPosterior(2);
    post.configure(0.5, 0.5, [3, 2], [10, 2], [1, 0.4]);
    expect(post.conjugate).toBe(true);
    // log p(θ) = (A − 1) log θ + (B − 1) log(1 − θ), A = 5.5, B = 7.5
    const expected = (t: number) => 4.5 * Math.log(t) + 6.5 * Math.log(1 - t);
    expect(post.logDensity(0.3) - post.logDensity(0.6)).toBeCloseTo(expected(0.3) - expected(0.6), 12);
    const rng = randomStream('conjugate');
    let mean = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) mean += post.sample(rng) / n;
    const m = 5.5 / 13;
    expect(Math.abs(mean - m)).toBeLessThan(4 * Math.sqrt((m * (1 - m)) / 14 / n));
  });
});

describe('PBM-TS', () => {
  it('keeps per-(item, position) counts and the posterior θ^{a+ΣS−1}(1 − θ)^{b−1}∏(1 − κ_l θ)^{N_l − S_l}', () => {
    const policy = new PbmTS({ numItems: 4, slateSize: 3, positionWeights: [1, 0.5, 0.25] });
    feed(policy);
    expect(Array.from(policy.positionViews)).toEqual([1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1]);
    // item 0: S = (1, 1, 0), N = (1, 1, 1) → 1.5 log θ − 0.5 log(1 − θ) + log(1 − 0.25θ)
    const item0 = (t: number) => 1.5 * Math.log(t) - 0.5 * Math.log(1 - t) + Math.log(1 - 0.25 * t);
    // item 1: S = 0, N = (1, 1, 0) → −0.5 log θ + 0.5 log(1 − θ) + log(1 − 0.5θ)
    const item1 = (t: number) => -0.5 * Math.log(t) + 0.5 * Math.log(1 - t) + Math.log(1 - 0.5 * t);
    expect(policy.posterior(0).logDensity(0.3) - policy.posterior(0).logDensity(0.7)).toBeCloseTo(item0(0.3) - item0(0.7), 12);
    expect(policy.posterior(1).logDensity(0.2) - policy.posterior(1).logDensity(0.6)).toBeCloseTo(item1(0.2) - item1(0.6), 12);
    // An estimated κ replaces the known one: item 0's skip at position 3 now weighs κ = 0.5.
    policy.setPositionWeights([1, 0.8, 0.5]);
    const item0b = (t: number) => 1.5 * Math.log(t) - 0.5 * Math.log(1 - t) + Math.log(1 - 0.5 * t);
    expect(policy.posterior(0).logDensity(0.3) - policy.posterior(0).logDensity(0.7)).toBeCloseTo(item0b(0.3) - item0b(0.7), 12);
  });

  it('learns the best item and shows it on the most examined position', () => {
    const kappa = [0.5, 1, 0.25];
    const policy = new PbmTS({ numItems: 5, slateSize: 3, positionWeights: kappa });
    train(policy, 'pbm-ts-learn', 1500, [0.1, 0.2, 0.3, 0.4, 0.9], kappa);
    const rng = randomStream('pbm-ts-best');
    const slate = new Int32Array(3);
    let best = 0;
    for (let r = 0; r < 200; r++) {
      policy.choose(rng, slate);
      expectValidSlate(slate, 5);
      if (slate[1] === 4) best++;
    }
    expect(best).toBeGreaterThan(190);
  });

  it('reports Monte Carlo propensities that match brute-force frequencies, and is reproducible', () => {
    const kappa = [1, 0.6, 0.3];
    const make = () => {
      const policy = new PbmTS({ numItems: 6, slateSize: 3, positionWeights: kappa });
      train(policy, 'pbm-ts-propensities', 40, [0.1, 0.5, 0.3, 0.45, 0.2, 0.6], kappa);
      return policy;
    };
    const policy = make();
    checkPropensities(policy, { draws: 20_000, runs: 20_000 });
    const again = make();
    const s1 = new Int32Array(3);
    const s2 = new Int32Array(3);
    const r1 = randomStream('same');
    const r2 = randomStream('same');
    for (let r = 0; r < 50; r++) {
      policy.choose(r1, s1);
      again.choose(r2, s2);
      expect(Array.from(s1)).toEqual(Array.from(s2));
    }
  });
});
