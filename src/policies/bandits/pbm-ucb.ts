import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { checkSizes, type FeedbackSemantics, positionsByWeight, positionWeightsFor, selectTopK, deterministicPolicyPropensities, deterministicSlateProbability } from './common.js';

export interface PbmOptions {
  numItems: number;
  slateSize: number;
  /**
   * Examination probabilities κ_1..κ_K of the slate positions, each in (0, 1]: known, or estimated
   * (e.g. by a click model fit or an intervention harvest) and passed in. Replace later with
   * `setPositionWeights`.
   */
  positionWeights: ArrayLike<number>;
  name?: string;
}

export interface PbmUCBOptions extends PbmOptions {
  /** ε in the (1 + ε)·log t exploration term; ε > 0 for the regret bound. Default 1e−6. */
  epsilon?: number;
}

/**
 * PBM-UCB (Lagrée, Vernade & Cappé, NeurIPS 2016), position weights κ known. Per item k and
 * position l, clicks S_kl and observed displays N_kl; S_k = Σ_l S_kl, N_k = Σ_l N_kl and the
 * κ-discounted count Ñ_k = Σ_l κ_l N_kl. The index at round t (t − 1 = rounds learned from so far) is
 *
 *   U_k(t) = S_k/Ñ_k + √(N_k/Ñ_k) · √((1 + ε)·log t / (2Ñ_k)),    U_k = +∞ while Ñ_k = 0,
 *
 * and the K items with the largest indices go to the positions in order of decreasing κ (the
 * best item to the most examined position). Ties go to the lower item index, so the policy is
 * deterministic given its counts and its propensities are exactly 0 or 1.
 */
export class PbmUCB implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  readonly epsilon: number;
  /** S_kl and N_kl at `[k * K + l]`. */
  readonly positionClicks: Float64Array;
  readonly positionViews: Float64Array;
  /** Rounds learned from (calls of `update`). */
  rounds = 0;
  private kappa: Float64Array;
  private order: Int32Array;
  private readonly itemClicks: Float64Array;
  private readonly itemViews: Float64Array;
  private readonly itemEffectiveViews: Float64Array;
  private readonly scores: Float64Array;
  private readonly ranked: Int32Array;
  private readonly topScratch: Float64Array;
  /** The slate it would choose now, for its propensities. */
  private readonly ownSlate: Int32Array;

  constructor(options: PbmUCBOptions) {
    const { numItems, slateSize } = options;
    checkSizes(numItems, slateSize);
    const epsilon = options.epsilon ?? 1e-6;
    if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new ConfigError('epsilon', `expected a number ≥ 0, found ${String(epsilon)}`);
    this.name = options.name ?? 'pbm-ucb';
    this.numItems = numItems;
    this.slateSize = slateSize;
    this.epsilon = epsilon;
    this.kappa = positionWeightsFor(options.positionWeights, slateSize, 'positionWeights');
    this.order = positionsByWeight(this.kappa);
    this.positionClicks = new Float64Array(numItems * slateSize);
    this.positionViews = new Float64Array(numItems * slateSize);
    this.itemClicks = new Float64Array(numItems);
    this.itemViews = new Float64Array(numItems);
    this.itemEffectiveViews = new Float64Array(numItems);
    this.scores = new Float64Array(numItems);
    this.ranked = new Int32Array(slateSize);
    this.topScratch = new Float64Array(slateSize);
    this.ownSlate = new Int32Array(slateSize);
  }

  get positionWeights(): Float64Array {
    return this.kappa;
  }

  /** Replace κ (e.g. a fresh estimate); Ñ_k is recomputed from the kept per-position counts. */
  setPositionWeights(positionWeights: ArrayLike<number>): void {
    this.kappa = positionWeightsFor(positionWeights, this.slateSize, 'positionWeights');
    this.order = positionsByWeight(this.kappa);
    const K = this.slateSize;
    for (let i = 0; i < this.numItems; i++) {
      let effective = 0;
      for (let l = 0; l < K; l++) effective += this.kappa[l] * this.positionViews[i * K + l];
      this.itemEffectiveViews[i] = effective;
    }
  }

  /** U_k(t) of every item at the next round, into `out`. */
  indices(out: Float64Array = new Float64Array(this.numItems)): Float64Array {
    const logT = Math.log(this.rounds + 1);
    const c = (1 + this.epsilon) * logT;
    for (let i = 0; i < this.numItems; i++) {
      const nt = this.itemEffectiveViews[i];
      out[i] = nt > 0 ? this.itemClicks[i] / nt + Math.sqrt(this.itemViews[i] / nt) * Math.sqrt(c / (2 * nt)) : Infinity;
    }
    return out;
  }

  choose(_rng: RandomStream, slate: Int32Array): void {
    this.indices(this.scores);
    selectTopK(this.scores, this.numItems, this.slateSize, this.ranked, this.topScratch);
    for (let j = 0; j < this.slateSize; j++) slate[this.order[j]] = this.ranked[j];
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    const K = this.slateSize;
    for (let l = 0; l < K; l++) {
      if (!observed[l]) continue;
      const item = slate[l];
      this.positionViews[item * K + l] += 1;
      this.itemViews[item] += 1;
      this.itemEffectiveViews[item] += this.kappa[l];
      if (clicks[l]) {
        this.positionClicks[item * K + l] += 1;
        this.itemClicks[item] += 1;
      }
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
