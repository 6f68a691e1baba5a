import type { RandomStream } from '../../core/random.js';
import type { ClickModel, SlotOutputs } from '../click-model.js';

/**
 * The cascade family (CM, DCM, DBN), which differ only in when the user goes on. The user examines
 * rank 0 and scans down; after examining rank k they click it with probability r_k, then examine
 * rank k + 1 with probability `continueAfterClick(k, r_k)` if they clicked and `continueAfterSkip`
 * if not; once they stop, nothing below is examined or clicked.
 *
 * examinationProbability e_k = P(E_k = 1 | C_0 .. C_{k−1}), by Bayes over the hidden examination:
 *   e_0 = 1,
 *   e_{k+1} = continueAfterClick(k, r_k)                              if C_k = 1 (a click proves E_k = 1),
 *   e_{k+1} = continueAfterSkip · e_k (1 − r_k) / (1 − e_k r_k)        if C_k = 0.
 * (1 − e_k r_k = 0 only when e_k = 1 and r_k = 1, where a skip cannot happen.)
 */
export abstract class CascadingModel implements ClickModel {
  abstract readonly name: string;
  protected abstract readonly continueAfterSkip: number;
  protected abstract continueAfterClick(k: number, r: number): number;

  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void {
    let examining = true;
    let e = 1;
    for (let k = 0; k < length; k++) {
      const row = start + k;
      const r = relevance[row];
      const click: boolean = examining && rng.uniform() < r;
      out.examinationProbability[row] = e;
      out.examined[row] = examining ? 1 : 0;
      out.click[row] = click ? 1 : 0;
      const next: number = click ? this.continueAfterClick(k, r) : this.continueAfterSkip;
      if (examining) examining = rng.uniform() < next;
      e = click ? next : (next * e * (1 - r)) / (1 - e * r);
    }
  }

  /** P(C_k) = P(E_k) r_k with P(E_0) = 1 and P(E_{k+1}) = P(E_k) (r_k · continueAfterClick + (1 − r_k) · continueAfterSkip). */
  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void {
    let examined = 1;
    for (let k = 0; k < length; k++) {
      const r = relevance[k];
      out[k] = examined * r;
      examined *= r * this.continueAfterClick(k, r) + (1 - r) * this.continueAfterSkip;
    }
  }
}

/**
 * Cascade model (CM; Craswell et al. 2008): the user scans top-down, examines rank k iff nothing
 * above was clicked, clicks with probability r_k and stops after the first click:
 *   P(E_k = 1) = ∏_{j<k} (1 − r_j),  P(C_k = 1) = r_k ∏_{j<k} (1 − r_j);  at most one click.
 * examinationProbability is 1 down to the first click (inclusive) and 0 below it.
 */
export class CascadeModel extends CascadingModel {
  readonly name = 'cascade';
  protected readonly continueAfterSkip = 1;

  protected override continueAfterClick(): number {
    return 0;
  }
}
