/** Effective sample size and largest weight share of the off-policy estimators, against hand and independent computations. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting, SelfNormalizedIPW, SwitchDR } from '../../src/evaluation/estimators.js';
import { type OffPolicyInputs, WEIGHT_WARNING, weightDiagnostics, weightWarning } from '../../src/evaluation/off-policy.js';
import { SlateIndependentIPS, SlateStandardIPS } from '../../src/evaluation/slate-estimators.js';

/** The same three rows as estimators.test.ts: w = (1.6, 0.4, 2.4). */
const tiny: OffPolicyInputs = {
  reward: [1, 0, 1],
  action: [0, 1, 1],
  pscore: [0.5, 0.5, 0.25],
  actionDist: { numActions: 2, numPositions: 1, values: Float64Array.from([0.8, 0.2, 0.8, 0.2, 0.4, 0.6]) },
  estimatedRewards: { numActions: 2, numPositions: 1, values: Float64Array.from([0.5, 0.3, 0.5, 0.3, 0.2, 0.4]) },
};

/** Kish's ESS and max share, computed the textbook way (no scaling). */
function kish(w: number[]): { ess: number; share: number } {
  const s1 = w.reduce((a, b) => a + b, 0);
  const s2 = w.reduce((a, b) => a + b * b, 0);
  return { ess: (s1 * s1) / s2, share: Math.max(...w) / s1 };
}

describe('weight diagnostics', () => {
  it('IPW, SNIPW, clipped IPW, Switch-DR and DRos report the ESS and max share of the weights they use; DM none', () => {
    const cases: [InverseProbabilityWeighting | SelfNormalizedIPW | SwitchDR | DoublyRobust | DoublyRobustWithShrinkage, number[]][] = [
      [new InverseProbabilityWeighting(), [1.6, 0.4, 2.4]],
      [new SelfNormalizedIPW(), [1.6, 0.4, 2.4]],
      [new DoublyRobust(), [1.6, 0.4, 2.4]],
      [new InverseProbabilityWeighting({ lambda: 2 }), [1.6, 0.4, 2]],
      [new SwitchDR({ lambda: 2 }), [1.6, 0.4, 0]],
      [new DoublyRobustWithShrinkage({ lambda: 1 }), [1.6, 0.4, 2.4].map((w) => w / (w * w + 1))],
    ];
    for (const [estimator, weights] of cases) {
      const expected = kish(weights);
      const interval = estimator.estimateInterval(tiny, { resamples: 20 });
      expect(interval.weights?.effectiveSampleSize, estimator.name).toBeCloseTo(expected.ess, 12);
      expect(interval.weights?.maxWeightShare, estimator.name).toBeCloseTo(expected.share, 12);
      expect(estimator.weightDiagnostics(tiny)).toEqual(interval.weights);
    }
    // By hand for the unclipped weights: Σw = 4.4, Σw² = 2.56 + 0.16 + 5.76 = 8.48.
    expect(new InverseProbabilityWeighting().weightDiagnostics(tiny)?.effectiveSampleSize).toBeCloseTo(4.4 ** 2 / 8.48, 12);
    expect(new InverseProbabilityWeighting().weightDiagnostics(tiny)?.maxWeightShare).toBeCloseTo(2.4 / 4.4, 12);
    expect(new DirectMethod().estimateInterval(tiny, { resamples: 20 }).weights).toBeNull();
  });

  it('equal weights give ESS n; one dominant weight gives ESS ≈ 1 without overflow', () => {
    expect(weightDiagnostics(new Float64Array(50).fill(3)).effectiveSampleSize).toBeCloseTo(50, 10);
    const huge = [1e300, 1, 1, 1];
    const d = weightDiagnostics(huge);
    expect(d.effectiveSampleSize).toBeCloseTo(1, 12);
    expect(d.maxWeightShare).toBeCloseTo(1, 12);
    expect(d.maxWeightUnit).toBe(0);
    expect(weightDiagnostics([0, 0]).effectiveSampleSize).toBe(0);
  });

  it('the warning rule: share > 10% or ESS < 1% of the units', () => {
    expect(WEIGHT_WARNING).toEqual({ maxWeightShare: 0.1, essFraction: 0.01 });
    expect(weightWarning('ipw', weightDiagnostics(new Float64Array(20).fill(1)))).toBeNull();
    const dominated = new Float64Array(20).fill(1);
    dominated[7] = 5; // 5 / 24 > 10%
    expect(weightWarning('ipw', weightDiagnostics(dominated))).toMatch(/^ipw: row 8 carries 20\.8% of the total importance weight/);
    // 5,000 rows, none above 10% (20 of weight 1, the rest 1e-9), but an ESS of 20 < 1% of 5,000.
    const few = new Float64Array(5000).fill(1e-9);
    for (let i = 0; i < 20; i++) few[i] = 1;
    expect(weightDiagnostics(few).maxWeightShare).toBeLessThan(0.1);
    expect(weightWarning('snipw', weightDiagnostics(few))).toMatch(/effective sample size 20\.0 of 5000 rows/);
    // ESS ≥ 1 / max share, so below 1,000 units only the share can fire.
    expect(weightWarning('dm', null)).toBeNull();
    expect(weightWarning('ipw', weightDiagnostics([0, 0]))).toContain('every importance weight is 0');
  });

  it('a propensity so small that a weight is not finite is refused, naming the row; a huge finite one is reported', () => {
    const tinyPscore = { ...tiny, pscore: [0.5, 5e-324, 0.25] };
    expect(() => new InverseProbabilityWeighting().estimate(tinyPscore)).toThrow(ConfigError);
    expect(() => new InverseProbabilityWeighting().estimate(tinyPscore)).toThrow(/pscore\[1\]: row 2: the importance weight .* is not finite/);
    const d = new InverseProbabilityWeighting().weightDiagnostics({ ...tiny, pscore: [0.5, 1e-300, 0.25] });
    expect(d?.maxWeightUnit).toBe(1);
    expect(d?.effectiveSampleSize).toBeCloseTo(1, 12);
  });

  it('slate estimators weigh each slate by the sum of its positions’ weights', () => {
    // Two slates of two positions; IIPS weights (0.5/0.25, 0.5/0.5) and (0.5/0.5, 0.5/1).
    const inputs = {
      slateId: [0, 0, 1, 1],
      reward: [1, 0, 0, 1],
      position: [0, 1, 0, 1],
      pscore: { itemPosition: [0.25, 0.5, 0.5, 1], slate: [0.1, 0.1, 0.4, 0.4] },
      evaluationPscore: { itemPosition: [0.5, 0.5, 0.5, 0.5], slate: [0.2, 0.2, 0.2, 0.2] },
    };
    const iips = kish([2 + 1, 1 + 0.5]);
    expect(new SlateIndependentIPS().weightDiagnostics(inputs)?.effectiveSampleSize).toBeCloseTo(iips.ess, 12);
    const sips = kish([2 + 2, 0.5 + 0.5]);
    expect(new SlateStandardIPS().weightDiagnostics(inputs)?.maxWeightShare).toBeCloseTo(sips.share, 12);
    expect(() => new SlateStandardIPS().estimate({ ...inputs, pscore: { slate: [5e-324, 5e-324, 0.4, 0.4] } })).toThrow(/not finite/);
  });
});
