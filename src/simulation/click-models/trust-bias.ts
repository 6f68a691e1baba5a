import type { RandomStream } from '../../core/random.js';
import type { ClickModel, SlotOutputs } from '../click-model.js';

/**
 * Trust bias (Agarwal et al. 2019; Vardasbi et al., CIKM 2020): the user examines rank k with
 * probability κ_k and, having examined it, clicks a relevant document with probability ε⁺_k and a
 * non-relevant one with probability ε⁻_k (they trust the top of the list, so click non-relevant
 * results there too):
 *   P(C_k = 1) = κ_k (ε⁺_k r + ε⁻_k (1 − r)) = α_k r + β_k,  α_k = κ_k (ε⁺_k − ε⁻_k),  β_k = κ_k ε⁻_k,
 * where r is the relevance input read as P(relevant). Ranks past the end of any of κ, ε⁺, ε⁻ reuse
 * its last value. examinationProbability = κ_k.
 */
export class TrustBiasModel implements ClickModel {
  readonly name = 'trust-bias';

  constructor(
    readonly examination: Float64Array,
    readonly epsilonPlus: Float64Array,
    readonly epsilonMinus: Float64Array,
  ) {}

  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void {
    for (let k = 0; k < length; k++) {
      const row = start + k;
      const kappa = at(this.examination, k);
      const examined = rng.uniform() < kappa;
      const relevant = rng.uniform() < relevance[row];
      out.examinationProbability[row] = kappa;
      out.examined[row] = examined ? 1 : 0;
      out.click[row] = examined && rng.uniform() < (relevant ? at(this.epsilonPlus, k) : at(this.epsilonMinus, k)) ? 1 : 0;
    }
  }

  /** P(C_k = 1) = κ_k (ε⁺_k r + ε⁻_k (1 − r)). */
  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void {
    for (let k = 0; k < length; k++) {
      out[k] = at(this.examination, k) * (at(this.epsilonPlus, k) * relevance[k] + at(this.epsilonMinus, k) * (1 - relevance[k]));
    }
  }

  /**
   * The affine form P(C_k = 1) = α_k · P(relevant) + β_k for ranks 0 .. numRanks − 1, which the
   * affine correction of Vardasbi et al. inverts: P(relevant) = (P(C_k = 1) − β_k) / α_k.
   */
  affine(numRanks: number): { alpha: Float64Array; beta: Float64Array } {
    const alpha = new Float64Array(numRanks);
    const beta = new Float64Array(numRanks);
    for (let k = 0; k < numRanks; k++) {
      const kappa = at(this.examination, k);
      alpha[k] = kappa * (at(this.epsilonPlus, k) - at(this.epsilonMinus, k));
      beta[k] = kappa * at(this.epsilonMinus, k);
    }
    return { alpha, beta };
  }
}

function at(values: Float64Array, k: number): number {
  return values[Math.min(k, values.length - 1)];
}

/** Vardasbi et al.'s trust-bias parameters for 0-based rank k: ε⁺_k = 1 − (k + 2)/100, ε⁻_k = 0.65/(k + 1). */
export function defaultTrustParameters(numRanks: number): { epsilonPlus: Float64Array; epsilonMinus: Float64Array } {
  const epsilonPlus = new Float64Array(numRanks);
  const epsilonMinus = new Float64Array(numRanks);
  for (let k = 0; k < numRanks; k++) {
    // Past rank 98 the formula goes negative: a probability cannot, so it stops at 0.
    epsilonPlus[k] = Math.max(0, 1 - (k + 2) / 100);
    epsilonMinus[k] = 0.65 / (k + 1);
  }
  return { epsilonPlus, epsilonMinus };
}
