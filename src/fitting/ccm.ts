import { CascadingModel } from '../simulation/click-models/cascade.js';
import { CascadeFamilyModel } from './cascade-family.js';
import { plainSimulator, type ClickModelFitter, type FittedParameters, type FittedSimulator } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/**
 * Click chain model (CCM; Guo et al., WWW 2009) fitted by exact EM, with PyClick's parameters: one
 * α per (query, document) pair that is both the attractiveness and the probability R that a clicked
 * result is relevant, and three continuations: τ1 after a skip, τ2 after a click on a non-relevant
 * result, τ3 after a click on a relevant one; in the cascade family's terms g = τ1 and
 * c_k = τ2 (1 − α_k) + τ3 α_k. With l the last click, q the tail no-click probability and
 * Z = 1 − c_l + c_l q_{l+1}, the E-step gives
 *   clicks k < l (the user went on):  P(R_k = 1 | C) = α_k τ3 / c_k,
 *   the last click l:                 P(R_l = 1 | C) = α_l (1 − τ3 + τ3 q_{l+1}) / Z,
 *     P(R_l = 1, E_{l+1} = 1 | C) = α_l τ3 q_{l+1} / Z,  P(R_l = 0, E_{l+1} = 1 | C) = (1 − α_l) τ2 q_{l+1} / Z;
 *   τ1: a skip above l is one trial and one success; a rank r > l adds P(E_r = 1 | C) trials and
 *       P(E_{r+1} = 1 | C) successes.
 * α pools both roles, as PyClick's M-step does: (1 + Σ P(A = 1 | C) + Σ_clicks P(R = 1 | C)) /
 * (2 + slots + clicks). PyClick takes P(R_k = 1 | C) = 0 for clicks above the last one (the DBN
 * reading that a relevant click ends the session), which τ3 > 0 contradicts; here it is exact.
 */
export class FittedCcm extends CascadeFamilyModel {
  readonly type = 'ccm';
  /** τ1, τ2, τ3. */
  readonly tau: ProbabilityParameters;

  constructor(numPairs: number, listLength: number) {
    super(numPairs, listLength);
    this.tau = new ProbabilityParameters(3);
  }

  protected continueAfterSkip(): number {
    return this.tau.value[0];
  }

  protected continuation(log: IndexedLog, start: number, n: number): void {
    const [, tau2, tau3] = this.tau.value;
    for (let k = 0; k < n; k++) {
      const alpha = this.attractiveness.value[log.pair[start + k]];
      this.afterClick[k] = tau2 * (1 - alpha) + tau3 * alpha;
    }
  }

  protected clearOwn(): void {
    this.tau.clear();
  }

  protected accumulate(log: IndexedLog, start: number, n: number, l: number, w: number): void {
    const a = this.attractiveness.value;
    const aNum = this.attractiveness.numerator;
    const aDen = this.attractiveness.denominator;
    const num = this.tau.numerator;
    const den = this.tau.denominator;
    const tau2 = this.tau.value[1];
    const tau3 = this.tau.value[2];
    const e = this.examined;
    for (let k = 0; k < l; k++) {
      if (!log.click[start + k]) {
        num[0] += w;
        den[0] += w;
        continue;
      }
      const p = log.pair[start + k];
      const relevant = (a[p] * tau3) / this.afterClick[k];
      aNum[p] += w * relevant;
      aDen[p] += w;
      num[2] += w * relevant;
      den[2] += w * relevant;
      num[1] += w * (1 - relevant);
      den[1] += w * (1 - relevant);
    }
    if (l >= 0) {
      const p = log.pair[start + l];
      const alpha = a[p];
      const q = this.tailNoClick[l + 1];
      const c = this.afterClick[l];
      const z = 1 - c + c * q;
      const relevant = (alpha * (1 - tau3 + tau3 * q)) / z;
      aNum[p] += w * relevant;
      aDen[p] += w;
      num[2] += w * ((alpha * tau3 * q) / z);
      den[2] += w * relevant;
      num[1] += w * (((1 - alpha) * tau2 * q) / z);
      den[1] += w * (((1 - alpha) * (1 - tau2 + tau2 * q)) / z);
    }
    for (let r = l + 1; r < n; r++) {
      num[0] += w * e[r + 1];
      den[0] += w * e[r];
    }
  }

  protected finishOwn(): void {
    this.tau.finish();
  }

  parameters(): FittedParameters {
    return { tau: this.tau.toArray() };
  }

  simulator(): FittedSimulator {
    return plainSimulator(new ClickChainSimulator(this.tau.value[0], this.tau.value[1], this.tau.value[2]));
  }

  static restore(attractiveness: ArrayLike<number>, parameters: { tau: ArrayLike<number> }, listLength: number): FittedCcm {
    const model = new FittedCcm(attractiveness.length, listLength);
    model.attractiveness.value.set(attractiveness);
    model.tau.value.set(parameters.tau);
    return model;
  }
}

/** CCM's entry in the click-model registry. */
export const ccmFitter: ClickModelFitter<'ccm'> = {
  name: 'ccm',
  create: (numPairs, listLength) => new FittedCcm(numPairs, listLength),
  restore: (attractiveness, saved) => FittedCcm.restore(attractiveness, { tau: saved.probabilities('tau', 3) }, saved.listLength),
};

/**
 * CCM on clicklab's cascade-family simulator (`CascadingModel`): with r the attractiveness (and the
 * probability that a clicked result is relevant), go on after a click with τ2 (1 − r) + τ3 r (the
 * relevance draw folded into the continuation draw), after a skip with τ1.
 */
class ClickChainSimulator extends CascadingModel {
  readonly name = 'ccm';

  constructor(
    protected readonly continueAfterSkip: number,
    private readonly tau2: number,
    private readonly tau3: number,
  ) {
    super();
  }

  protected override continueAfterClick(_k: number, r: number): number {
    return this.tau2 * (1 - r) + this.tau3 * r;
  }
}
