import { CascadingModel } from './cascade.js';

/**
 * Dynamic Bayesian network model (DBN; Chapelle & Zhang 2009). The user examines rank 0; at an
 * examined rank k they click with the attractiveness a_k (the relevance input); after a click they
 * are satisfied with probability s_k and stop; unless satisfied they go on with probability γ:
 *   P(C_k = 1 | E_k = 1) = a_k,  P(S_k = 1 | C_k = 1) = s_k,
 *   P(E_{k+1} = 1 | E_k = 1, C_k, S_k) = γ (1 − S_k),
 * so  P(E_{k+1} = 1) = P(E_k = 1) · γ (1 − a_k s_k)  and  P(C_k = 1) = P(E_k = 1) · a_k.
 * Satisfaction is `'attractiveness'` (s_k = a_k, the default: the ERR metric's user, for whom a
 * relevant result both attracts and satisfies) or one constant s for every document. γ = 1 is the
 * simplified DBN (SDBN). The satisfaction draw is folded into the continuation draw
 * (go on with probability γ (1 − s_k) after a click), which has the same distribution.
 * examinationProbability follows the cascade family's rule (see `CascadingModel`).
 */
export class DynamicBayesianNetworkModel extends CascadingModel {
  readonly name = 'dbn';
  protected readonly continueAfterSkip: number;

  constructor(
    readonly gamma: number,
    readonly satisfaction: number | 'attractiveness',
  ) {
    super();
    this.continueAfterSkip = gamma;
  }

  protected override continueAfterClick(_k: number, r: number): number {
    return this.gamma * (1 - (this.satisfaction === 'attractiveness' ? r : this.satisfaction));
  }
}
