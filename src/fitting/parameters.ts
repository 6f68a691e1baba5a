/**
 * PyClick's parameter convention, for a whole family of parameters at once (one per pair, per rank,
 * or a single one) in flat arrays. Each parameter is a ratio of expected counts with one pseudo-click
 * in two pseudo-trials:
 *   θ = min((1 + Σ posterior) / (2 + Σ trials), 1 − 10⁻⁶),
 * so it starts at 0.5, a parameter with no data stays at 0.5 (an unseen pair's value), and no
 * probability reaches 1 (PyClick's PROB_MIN guard against log 0 and division by zero).
 * An EM iteration clears the counts, accumulates the E-step's posteriors into them from the current
 * values, and then replaces the values (`finish`): PyClick's fresh model per iteration.
 */
export class ProbabilityParameters {
  /** Current values, read by the E-step. */
  readonly value: Float64Array;
  /** Expected counts of the iteration in progress. */
  readonly numerator: Float64Array;
  readonly denominator: Float64Array;

  constructor(size: number) {
    this.value = new Float64Array(size).fill(0.5);
    this.numerator = new Float64Array(size);
    this.denominator = new Float64Array(size);
  }

  get size(): number {
    return this.value.length;
  }

  /** Start an iteration: clear the counts. */
  clear(): void {
    this.numerator.fill(0);
    this.denominator.fill(0);
  }

  /** End an iteration: value = min((1 + numerator) / (2 + denominator), 1 − 10⁻⁶). */
  finish(): void {
    for (let i = 0; i < this.value.length; i++) this.value[i] = Math.min((1 + this.numerator[i]) / (2 + this.denominator[i]), MAX_PROBABILITY);
  }

  /** Values as a plain array (JSON). */
  toArray(): number[] {
    return Array.from(this.value);
  }

  /** Parameters with the given values (a saved model). */
  static of(values: ArrayLike<number>): ProbabilityParameters {
    const p = new ProbabilityParameters(values.length);
    p.value.set(values);
    return p;
  }
}

/** PyClick's ParamEM cap: no fitted probability exceeds 1 − 10⁻⁶. */
export const MAX_PROBABILITY = 1 - 1e-6;
/** PyClick's PROB_MIN: the smallest probability an evaluation takes the log of. */
export const MIN_PROBABILITY = 1e-6;
