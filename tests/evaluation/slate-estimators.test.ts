import { describe, expect, it } from 'vitest';
import {
  SelfNormalizedSlateIndependentIPS,
  SelfNormalizedSlateRewardInteractionIPS,
  SelfNormalizedSlateStandardIPS,
  SlateIndependentIPS,
  SlateRewardInteractionIPS,
  SlateStandardIPS,
  type SlateOffPolicyInputs,
} from '../../src/evaluation/slate-estimators.js';

/**
 * Two slates of two positions (ids 7 and 3, rows out of order):
 *   slate 7: rewards (1, 0); slate 3: rewards (0, 1).
 *   whole slate  π_b: 0.1, 0.2;            π_e: 0.2, 0.1             ⇒ w = 2, 0.5
 *   item-position π_b: (0.5, 0.4), (0.5, 0.25); π_e: (0.25, 0.8), (0.75, 0.75) ⇒ w = (0.5, 2), (1.5, 3)
 *   prefix       π_b: (0.5, 0.1), (0.5, 0.2);  π_e: (0.25, 0.2), (0.75, 0.1)  ⇒ w = (0.5, 2), (1.5, 0.5)
 */
// Rows: (slate, position) = (3, 1), (7, 0), (3, 0), (7, 1).
const inputs: SlateOffPolicyInputs = {
  slateId: [3, 7, 3, 7],
  position: [1, 0, 0, 1],
  reward: [1, 1, 0, 0],
  pscore: { slate: [0.2, 0.1, 0.2, 0.1], itemPosition: [0.25, 0.5, 0.5, 0.4], cascade: [0.2, 0.5, 0.5, 0.1] },
  evaluationPscore: { slate: [0.1, 0.2, 0.1, 0.2], itemPosition: [0.75, 0.25, 0.75, 0.8], cascade: [0.1, 0.25, 0.75, 0.2] },
};

describe('slate off-policy estimators on hand-computed inputs', () => {
  it('standard, independent and reward-interaction IPS', () => {
    // (1/S) Σ_s Σ_k w_sk r_sk with S = 2.
    expect(new SlateStandardIPS().estimate(inputs)).toBeCloseTo((2 * 1 + 0.5 * 1) / 2, 12);
    expect(new SlateIndependentIPS().estimate(inputs)).toBeCloseTo((0.5 * 1 + 3 * 1) / 2, 12);
    expect(new SlateRewardInteractionIPS().estimate(inputs)).toBeCloseTo((0.5 * 1 + 0.5 * 1) / 2, 12);
  });

  it('self-normalised variants normalise each position by its own weights', () => {
    // Σ_k (Σ_s w_sk r_sk / Σ_s w_sk).
    expect(new SelfNormalizedSlateStandardIPS().estimate(inputs)).toBeCloseTo(2 / 2.5 + 0.5 / 2.5, 12);
    expect(new SelfNormalizedSlateIndependentIPS().estimate(inputs)).toBeCloseTo(0.5 / 2 + 3 / 5, 12);
    expect(new SelfNormalizedSlateRewardInteractionIPS().estimate(inputs)).toBeCloseTo(0.5 / 2 + 0.5 / 2.5, 12);
  });

  it('bootstraps whole slates', () => {
    // Resampling slates, SIPS takes only the values (2·1 + 2·0)·c/2 + ...: with 2 slates the
    // resampled values are 2 (slate 7 twice), 1.25 (both) and 0.5 (slate 3 twice).
    const interval = new SlateStandardIPS().estimateInterval(inputs, { resamples: 2000, seed: 1 });
    expect(interval.lower).toBeCloseTo(0.5, 12);
    expect(interval.upper).toBeCloseTo(2, 12);
    expect(interval.bootstrapMean).toBeCloseTo(1.25, 1);
  });

  it('rejects missing propensities, bad probabilities and repeated positions', () => {
    expect(() => new SlateStandardIPS().estimate({ ...inputs, pscore: { itemPosition: inputs.pscore.itemPosition } })).toThrow(
      /sips: pscore.slate: expected the logging policy's whole-slate probabilities, found none/,
    );
    expect(() => new SlateIndependentIPS().estimate({ ...inputs, pscore: { ...inputs.pscore, itemPosition: [0.25, 0, 0.5, 0.4] } })).toThrow(
      /iips: pscore.itemPosition\[1\]: expected a probability in \(0, 1\], found 0/,
    );
    expect(() => new SlateRewardInteractionIPS().estimate({ ...inputs, position: [1, 0, 1, 1] })).toThrow(/expected each position once per slate, found position 1 of slate 3 again/);
    expect(() => new SlateRewardInteractionIPS().estimate({ ...inputs, slateId: [3, 7, 3] })).toThrow(/slateId: expected 4 values/);
  });
});
