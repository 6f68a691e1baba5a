import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { LinTS } from '../../src/policies/bandits/lin-ts.js';
import { bruteForceFrequencies, checkPropensities, expectValidSlate } from './helpers.js';

const both = Uint8Array.from([1, 1]);

describe('LinTS', () => {
  it('keeps A = λI + Σ x xᵀ, b = Σ r·x and θ̂ = A⁻¹b (hand-computed, concatenated features)', () => {
    const policy = new LinTS({ numItems: 3, slateSize: 2, userFeatures: [[1]], itemFeatures: [[1], [2], [0.5]], features: 'concat' });
    expect(policy.dim).toBe(2);
    policy.update(Int32Array.from([1, 0]), Uint8Array.from([1, 0]), both, 0); // x = (1, 2) r = 1; (1, 1) r = 0
    policy.update(Int32Array.from([2, 1]), Uint8Array.from([0, 1]), both, 0); // x = (1, 0.5) r = 0; (1, 2) r = 1
    expect(Array.from(policy.precisionMatrix())).toEqual([5, 5.5, 5.5, 10.25]);
    expect(Array.from(policy.responseVector())).toEqual([2, 4]);
    // det = 5·10.25 − 5.5² = 21; θ̂ = (10.25·2 − 5.5·4, 5·4 − 5.5·2)/21
    const theta = policy.thetaHat();
    expect(theta[0]).toBeCloseTo(-1.5 / 21, 12);
    expect(theta[1]).toBeCloseTo(9 / 21, 12);
  });

  it('builds outer-product features x[p·d_i + q] = u_p·i_q and solves A θ̂ = b', () => {
    const users = [
      [1, 0.5],
      [-0.3, 2],
    ];
    const items = [
      [1, 0],
      [0.2, 1],
      [0.7, -0.4],
    ];
    const policy = new LinTS({ numItems: 3, slateSize: 2, userFeatures: users, itemFeatures: items, lambda: 2 });
    expect(Array.from(policy.featureVector(1, 2))).toEqual([-0.3 * 0.7, -0.3 * -0.4, 2 * 0.7, 2 * -0.4]);
    const A = [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2];
    const b = [0, 0, 0, 0];
    const rounds: [number, number[], number[]][] = [
      [0, [0, 1], [1, 0]],
      [1, [2, 1], [0, 1]],
      [1, [1, 0], [1, 1]],
      [0, [2, 0], [0, 0]],
    ];
    for (const [user, slate, clicks] of rounds) {
      policy.update(Int32Array.from(slate), Uint8Array.from(clicks), both, user);
      slate.forEach((item, k) => {
        const x = users[user].flatMap((u) => items[item].map((v) => u * v));
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) A[i * 4 + j] += x[i] * x[j];
          b[i] += clicks[k] * x[i];
        }
      });
    }
    const got = policy.precisionMatrix();
    for (let j = 0; j < 16; j++) expect(got[j]).toBeCloseTo(A[j], 12);
    const theta = policy.thetaHat();
    for (let i = 0; i < 4; i++) {
      let row = 0;
      for (let j = 0; j < 4; j++) row += A[i * 4 + j] * theta[j];
      expect(row).toBeCloseTo(b[i], 10);
    }
  });

  it('samples θ̃ ~ N(θ̂, v²A⁻¹): mean and full covariance within 4 standard errors', () => {
    const v = 0.5;
    const policy = new LinTS({ numItems: 3, slateSize: 2, userFeatures: [[1]], itemFeatures: [[1], [2], [0.5]], features: 'concat', v });
    policy.update(Int32Array.from([1, 0]), Uint8Array.from([1, 0]), both, 0);
    policy.update(Int32Array.from([2, 1]), Uint8Array.from([0, 1]), both, 0);
    const mean = [-1.5 / 21, 9 / 21];
    const cov = [(v * v * 10.25) / 21, (v * v * -5.5) / 21, (v * v * 5) / 21]; // v²A⁻¹: (11), (12), (22)
    const n = 100_000;
    const rng = randomStream('lin-ts/sample');
    const draw = new Float64Array(2);
    const sum = [0, 0];
    const sq = [0, 0, 0];
    for (let r = 0; r < n; r++) {
      policy.sampleTheta(rng, draw);
      const d0 = draw[0] - mean[0];
      const d1 = draw[1] - mean[1];
      sum[0] += d0;
      sum[1] += d1;
      sq[0] += d0 * d0;
      sq[1] += d0 * d1;
      sq[2] += d1 * d1;
    }
    expect(Math.abs(sum[0] / n)).toBeLessThan(4 * Math.sqrt(cov[0] / n));
    expect(Math.abs(sum[1] / n)).toBeLessThan(4 * Math.sqrt(cov[2] / n));
    // Var of a sample covariance entry ≈ (σ_ii σ_jj + σ_ij²)/n
    expect(Math.abs(sq[0] / n - cov[0])).toBeLessThan(4 * Math.sqrt((2 * cov[0] * cov[0]) / n));
    expect(Math.abs(sq[1] / n - cov[1])).toBeLessThan(4 * Math.sqrt((cov[0] * cov[2] + cov[1] * cov[1]) / n));
    expect(Math.abs(sq[2] / n - cov[2])).toBeLessThan(4 * Math.sqrt((2 * cov[2] * cov[2]) / n));
  });

  it('personalises with outer-product features and needs the user as context', () => {
    // One-hot users × one-hot items: a table of (user, item) click rates.
    const oneHot = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    const rates = [
      [0.1, 0.1, 0.8, 0.1, 0.1],
      [0.1, 0.7, 0.1, 0.1, 0.1],
    ];
    const policy = new LinTS({ numItems: 5, slateSize: 2, userFeatures: oneHot(2), itemFeatures: oneHot(5), v: 0.3 });
    const slate = new Int32Array(2);
    expect(() => policy.choose(randomStream('x'), slate)).toThrow(RangeError);
    expect(() => policy.choose(randomStream('x'), slate, 2)).toThrow(/context must be the round's user index in \[0, 2\)/);
    const rng = randomStream('lin-ts/learn');
    const world = randomStream('lin-ts/world');
    const clicks = new Uint8Array(2);
    for (let r = 0; r < 1500; r++) {
      const user = r % 2;
      policy.choose(rng, slate, user);
      expectValidSlate(slate, 5);
      for (let k = 0; k < 2; k++) clicks[k] = world.uniform() < rates[user][slate[k]] ? 1 : 0;
      policy.update(slate, clicks, both, user);
    }
    const first0 = bruteForceFrequencies(policy, 'user0', 300, 0);
    const first1 = bruteForceFrequencies(policy, 'user1', 300, 1);
    expect(first0[2 * 2]).toBeGreaterThan(0.9);
    expect(first1[1 * 2]).toBeGreaterThan(0.9);
  });

  it('reports Monte Carlo propensities for a user that match brute-force frequencies', () => {
    const policy = new LinTS({
      numItems: 6,
      slateSize: 2,
      userFeatures: [
        [1, 0.5],
        [0.2, 1],
      ],
      itemFeatures: [
        [1, 0],
        [0, 1],
        [0.5, 0.5],
        [0.3, 0.9],
        [0.8, 0.1],
        [0.6, 0.6],
      ],
    });
    policy.update(Int32Array.from([0, 1]), Uint8Array.from([1, 0]), both, 1);
    policy.update(Int32Array.from([3, 4]), Uint8Array.from([1, 1]), both, 0);
    checkPropensities(policy, { draws: 20_000, runs: 20_000, context: 1 });
  });

  it('accepts a custom feature map', () => {
    const policy = new LinTS({
      numItems: 4,
      slateSize: 2,
      features: {
        dim: 3,
        map: (user, item, out) => {
          out[0] = 1;
          out[1] = user;
          out[2] = item / 10;
        },
      },
    });
    expect(Array.from(policy.featureVector(2, 3))).toEqual([1, 2, 0.3]);
    policy.update(Int32Array.from([3, 1]), Uint8Array.from([1, 0]), both, 2);
    const A = policy.precisionMatrix();
    expect(A[0]).toBe(3); // λ + 1 + 1
    expect(A[1 * 3 + 2]).toBeCloseTo(2 * 0.3 + 2 * 0.1, 12);
    const slate = new Int32Array(2);
    policy.choose(randomStream('custom'), slate, 7);
    expectValidSlate(slate, 4);
  });

  it('rejects bad features by field', () => {
    expect(() => new LinTS({ numItems: 3, slateSize: 2, userFeatures: [[1]], itemFeatures: [[1], [2]] })).toThrow(/itemFeatures: expected 3 rows \(one per item\), found 2/);
    expect(() => new LinTS({ numItems: 2, slateSize: 1, userFeatures: [[1, 2], [3]], itemFeatures: [[1], [2]] })).toThrow(/userFeatures\[1\]: expected 2 features like row 0, found 1/);
    const wide = Array.from({ length: 2 }, () => new Array(12).fill(1));
    expect(() => new LinTS({ numItems: 2, slateSize: 1, userFeatures: wide, itemFeatures: wide })).toThrow(ConfigError);
    expect(() => new LinTS({ numItems: 2, slateSize: 1, itemFeatures: [[1], [2]] })).toThrow(/userFeatures: expected one feature array per row, found nothing/);
  });
});
