import { CascadingModel } from '../simulation/click-models/cascade.js';
import { CascadeFamilyModel } from './cascade-family.js';
import type { ClickModelFitter, FittedParameters, FittedSimulator, SavedParameters } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/**
 * Dynamic Bayesian network model (DBN; Chapelle & Zhang 2009) fitted by exact EM, with PyClick's
 * parameters: attractiveness α and satisfaction σ per (query, document) pair and one continuation
 * γ. After a click at k the user is satisfied (and stops) with probability σ_k, otherwise goes on
 * with γ; after a skip they go on with γ: in the cascade family's terms c_k = γ (1 − σ_k), g = γ.
 * With l the last click, Z = P(no click below l | click at l) = 1 − c_l + c_l q_{l+1}, the E-step gives
 *   σ: clicks above l were not satisfying; P(S_l = 1 | C) = σ_l / Z (PyClick's σ / (1 − (1 − σ) γ car)),
 *   γ: each rank r < l adds one trial and one success; rank l adds P(S_l = 0 | C) = (1 − σ_l)(1 − γ + γ q_{l+1}) / Z
 *      trials and P(S_l = 0, E_{l+1} = 1 | C) successes; a rank r > l adds P(E_r = 1 | C) trials and
 *      P(E_{r+1} = 1 | C) successes (the virtual rank n below the list included, as in PyClick's
 *      exact continuation update).
 * The simplified DBN (SDBN) is this with γ = 1 fixed.
 */
export class FittedDbn extends CascadeFamilyModel {
  readonly type: 'dbn' | 'sdbn';
  readonly pairParameters = ['satisfaction'] as const;
  /** σ per pair. */
  readonly satisfaction: ProbabilityParameters;
  /** γ (one value); fixed at 1 for SDBN. */
  readonly continuationParameter: ProbabilityParameters;

  constructor(numPairs: number, listLength: number, simplified = false) {
    super(numPairs, listLength);
    this.type = simplified ? 'sdbn' : 'dbn';
    this.satisfaction = new ProbabilityParameters(numPairs);
    this.continuationParameter = new ProbabilityParameters(1);
    if (simplified) this.continuationParameter.value[0] = 1;
  }

  get gamma(): number {
    return this.continuationParameter.value[0];
  }

  protected continueAfterSkip(): number {
    return this.continuationParameter.value[0];
  }

  protected continuation(log: IndexedLog, start: number, n: number): void {
    const gamma = this.continuationParameter.value[0];
    for (let k = 0; k < n; k++) this.afterClick[k] = gamma * (1 - this.satisfaction.value[log.pair[start + k]]);
  }

  protected clearOwn(): void {
    this.satisfaction.clear();
    this.continuationParameter.clear();
  }

  protected accumulate(log: IndexedLog, start: number, n: number, l: number, w: number): void {
    const sNum = this.satisfaction.numerator;
    const sDen = this.satisfaction.denominator;
    const q = this.tailNoClick;
    const e = this.examined;
    const gamma = this.continuationParameter.value[0];
    for (let k = 0; k < l; k++) if (log.click[start + k]) sDen[log.pair[start + k]] += w;
    let successes = 0;
    let trials = 0;
    if (l >= 0) {
      const p = log.pair[start + l];
      const sigma = this.satisfaction.value[p];
      const noClickBelow = 1 - gamma * (1 - sigma) * (1 - q[l + 1]);
      sNum[p] += (w * sigma) / noClickBelow;
      sDen[p] += w;
      successes += l + e[l + 1];
      trials += l + ((1 - sigma) * (1 - gamma + gamma * q[l + 1])) / noClickBelow;
    }
    for (let r = l + 1; r < n; r++) {
      successes += e[r + 1];
      trials += e[r];
    }
    this.continuationParameter.numerator[0] += w * successes;
    this.continuationParameter.denominator[0] += w * trials;
  }

  protected finishOwn(): void {
    this.satisfaction.finish();
    if (this.type === 'dbn') this.continuationParameter.finish();
  }

  parameters(): FittedParameters {
    return { gamma: this.gamma, satisfaction: this.satisfaction.toArray() };
  }

  simulator(): FittedSimulator {
    const model = new PairSatisfactionDbn(this.gamma, this.satisfaction.value, this.listLength);
    return { clickModel: model, prepare: (pairs, start, n) => model.prepare(pairs, start, n) };
  }

  static restore(attractiveness: ArrayLike<number>, parameters: { gamma: number; satisfaction: ArrayLike<number> }, listLength: number, simplified: boolean): FittedDbn {
    const model = new FittedDbn(attractiveness.length, listLength, simplified);
    model.attractiveness.value.set(attractiveness);
    model.satisfaction.value.set(parameters.satisfaction);
    model.continuationParameter.value[0] = parameters.gamma;
    return model;
  }
}

/** DBN's and SDBN's entries in the click-model registry (SDBN: γ fixed at 1). */
export const dbnFitter: ClickModelFitter<'dbn'> = {
  name: 'dbn',
  create: (numPairs, listLength) => new FittedDbn(numPairs, listLength) as FittedDbn & { readonly type: 'dbn' },
  restore: (attractiveness, saved) => restoreDbn(attractiveness, saved, false) as FittedDbn & { readonly type: 'dbn' },
};
export const sdbnFitter: ClickModelFitter<'sdbn'> = {
  name: 'sdbn',
  create: (numPairs, listLength) => new FittedDbn(numPairs, listLength, true) as FittedDbn & { readonly type: 'sdbn' },
  restore: (attractiveness, saved) => restoreDbn(attractiveness, saved, true) as FittedDbn & { readonly type: 'sdbn' },
};

function restoreDbn(attractiveness: Float64Array, saved: SavedParameters, simplified: boolean): FittedDbn {
  const gamma = saved.probability('gamma');
  return FittedDbn.restore(attractiveness, { gamma, satisfaction: saved.probabilities('satisfaction', saved.numPairs) }, saved.listLength, simplified);
}

/**
 * clicklab's cascade-family simulator (`CascadingModel`) with DBN's per-pair satisfaction: after a
 * click at rank k the user goes on with γ (1 − σ_k), after a skip with γ. `prepare` loads the
 * session's σ by rank before each `simulate` or `clickProbabilities` call.
 */
class PairSatisfactionDbn extends CascadingModel {
  readonly name = 'dbn';
  protected readonly continueAfterSkip: number;
  private readonly sessionSatisfaction: Float64Array;

  constructor(
    private readonly gamma: number,
    private readonly pairSatisfaction: Float64Array,
    listLength: number,
  ) {
    super();
    this.continueAfterSkip = gamma;
    this.sessionSatisfaction = new Float64Array(listLength);
  }

  prepare(pairs: Int32Array, start: number, n: number): void {
    for (let k = 0; k < n; k++) this.sessionSatisfaction[k] = this.pairSatisfaction[pairs[start + k]];
  }

  protected override continueAfterClick(k: number): number {
    return this.gamma * (1 - this.sessionSatisfaction[k]);
  }
}
