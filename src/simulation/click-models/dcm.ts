import { CascadingModel } from './cascade.js';

/**
 * Dependent click model (DCM; Guo et al. 2009): the cascade model, except that after a click at
 * rank k the user goes on with probability λ_k (ranks past the end of λ reuse its last value);
 * after a skip they always go on:
 *   P(E_0 = 1) = 1,  P(E_{k+1} = 1) = P(E_k = 1) · (r_k λ_k + 1 − r_k),  P(C_k = 1) = P(E_k = 1) · r_k.
 * examinationProbability follows the cascade family's rule (see `CascadingModel`).
 */
export class DependentClickModel extends CascadingModel {
  readonly name = 'dcm';
  protected readonly continueAfterSkip = 1;

  constructor(readonly lambda: Float64Array) {
    super();
  }

  protected override continueAfterClick(k: number): number {
    return this.lambda[Math.min(k, this.lambda.length - 1)];
  }
}
