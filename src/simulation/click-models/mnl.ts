import type { RandomStream } from '../../core/random.js';
import type { ClickModel, SlotOutputs } from '../click-model.js';

/**
 * Multinomial-logit choice with a no-click option (RecSim's choice model, with RecSim NG's additive
 * per-position bias): the user picks at most one slot,
 *   P(pick k) = exp(u_k + b_k) / (exp(u_∅) + Σ_j exp(u_j + b_j)),  P(no click) = exp(u_∅) / (same),
 * with utility u_k = ln r_k, position bias b_k (ranks past its end reuse its last value) and the
 * no-click utility u_∅. u = ln r makes exp(u_k + b_k) = r_k · e^{b_k}: a result with r = 0 is never
 * picked (as in every other model here), doubling r doubles a result's odds against the others, and
 * e^{b_k} acts like an examination weight (b_k = ln κ_k gives PBM's weights κ_k r_k competing with
 * the no-click option).
 * Examination is not a separate event in this model: every displayed slot is marked examined and
 * examinationProbability = 1.
 */
export class MultinomialLogitModel implements ClickModel {
  readonly name = 'mnl';
  /** e^{b_k − m} and e^{u_∅ − m}, m = max(u_∅, max b): the common factor cancels and nothing overflows. */
  private readonly positionWeight: Float64Array;
  private readonly noClickWeight: number;

  constructor(
    readonly positionBias: Float64Array,
    readonly noClickUtility: number,
  ) {
    const m = Math.max(noClickUtility, ...positionBias);
    this.positionWeight = positionBias.map((b) => Math.exp(b - m));
    this.noClickWeight = Math.exp(noClickUtility - m);
  }

  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void {
    const last = this.positionWeight.length - 1;
    let total = this.noClickWeight;
    for (let k = 0; k < length; k++) total += relevance[start + k] * this.positionWeight[Math.min(k, last)];
    // Walk the slots until the cumulative weight passes the draw; the no-click option is the remainder.
    let draw = rng.uniform() * total - this.noClickWeight;
    for (let k = 0; k < length; k++) {
      const row = start + k;
      const weight = relevance[row] * this.positionWeight[Math.min(k, last)];
      out.click[row] = draw >= 0 && draw < weight ? 1 : 0;
      draw -= weight;
      out.examined[row] = 1;
      out.examinationProbability[row] = 1;
    }
  }

  /** P(click k) = r_k e^{b_k} / (e^{u_∅} + Σ_j r_j e^{b_j}). */
  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void {
    const last = this.positionWeight.length - 1;
    let total = this.noClickWeight;
    for (let k = 0; k < length; k++) total += relevance[k] * this.positionWeight[Math.min(k, last)];
    for (let k = 0; k < length; k++) out[k] = (relevance[k] * this.positionWeight[Math.min(k, last)]) / total;
  }
}
