import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting, SelfNormalizedDR, SelfNormalizedIPW, SwitchDR } from '../../src/evaluation/estimators.js';
import { bootstrapInterval, type OffPolicyInputs } from '../../src/evaluation/off-policy.js';

/**
 * Three rows, two actions, one position:
 *   r = (1, 0, 1), a = (0, 1, 1), π_b(a_i) = (0.5, 0.5, 0.25),
 *   π_e = (0.8, 0.2), (0.8, 0.2), (0.4, 0.6)  ⇒  w = (1.6, 0.4, 2.4),
 *   q̂ = (0.5, 0.3), (0.5, 0.3), (0.2, 0.4)   ⇒  q̂(π_e) = (0.46, 0.46, 0.32), q̂(a_i) = (0.5, 0.3, 0.4).
 */
const tiny: OffPolicyInputs = {
  reward: [1, 0, 1],
  action: [0, 1, 1],
  pscore: [0.5, 0.5, 0.25],
  actionDist: { numActions: 2, numPositions: 1, values: Float64Array.from([0.8, 0.2, 0.8, 0.2, 0.4, 0.6]) },
  estimatedRewards: { numActions: 2, numPositions: 1, values: Float64Array.from([0.5, 0.3, 0.5, 0.3, 0.2, 0.4]) },
};
const DM = (0.46 + 0.46 + 0.32) / 3;
// Σ w (r − q̂) = 1.6·0.5 + 0.4·(−0.3) + 2.4·0.6 = 2.12; Σ w = 4.4.
const DR_CORRECTION = 2.12;

describe('standard off-policy estimators on hand-computed inputs', () => {
  it('IPW, clipped IPW and SNIPW', () => {
    expect(new InverseProbabilityWeighting().estimate(tiny)).toBeCloseTo((1.6 + 2.4) / 3, 12);
    expect(new InverseProbabilityWeighting({ lambda: 2 }).estimate(tiny)).toBeCloseTo((1.6 + 2) / 3, 12);
    expect(new SelfNormalizedIPW().estimate(tiny)).toBeCloseTo(4 / 4.4, 12);
  });

  it('DM, DR, SNDR, Switch-DR and DRos', () => {
    expect(new DirectMethod().estimate(tiny)).toBeCloseTo(DM, 12);
    expect(new DoublyRobust().estimate(tiny)).toBeCloseTo(DM + DR_CORRECTION / 3, 12);
    expect(new SelfNormalizedDR().estimate(tiny)).toBeCloseTo(DM + DR_CORRECTION / 4.4, 12);
    // λ = 2 drops row 3 (w = 2.4): correction 0.8 − 0.12.
    expect(new SwitchDR({ lambda: 2 }).estimate(tiny)).toBeCloseTo(DM + 0.68 / 3, 12);
    expect(new SwitchDR({ lambda: 0 }).estimate(tiny)).toBeCloseTo(DM, 12);
    expect(new SwitchDR().estimate(tiny)).toBeCloseTo(new DoublyRobust().estimate(tiny), 12);
    // λ = 1: ŵ = w / (w² + 1).
    const shrunk = (1.6 / (1.6 ** 2 + 1)) * 0.5 + (0.4 / (0.4 ** 2 + 1)) * -0.3 + (2.4 / (2.4 ** 2 + 1)) * 0.6;
    expect(new DoublyRobustWithShrinkage({ lambda: 1 }).estimate(tiny)).toBeCloseTo(DM + shrunk / 3, 12);
    expect(new DoublyRobustWithShrinkage({ lambda: 0 }).estimate(tiny)).toBeCloseTo(DM, 12);
    expect(new DoublyRobustWithShrinkage({ lambda: Infinity }).estimate(tiny)).toBeCloseTo(new DoublyRobust().estimate(tiny), 12);
  });

  it('reads positions: π_e and q̂ are taken at each row’s own position', () => {
    // Two positions; row 0 at k = 1 where π_e(a = 0) = 0.1, row 1 at k = 0 where π_e(a = 1) = 0.7.
    const inputs: OffPolicyInputs = {
      reward: [1, 1],
      action: [0, 1],
      position: [1, 0],
      pscore: [0.5, 0.5],
      actionDist: { numActions: 2, numPositions: 2, values: Float64Array.from([0.3, 0.1, 0.7, 0.9, 0.3, 0.1, 0.7, 0.9]) },
    };
    expect(new InverseProbabilityWeighting().estimate(inputs)).toBeCloseTo((0.1 / 0.5 + 0.7 / 0.5) / 2, 12);
  });

  it('rejects malformed inputs, naming the field and what was expected', () => {
    const bad = (change: Partial<OffPolicyInputs>) => () => new DoublyRobust().estimate({ ...tiny, ...change });
    expect(bad({ pscore: [0.5, 0, 0.25] })).toThrow(/dr: pscore\[1\]: expected a probability in \(0, 1\], found 0/);
    expect(bad({ action: [0, 2, 1] })).toThrow(/action\[1\]: expected an integer in \[0, 1\], found 2/);
    expect(bad({ action: [0, 1] })).toThrow(/action: expected 3 values/);
    expect(bad({ actionDist: { numActions: 2, numPositions: 1, values: Float64Array.from([0.8, 0.3, 0.8, 0.2, 0.4, 0.6]) } })).toThrow(/sum to 1, found a sum of 1.1/);
    expect(bad({ estimatedRewards: undefined })).toThrow(/expected reward-model estimates/);
    expect(bad({ position: [0, 1, 0] })).toThrow(ConfigError);
    expect(() => new InverseProbabilityWeighting({ lambda: 0 })).toThrow(/lambda: expected a number > 0/);
  });
});

describe('bootstrap intervals', () => {
  it('are seeded, contain the estimate, and collapse when every unit is the same', () => {
    const ipw = new InverseProbabilityWeighting();
    const a = ipw.estimateInterval(tiny, { resamples: 500, seed: 3 });
    const b = ipw.estimateInterval(tiny, { resamples: 500, seed: 3 });
    const c = ipw.estimateInterval(tiny, { resamples: 500, seed: 4 });
    expect(a).toEqual(b);
    expect(a.bootstrapMean).not.toBe(c.bootstrapMean);
    expect(a.lower).toBeLessThanOrEqual(a.estimate);
    expect(a.upper).toBeGreaterThanOrEqual(a.estimate);
    // Resampled IPW values are (Σ counts · w r)/3 with w r ∈ {1.6, 0, 2.4}: the extremes are 0 and 2.4.
    expect(a.lower).toBeGreaterThanOrEqual(0);
    expect(a.upper).toBeLessThanOrEqual(2.4);
    const constant = bootstrapInterval({ units: 5, groups: 1, direct: null, weighted: new Float64Array(5).fill(0.3), normalizer: null }, { resamples: 100 });
    expect(constant.lower).toBeCloseTo(0.3, 12);
    expect(constant.upper).toBeCloseTo(0.3, 12);
  });

  it('recomputes self-normalisation in every resample (values stay within the reward range)', () => {
    // SNIPW of 0/1 rewards lies in [0, 1] in every resample; a resampled plain IPW would not.
    const sn = new SelfNormalizedIPW().estimateInterval(tiny, { resamples: 1000, seed: 1 });
    expect(sn.lower).toBeGreaterThanOrEqual(0);
    expect(sn.upper).toBeLessThanOrEqual(1);
  });

  it('matches the t-interval of a mean for on-policy data (weights 1), within Monte Carlo error', () => {
    // On-policy, IPW is the sample mean; for n = 400 Bernoulli(0.3) draws its percentile bootstrap
    // interval is close to mean ± 1.96 √(p̂(1 − p̂)/n).
    const n = 400;
    const reward = Float64Array.from({ length: n }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const inputs: OffPolicyInputs = { reward, action: new Int32Array(n), pscore: new Float64Array(n).fill(1), actionDist: { numActions: 1, numPositions: 1, values: new Float64Array(n).fill(1) } };
    const interval = new InverseProbabilityWeighting().estimateInterval(inputs, { resamples: 4000, seed: 2 });
    const half = 1.96 * Math.sqrt((0.3 * 0.7) / n);
    expect(interval.estimate).toBeCloseTo(0.3, 12);
    expect(interval.lower).toBeCloseTo(0.3 - half, 2);
    expect(interval.upper).toBeCloseTo(0.3 + half, 2);
  });
});
