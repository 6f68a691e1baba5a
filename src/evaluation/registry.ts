/**
 * Every off-policy estimator clicklab has, in one place: `clicklab ope`, the scenarios and the
 * library take their lists from here. To add one, write its class beside its kin and add it here.
 */
import { DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting, SelfNormalizedDR, SelfNormalizedIPW, SwitchDR } from './estimators.js';
import type { OffPolicyInputs, PolicyValueEstimator } from './off-policy.js';
import {
  SelfNormalizedSlateIndependentIPS,
  SelfNormalizedSlateRewardInteractionIPS,
  SelfNormalizedSlateStandardIPS,
  SlateIndependentIPS,
  SlateRewardInteractionIPS,
  SlateStandardIPS,
  type SlateEstimator,
} from './slate-estimators.js';

/** The standard estimators at one λ, in OBP's order. */
export function standardEstimators(lambda: number): PolicyValueEstimator<OffPolicyInputs>[] {
  return [
    new InverseProbabilityWeighting(),
    new InverseProbabilityWeighting({ lambda }),
    new SelfNormalizedIPW(),
    new DirectMethod(),
    new DoublyRobust(),
    new SelfNormalizedDR(),
    new SwitchDR({ lambda }),
    new DoublyRobustWithShrinkage({ lambda }),
  ];
}

/**
 * The standard estimators that need no reward model (IPW, clipped IPW, SNIPW), at one λ: what a
 * streamed log is estimated with in one pass, without fitting the reward model (`--no-reward-model`).
 */
export function rewardFreeEstimators(lambda: number): PolicyValueEstimator<OffPolicyInputs>[] {
  return standardEstimators(lambda).filter((e) => e instanceof InverseProbabilityWeighting || e instanceof SelfNormalizedIPW);
}

/** The six slate estimators, in OBP's order. */
export function allSlateEstimators(): SlateEstimator[] {
  return [
    new SlateStandardIPS(),
    new SlateIndependentIPS(),
    new SlateRewardInteractionIPS(),
    new SelfNormalizedSlateStandardIPS(),
    new SelfNormalizedSlateIndependentIPS(),
    new SelfNormalizedSlateRewardInteractionIPS(),
  ];
}
