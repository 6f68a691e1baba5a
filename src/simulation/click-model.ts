import type { RandomStream } from '../core/random.js';

/** Per-slot outputs a click model writes for one displayed list, starting at row `start`. */
export interface SlotOutputs {
  readonly click: Uint8Array;
  readonly examined: Uint8Array;
  readonly examinationProbability: Float32Array;
}

/**
 * A click model: given the relevance probabilities of a displayed list (in rank order), it draws
 * which slots the user examined and clicked. Implementations keep their exact probabilities in
 * their doc comment.
 */
export interface ClickModel {
  readonly name: string;
  /**
   * Simulate one session over slots `start .. start + length − 1`; `relevance[start + k]` is the
   * probability that the document at rank k (0-based) is clicked once examined.
   */
  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void;
}

/**
 * Position-based model (PBM): examination depends on the rank alone and is independent of
 * relevance:  P(E_k = 1) = κ_k,  P(C_k = 1 | E_k = 1) = r_d,  so  P(C_k = 1) = κ_k · r_d.
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
