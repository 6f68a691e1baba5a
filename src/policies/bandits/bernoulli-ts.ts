import { randomStream, type RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { sampleBeta } from './beta.js';
import { checkSizes, type FeedbackSemantics, monteCarloPropensities, perItem, selectTopK } from './common.js';

export interface BetaPriorOptions {
  /** Prior α per item (one number for all, or one per item); default 1. */
  alpha?: number | ArrayLike<number>;
  /** Prior β per item; default 1. */
  beta?: number | ArrayLike<number>;
}

export interface BernoulliTSOptions extends BetaPriorOptions {
  numItems: number;
  slateSize: number;
  /** Defaults to the policy type, e.g. "bernoulli-ts". */
  name?: string;
}

/**
 * Bernoulli Thompson sampling over slates (the Open Bandit Pipeline's BernoulliTS):
 *
 *   θ_a ~ Beta(α_a + S_a, β_a + N_a − S_a) independently per item, slate = top-K items by θ,
 *
 * where S_a and N_a count the clicks and the observed displays of item a at any position
 * (semi-bandit feedback: every observed position updates its item). One posterior draw per item
 * per round; the top K are kept by partial selection, not a sort. Position propensities have no
 * closed form for K > 1: Monte Carlo over the policy's own draws (OBP used 100k draws for the Open
 * Bandit Dataset).
 */
export class BernoulliTS implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  /** Prior parameters α_a, β_a. */
  readonly priorAlpha: Float64Array;
  readonly priorBeta: Float64Array;
  /** Clicks S_a and observed displays N_a per item. */
  readonly clicks: Float64Array;
  readonly views: Float64Array;
  /** Posterior parameters α_a + S_a and β_a + N_a − S_a, kept current by `update`. */
  protected readonly postAlpha: Float64Array;
  protected readonly postBeta: Float64Array;
  protected readonly theta: Float64Array;
  protected readonly topScratch: Float64Array;
  private readonly mcSlate: Int32Array;

  constructor(options: BernoulliTSOptions, defaultName = 'bernoulli-ts') {
    const { numItems, slateSize } = options;
    checkSizes(numItems, slateSize);
    this.name = options.name ?? defaultName;
    this.numItems = numItems;
    this.slateSize = slateSize;
    this.priorAlpha = perItem(options.alpha ?? 1, numItems, 'alpha', 'a number > 0', (v) => v > 0);
    this.priorBeta = perItem(options.beta ?? 1, numItems, 'beta', 'a number > 0', (v) => v > 0);
    this.clicks = new Float64Array(numItems);
    this.views = new Float64Array(numItems);
    this.postAlpha = Float64Array.from(this.priorAlpha);
    this.postBeta = Float64Array.from(this.priorBeta);
    this.theta = new Float64Array(numItems);
    this.topScratch = new Float64Array(numItems);
    this.mcSlate = new Int32Array(slateSize);
  }

  choose(rng: RandomStream, slate: Int32Array): void {
    const n = this.numItems;
    const a = this.postAlpha;
    const b = this.postBeta;
    const theta = this.theta;
    for (let i = 0; i < n; i++) theta[i] = sampleBeta(rng, a[i], b[i]);
    selectTopK(theta, n, this.slateSize, slate, this.topScratch);
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    for (let k = 0; k < this.slateSize; k++) {
      if (!observed[k]) continue;
      const item = slate[k];
      this.views[item] += 1;
      if (clicks[k]) {
        this.clicks[item] += 1;
        this.postAlpha[item] += 1;
      } else {
        this.postBeta[item] += 1;
      }
    }
  }

  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void {
    monteCarloPropensities(this, rng, draws, out, this.mcSlate, context);
  }

  /** The posterior Beta(α_a + S_a, β_a + N_a − S_a) of item a, as [alpha, beta]. */
  posterior(item: number): [number, number] {
    return [this.postAlpha[item], this.postBeta[item]];
  }
}

/** π(a at k) of Bernoulli TS from Beta priors by Monte Carlo over its own draws: items × K, row-major. */
export function bernoulliTsActionDistribution(alpha: Float64Array, beta: Float64Array, slateSize: number, draws: number, seed: number): Float64Array {
  const policy = new BernoulliTS({ numItems: alpha.length, slateSize, alpha, beta });
  const out = new Float64Array(alpha.length * slateSize);
  policy.positionPropensities(randomStream(seed).derive('bts-action-dist'), draws, out);
  return out;
}
