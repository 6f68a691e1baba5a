import type { ClickModel } from '../simulation/click-model.js';
import type { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/** A fitted model's parameters other than the per-pair attractiveness, as saved to JSON. */
export type FittedParameters = Readonly<Record<string, number | number[] | number[][]>>;

/**
 * What each fitted click model is: its defining probabilities (a per-pair attractiveness plus a
 * few more), one EM iteration over a list of sessions, and the two click probabilities the
 * evaluation needs. PyClick's shape: the shared parameter and inference machinery lives in
 * `ProbabilityParameters`, `fitClickModel` and `evaluateClickModel`, so a model is only this.
 */
export interface FittableClickModel {
  /** The name it is fitted under (a `FittedModelType` of src/fitting/registry.ts). */
  readonly type: string;
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
  /** The names among `parameters()` that hold one value per pair (DBN's satisfaction): a Parquet world stores them beside the attractiveness. */
  readonly pairParameters?: readonly string[];
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

/**
 * A click model's fitter, its entry in the registry (`CLICK_MODELS` in src/fitting/registry.ts):
 * a model to fit, and a fitted model restored from its saved JSON.
 */
export interface ClickModelFitter<T extends string = string> {
  /** The name it is fitted under, the `type` of its models. */
  readonly name: T;
  /** A model with every parameter at PyClick's starting value 0.5 (SDBN's γ at 1). */
  create(numPairs: number, listLength: number): FittableClickModel & { readonly type: T };
  /** The fitted model with the saved attractiveness and parameters (`saved` checks each parameter it reads). */
  restore(attractiveness: Float64Array, saved: SavedParameters): FittableClickModel & { readonly type: T };
}

/** The saved parameters of a fitted model (`FittedWorld.fromJSON`); each read checks the value, failing with a message that names it. */
export interface SavedParameters {
  readonly listLength: number;
  readonly numPairs: number;
  /** `parameters[name]`: an array of `length` probabilities. */
  probabilities(name: string, length: number): ArrayLike<number>;
  /** `parameters[name]`: one probability. */
  probability(name: string): number;
  /** `parameters[name]`: a `size` × `size` table of probabilities. */
  squareTable(name: string, size: number): number[][];
}
