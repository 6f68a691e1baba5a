import type { RandomStream } from '../core/random.js';

/**
 * A slate policy: it chooses K distinct items out of `numItems` for each round, learns from the
 * clicks it observes, and can say how likely it was to show what it showed. Every policy in
 * `src/policies/bandits/` implements this one shape, so the online loop, the logs and the
 * comparisons treat them alike.
 */
/** Which results a policy learns from: all of them, or those down to the first click (cascade policies). */
export type FeedbackSemantics = 'position' | 'cascade';

export interface SlatePolicy {
  readonly name: string;
  readonly feedback: FeedbackSemantics;
  readonly numItems: number;
  /** Slate size K. */
  readonly slateSize: number;
  /**
   * Choose a slate: write K distinct item indices into `slate` (position 0 first). `context` is the
   * round's user, for contextual policies (others ignore it).
   */
  choose(rng: RandomStream, slate: Int32Array, context?: number): void;
  /**
   * Learn from one displayed slate. `clicks[k]` is 1 for a click at position k; `observed[k]` is 1
   * where the policy may treat the position as feedback: every position when `feedback` is
   * `position`, down to the first click when it is `cascade`. The online loop calls this in
   * batches, after the rounds of a batch have all been chosen, to model delayed feedback.
   */
  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array, context?: number): void;
  /**
   * P(item i at position k) under the policy's current state, written to `out[i * K + k]`:
   * exactly where the policy has a closed form, else by `draws` seeded Monte Carlo samples of its
   * own choice procedure. Never by enumerating permutations.
   */
  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void;
  /**
   * The probability of the whole slate under the current state, for the policies where it is
   * tractable in closed form (uniform random, greedy, ε-greedy, the UCB policies, Plackett–Luce).
   * Thompson samplers have no closed form and leave it undefined.
   */
  slateProbability?(slate: Int32Array, context?: number): number;
}
