import type { ClickModel } from '../simulation/click-model.js';
import type { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/** The click models clicklab fits (PyClick's names, lower case; `cm` is the cascade model). */
export const FITTED_MODEL_TYPES = ['pbm', 'cm', 'dcm', 'dbn', 'sdbn', 'ubm', 'ccm'] as const;
export type FittedModelType = (typeof FITTED_MODEL_TYPES)[number];

/** A fitted model's parameters other than the per-pair attractiveness, as saved to JSON. */
export type FittedParameters = Readonly<Record<string, number | number[] | number[][]>>;

/**
 * What each fitted click model is: its defining probabilities (a per-pair attractiveness plus a
 * few more), one EM iteration over a list of sessions, and the two click probabilities the
 * evaluation needs. PyClick's shape: the shared parameter and inference machinery lives in
 * `ProbabilityParameters`, `fitClickModel` and `evaluateClickModel`, so a model is only this.
 */
export interface FittableClickModel {
  readonly type: FittedModelType;
  /** The longest list the model has rank parameters for. */
  readonly listLength: number;
  /** α_{q,d} = P(click | examined) per dense pair id. */
  readonly attractiveness: ProbabilityParameters;
  /** True when one `iterate` is the closed-form maximum-likelihood estimate (no EM needed). */
  readonly closedForm: boolean;
  /** One EM iteration (E-step posteriors from the current values, then the M-step) over `sessions` of `log`. */
  iterate(log: IndexedLog, sessions: Int32Array): void;
  /**
   * P(C_k = c_k | C_0 .. C_{k−1}), the probability of what was observed at each rank k given the
   * clicks above, for session s of `log`, written to `out[0 .. n − 1]` (PyClick's
   * get_conditional_click_probs, which its log-likelihood uses).
   */
  conditionalClickProbabilities(log: IndexedLog, s: number, out: Float64Array): void;
  /** The model's other parameters, for JSON. */
  parameters(): FittedParameters;
  /** A simulator of this model's sessions, built on clicklab's click-model simulators. */
  simulator(): FittedSimulator;
}

/**
 * A click-model simulator for sessions over pairs: `prepare` is called with a session's pair ids
 * before `clickModel.simulate` or `clickModel.clickProbabilities` runs on their attractiveness,
 * for models whose simulator needs more than the attractiveness (DBN's per-pair satisfaction).
 */
export interface FittedSimulator {
  readonly clickModel: ClickModel;
  prepare(pairs: Int32Array, start: number, n: number): void;
}

/** For simulators that need nothing but the attractiveness. */
export function plainSimulator(clickModel: ClickModel): FittedSimulator {
  return { clickModel, prepare() {} };
}
