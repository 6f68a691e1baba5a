import type { RandomStream } from '../core/random.js';

/** Per-slot outputs a click model writes for one displayed list, starting at row `start`. */
export interface SlotOutputs {
  readonly click: Uint8Array;
  /** Whether the user looked at the slot (hidden truth). */
  readonly examined: Uint8Array;
  /**
   * P(the slot is examined | the clicks above it in this session): what a logger that sees clicks,
   * but not the hidden examination or satisfaction, can know. For PBM it is κ_k.
   */
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
  /**
   * The exact marginal click probability P(C_k = 1) of every rank of a list whose results have
   * click-given-examination probabilities `relevance[0 .. length − 1]`, written to `out`: what the
   * simulation's click rates converge to, and what expected clicks and regret are computed from.
   */
  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void;
}
