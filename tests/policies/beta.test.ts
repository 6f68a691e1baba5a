import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { sampleBeta, sampleGamma, standardNormal } from '../../src/policies/bandits/beta.js';
import { tolerance } from './helpers.js';

/** Φ(x) via erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e−7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Sample mean and (biased) variance. */
function moments(values: Float64Array): [number, number] {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  return [mean, variance / values.length];
}

describe('standard normal (ziggurat)', () => {
  const n = 400_000;
  const rng = randomStream('normal');
  const z = Float64Array.from({ length: n }, () => standardNormal(rng));

  it('has mean 0, variance 1 and fourth moment 3', () => {
    const [mean, variance] = moments(z);
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    let m4 = 0;
    for (const v of z) m4 += v ** 4;
    expect(Math.abs(m4 / n - 3)).toBeLessThan(4 * Math.sqrt((105 - 9) / n));
  });

  it('matches Φ at points across the body, the layer edges and the tail beyond r = 3.44', () => {
    for (const c of [-3.6, -3, -1.5, -0.5, 0, 0.27, 1, 2, 3.3, 3.6]) {
      let below = 0;
      for (const v of z) if (v <= c) below++;
      const p = normalCdf(c);
      expect(Math.abs(below / n - p), `P(Z ≤ ${c})`).toBeLessThan(tolerance(p, n));
    }
  });

  it('is reproducible from the seed', () => {
    const a = randomStream('same');
    const b = randomStream('same');
    for (let i = 0; i < 1000; i++) expect(standardNormal(a)).toBe(standardNormal(b));
  });
});

describe('Gamma and Beta draws', () => {
  it('give Gamma(a) mean a and variance a, including the a < 1 boost', () => {
    const n = 200_000;
    for (const a of [0.3, 1, 2.5, 40]) {
      const rng = randomStream(`gamma/${a}`);
      const x = Float64Array.from({ length: n }, () => sampleGamma(rng, a));
      const [mean, variance] = moments(x);
      expect(Math.abs(mean - a), `mean at a = ${a}`).toBeLessThan(4 * Math.sqrt(a / n));
      // Var of the sample variance ≈ (μ4 − σ⁴)/n with μ4 = 3a² + 6a for Gamma(a).
      expect(Math.abs(variance - a), `variance at a = ${a}`).toBeLessThan(4 * Math.sqrt((2 * a * a + 6 * a) / n));
      expect(x.every((v) => v > 0)).toBe(true);
    }
  });

  it('give Beta(a, b) mean a/(a + b) and variance ab/((a + b)²(a + b + 1)), for shapes below and above 1', () => {
    const n = 200_000;
    const cases: [number, number][] = [
      [0.5, 0.5],
      [1, 1],
      [2, 3],
      [0.2, 5],
      [0.05, 0.05],
      [30, 7000],
    ];
    for (const [a, b] of cases) {
      const rng = randomStream(`beta/${a}/${b}`);
      const x = Float64Array.from({ length: n }, () => sampleBeta(rng, a, b));
      expect(x.every((v) => v >= 0 && v <= 1)).toBe(true);
      const [mean, variance] = moments(x);
      // Raw moments E[X^k] = ∏_{j<k} (a + j)/(a + b + j), for the central fourth moment.
      const raw = [1, 0, 0, 0, 0];
      for (let k = 1; k <= 4; k++) raw[k] = raw[k - 1] * ((a + k - 1) / (a + b + k - 1));
      const mu = raw[1];
      const sigma2 = raw[2] - mu * mu;
      const mu4 = raw[4] - 4 * mu * raw[3] + 6 * mu * mu * raw[2] - 3 * mu ** 4;
      expect(sigma2).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 12);
      expect(Math.abs(mean - mu), `mean of Beta(${a}, ${b})`).toBeLessThan(4 * Math.sqrt(sigma2 / n));
      expect(Math.abs(variance - sigma2), `variance of Beta(${a}, ${b})`).toBeLessThan(4 * Math.sqrt((mu4 - sigma2 * sigma2) / n));
    }
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const draw = (seed: string) => {
      const rng = randomStream(seed);
      return Array.from({ length: 20 }, () => sampleBeta(rng, 0.7, 3));
    };
    expect(draw('x')).toEqual(draw('x'));
    expect(draw('x')).not.toEqual(draw('y'));
  });
});
