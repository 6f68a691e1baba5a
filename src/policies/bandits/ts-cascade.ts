import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { standardNormal } from './beta.js';
import { checkSizes, type FeedbackSemantics, monteCarloPropensities, selectTopK } from './common.js';

export interface TSCascadeOptions {
  numItems: number;
  slateSize: number;
  name?: string;
}

/** Ties (items with equal ŵ and N, e.g. all unseen items) are broken at random by a jitter this small. */
const TIE_JITTER = 1e-12;

/**
 * TS-Cascade (Cheung, Tan & Zhong, AISTATS 2019, Algorithm 1): Gaussian Thompson sampling with one
 * shared draw per round. Per item: N(i) observations, ŵ(i) = clicks/N (0 while unseen) and
 * ν̂(i) = ŵ(i)(1 − ŵ(i)). At round t (t − 1 = rounds learned from so far):
 *
 *   Z_t ~ N(0, 1), one for all items,
 *   σ̂_t(i) = max{ √(ν̂(i)·log(t + 1)/(N(i) + 1)),  √(log(t + 1))/(N(i) + 1) },
 *   θ_t(i) = ŵ(i) + Z_t·σ̂_t(i),
 *
 * and the slate is the K items with the largest θ in decreasing order. Feedback is cascade:
 * examined items (positions down to and including the first click) update N and ŵ. A uniform
 * jitter below 1e−12 breaks exact ties at random (otherwise unseen items, which share ŵ and σ̂,
 * would always be shown in index order). Propensities: Monte Carlo over Z (and the jitter).
 */
export class TSCascade implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'cascade';
  readonly clicks: Float64Array;
  readonly views: Float64Array;
  /** Rounds learned from (calls of `update`). */
  rounds = 0;
  private readonly theta: Float64Array;
  private readonly topScratch: Float64Array;
  private readonly mcSlate: Int32Array;

  constructor(options: TSCascadeOptions) {
    checkSizes(options.numItems, options.slateSize);
    this.name = options.name ?? 'ts-cascade';
    this.numItems = options.numItems;
    this.slateSize = options.slateSize;
    this.clicks = new Float64Array(this.numItems);
    this.views = new Float64Array(this.numItems);
    this.theta = new Float64Array(this.numItems);
    this.topScratch = new Float64Array(this.slateSize);
    this.mcSlate = new Int32Array(this.slateSize);
  }

  /** ŵ(i) + z·σ̂_t(i) for every item at the next round, into `out` (no jitter). */
  scores(z: number, out: Float64Array = new Float64Array(this.numItems)): Float64Array {
    const logT1 = Math.log(this.rounds + 2); // log(t + 1) with t = rounds + 1
    const sqrtLog = Math.sqrt(logT1);
    for (let i = 0; i < this.numItems; i++) {
      const n = this.views[i];
      const w = n > 0 ? this.clicks[i] / n : 0;
      const sigma = Math.max(Math.sqrt((w * (1 - w) * logT1) / (n + 1)), sqrtLog / (n + 1));
      out[i] = w + z * sigma;
    }
    return out;
  }

  choose(rng: RandomStream, slate: Int32Array): void {
    const theta = this.scores(standardNormal(rng), this.theta);
    for (let i = 0; i < this.numItems; i++) theta[i] += TIE_JITTER * rng.uniform();
    selectTopK(theta, this.numItems, this.slateSize, slate, this.topScratch);
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    for (let k = 0; k < this.slateSize; k++) {
      if (!observed[k]) continue;
      this.views[slate[k]] += 1;
      if (clicks[k]) this.clicks[slate[k]] += 1;
    }
    this.rounds++;
  }

  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void {
    monteCarloPropensities(this, rng, draws, out, this.mcSlate, context);
  }
}
