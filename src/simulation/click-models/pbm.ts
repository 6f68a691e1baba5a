import type { RandomStream } from '../../core/random.js';
import type { ClickModel, SlotOutputs } from '../click-model.js';

/**
 * Position-based model (PBM): examination depends on the rank alone and is independent of
 * relevance:  P(E_k = 1) = κ_k,  P(C_k = 1 | E_k = 1) = r_d,  so  P(C_k = 1) = κ_k · r_d.
 * Ranks past the end of κ reuse its last value; examinationProbability = κ_k.
 */
export class PositionBasedModel implements ClickModel {
  readonly name = 'pbm';

  constructor(readonly examination: Float64Array) {}

  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void {
    const last = this.examination.length - 1;
    for (let k = 0; k < length; k++) {
      const row = start + k;
      const kappa = this.examination[k < last ? k : last];
      // One uniform u gives the joint (E, C) exactly: u < κr → examined and clicked (prob κr),
      // κr ≤ u < κ → examined, not clicked (κ(1 − r)), u ≥ κ → not examined (1 − κ).
      const u = rng.uniform();
      out.examinationProbability[row] = kappa;
      out.examined[row] = u < kappa ? 1 : 0;
      out.click[row] = u < kappa * relevance[row] ? 1 : 0;
    }
  }

  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void {
    const last = this.examination.length - 1;
    for (let k = 0; k < length; k++) out[k] = this.examination[k < last ? k : last] * relevance[k];
  }
}
