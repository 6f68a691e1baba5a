import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { checkSizes, type FeedbackSemantics, selectTopK, deterministicPolicyPropensities, deterministicSlateProbability } from './common.js';

export interface CascadeKLUCBOptions {
  numItems: number;
  slateSize: number;
  name?: string;
}

/** KL(p‖q) between Bernoulli(p) and Bernoulli(q), with 0·log 0 = 0. */
export function bernoulliKL(p: number, q: number): number {
  let value = 0;
  if (p > 0) value += p * Math.log(p / q);
  if (p < 1) value += (1 - p) * Math.log((1 - p) / (1 - q));
  return value;
}

/**
 * The KL upper confidence bound max{q ∈ [ŵ, 1] : T·KL(ŵ‖q) ≤ δ}, by bisection to 1e−10 (the KL
 * divergence is increasing in q on [ŵ, 1]). Closed forms at the edges: ŵ = 0 gives 1 − e^{−δ/T},
 * ŵ = 1 gives 1; T = 0 gives 1.
 */
export function klUpperBound(mean: number, count: number, delta: number): number {
  if (count <= 0 || mean >= 1) return 1;
  const budget = delta / count;
  if (budget <= 0) return mean;
  if (mean <= 0) return -Math.expm1(-budget);
  let lo = mean;
  let hi = 1;
  while (hi - lo > 1e-10) {
    const mid = 0.5 * (lo + hi);
    if (bernoulliKL(mean, mid) > budget) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * CascadeKL-UCB (Kveton, Szepesvári, Wen & Ashkan, ICML 2015). Per item: T = observations (times
 * the item was examined) and ŵ = clicks/T. At round t (t − 1 = rounds learned from so far):
 *
 *   U_t(e) = max{q ∈ [ŵ, 1] : T·KL(ŵ‖q) ≤ log t + 3 log log t}
 *
 * (the right side floored at 0: it is undefined at t = 1 and negative at t = 2; an unobserved item
 * has U = 1), and the slate is the K items with the largest U in
 * decreasing order. Feedback is cascade: the loop passes positions down to and including the first
 * click as observed. Ties go to the lower item index; the policy is deterministic given its
 * counts, so propensities are exactly 0 or 1.
 */
export class CascadeKLUCB implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'cascade';
  readonly clicks: Float64Array;
  readonly views: Float64Array;
  /** Rounds learned from (calls of `update`). */
  rounds = 0;
  private readonly scores: Float64Array;
  private readonly topScratch: Float64Array;
  /** The slate it would choose now, for its propensities. */
  private readonly ownSlate: Int32Array;

  constructor(options: CascadeKLUCBOptions) {
    checkSizes(options.numItems, options.slateSize);
    this.name = options.name ?? 'cascade-kl-ucb';
    this.numItems = options.numItems;
    this.slateSize = options.slateSize;
    this.clicks = new Float64Array(this.numItems);
    this.views = new Float64Array(this.numItems);
    this.scores = new Float64Array(this.numItems);
    this.topScratch = new Float64Array(this.slateSize);
    this.ownSlate = new Int32Array(this.slateSize);
  }

  /** log t + 3 log log t at the next round t = rounds + 1, floored at 0. */
  explorationBudget(): number {
    const t = this.rounds + 1;
    const logT = Math.log(t);
    if (logT <= 0) return 0;
    return Math.max(0, logT + 3 * Math.log(logT));
  }

  /** U_t of every item at the next round, into `out`. */
  indices(out: Float64Array = new Float64Array(this.numItems)): Float64Array {
    const delta = this.explorationBudget();
    for (let i = 0; i < this.numItems; i++) {
      const T = this.views[i];
      out[i] = klUpperBound(T > 0 ? this.clicks[i] / T : 0, T, delta);
    }
    return out;
  }

  choose(_rng: RandomStream, slate: Int32Array): void {
    this.indices(this.scores);
    selectTopK(this.scores, this.numItems, this.slateSize, slate, this.topScratch);
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    for (let k = 0; k < this.slateSize; k++) {
      if (!observed[k]) continue;
      this.views[slate[k]] += 1;
      if (clicks[k]) this.clicks[slate[k]] += 1;
    }
    this.rounds++;
  }

  /** Exact: deterministic given the counts, so its current slate has probability 1. */
  positionPropensities(_rng: RandomStream, _draws: number, out: Float64Array): void {
    deterministicPolicyPropensities(this, this.ownSlate, out);
  }

  /** 1 for the slate it would choose now, 0 for any other. */
  slateProbability(slate: Int32Array): number {
    return deterministicSlateProbability(this, slate, this.ownSlate);
  }
}
