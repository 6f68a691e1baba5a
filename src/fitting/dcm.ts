import { DependentClickModel } from '../simulation/click-models/dcm.js';
import { CascadeFamilyModel } from './cascade-family.js';
import { plainSimulator, type ClickModelFitter, type FittedParameters, type FittedSimulator } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/**
 * Dependent click model (DCM; Guo, Liu & Wang 2009) fitted by exact EM: the cascade model, except
 * that after a click at rank k the user goes on with probability λ_k. Every click above the last
 * one (l) was followed by going on; whether the user went on after l is hidden:
 *   P(went on after l | C) = λ_l q_{l+1} / (1 − λ_l + λ_l q_{l+1}),  q_j = ∏_{i ≥ j} (1 − α_i),
 * so λ_k = (1 + #clicks at k that were not last + Σ P(went on after l = k | C)) / (2 + #clicks at k).
 * PyClick fits DCM in one pass under the paper's simplification that the user is always satisfied
 * after the last click (that posterior taken as 0), which underestimates λ and, through the ranks
 * it leaves out, overestimates α; the EM here converges to the maximum-likelihood estimate.
 */
export class FittedDcm extends CascadeFamilyModel {
  readonly type = 'dcm';
  /** λ_k per rank. */
  readonly lambda: ProbabilityParameters;

  constructor(numPairs: number, listLength: number) {
    super(numPairs, listLength);
    this.lambda = new ProbabilityParameters(listLength);
  }

  protected continueAfterSkip(): number {
    return 1;
  }

  protected continuation(_log: IndexedLog, _start: number, n: number): void {
    for (let k = 0; k < n; k++) this.afterClick[k] = this.lambda.value[k];
  }

  protected clearOwn(): void {
    this.lambda.clear();
  }

  protected accumulate(log: IndexedLog, start: number, _n: number, l: number, w: number): void {
    const num = this.lambda.numerator;
    const den = this.lambda.denominator;
    for (let k = 0; k < l; k++) {
      if (log.click[start + k]) {
        num[k] += w;
        den[k] += w;
      }
    }
    if (l >= 0) {
      num[l] += w * this.examined[l + 1];
      den[l] += w;
    }
  }

  protected finishOwn(): void {
    this.lambda.finish();
  }

  parameters(): FittedParameters {
    return { lambda: this.lambda.toArray() };
  }

  simulator(): FittedSimulator {
    return plainSimulator(new DependentClickModel(this.lambda.value));
  }

  static restore(attractiveness: ArrayLike<number>, parameters: { lambda: ArrayLike<number> }): FittedDcm {
    const model = new FittedDcm(attractiveness.length, parameters.lambda.length);
    model.attractiveness.value.set(attractiveness);
    model.lambda.value.set(parameters.lambda);
    return model;
  }
}

/** DCM's entry in the click-model registry. */
export const dcmFitter: ClickModelFitter<'dcm'> = {
  name: 'dcm',
  create: (numPairs, listLength) => new FittedDcm(numPairs, listLength),
  restore: (attractiveness, saved) => FittedDcm.restore(attractiveness, { lambda: saved.probabilities('lambda', saved.listLength) }),
};
