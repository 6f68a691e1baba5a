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
      const kappa = this.examination[Math.min(k, last)];
      // Draw examination and relevance separately so the hidden truth records examination.
      const examined = rng.uniform() < kappa;
      const attracted = rng.uniform() < relevance[row];
      out.examinationProbability[row] = kappa;
      out.examined[row] = examined ? 1 : 0;
      out.click[row] = examined && attracted ? 1 : 0;
    }
  }
}
