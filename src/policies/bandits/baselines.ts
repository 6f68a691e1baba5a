import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { checkSizes, deterministicPropensities, type FeedbackSemantics, monteCarloPropensities, preparePropensities, selectTopK, uniformOpen, sameSlate, uniformSlateProbability } from './common.js';

interface BaseOptions {
  numItems: number;
  slateSize: number;
  name?: string;
}

/**
 * Writes K distinct uniformly random items into `slate` by a partial Fisher–Yates shuffle of
 * `perm` (a permutation of 0..n−1), then undoes the swaps so `perm` is unchanged: O(K), no allocation.
 */
function uniformSlate(rng: RandomStream, perm: Int32Array, swaps: Int32Array, slate: Int32Array, K: number): void {
  const n = perm.length;
  for (let k = 0; k < K; k++) {
    const j = k + rng.int(n - k);
    swaps[k] = j;
    const t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
    slate[k] = perm[k];
  }
  for (let k = K - 1; k >= 0; k--) {
    const j = swaps[k];
    const t = perm[k];
    perm[k] = perm[j];
    perm[j] = t;
  }
}

/** Uniformly random slates: every ordered K-subset equally likely, so P(item i at position k) = 1/numItems exactly. */
export class UniformRandomPolicy implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  private readonly perm: Int32Array;
  private readonly swaps: Int32Array;

  constructor(options: BaseOptions) {
    checkSizes(options.numItems, options.slateSize);
    this.name = options.name ?? 'random';
    this.numItems = options.numItems;
    this.slateSize = options.slateSize;
    this.perm = Int32Array.from({ length: this.numItems }, (_, i) => i);
    this.swaps = new Int32Array(this.slateSize);
  }

  choose(rng: RandomStream, slate: Int32Array): void {
    uniformSlate(rng, this.perm, this.swaps, slate, this.slateSize);
  }

  update(): void {}

  positionPropensities(_rng: RandomStream, _draws: number, out: Float64Array): void {
    preparePropensities(this.numItems, this.slateSize, 1, out, false);
    out.fill(1 / this.numItems, 0, this.numItems * this.slateSize);
  }

  slateProbability(): number {
    return uniformSlateProbability(this.numItems, this.slateSize);
  }
}

export interface GreedyOptions extends BaseOptions {
  /** The CTR an item counts with before its first observation. Default 1 (optimistic: each item is tried). */
  unseenScore?: number;
}

/**
 * Greedy: the K items with the highest empirical CTR S_i/N_i (observed positions, any position),
 * `unseenScore` for items never observed; ties go to the lower item index, so it is deterministic
 * and its propensities are exactly 0 or 1.
 */
export class GreedyPolicy implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  readonly unseenScore: number;
  readonly clicks: Float64Array;
  readonly views: Float64Array;
  protected readonly greedySlate: Int32Array;
  private readonly ctr: Float64Array;
  private readonly topScratch: Float64Array;

  constructor(options: GreedyOptions, defaultName = 'greedy') {
    checkSizes(options.numItems, options.slateSize);
    this.name = options.name ?? defaultName;
    this.numItems = options.numItems;
    this.slateSize = options.slateSize;
    this.unseenScore = options.unseenScore ?? 1;
    if (!Number.isFinite(this.unseenScore)) throw new ConfigError('unseenScore', `expected a finite number, found ${String(this.unseenScore)}`);
    this.clicks = new Float64Array(this.numItems);
    this.views = new Float64Array(this.numItems);
    this.greedySlate = new Int32Array(this.slateSize);
    this.ctr = new Float64Array(this.numItems);
    this.topScratch = new Float64Array(this.slateSize);
  }

  /** The current greedy slate into `slate`. */
  protected chooseGreedy(slate: Int32Array): void {
    for (let i = 0; i < this.numItems; i++) this.ctr[i] = this.views[i] > 0 ? this.clicks[i] / this.views[i] : this.unseenScore;
    selectTopK(this.ctr, this.numItems, this.slateSize, slate, this.topScratch);
  }

  choose(_rng: RandomStream, slate: Int32Array): void {
    this.chooseGreedy(slate);
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    for (let k = 0; k < this.slateSize; k++) {
      if (!observed[k]) continue;
      this.views[slate[k]] += 1;
      if (clicks[k]) this.clicks[slate[k]] += 1;
    }
  }

  /** Exact 0/1 (the rng and draws are not used). */
  positionPropensities(_rng: RandomStream, _draws: number, out: Float64Array): void {
    this.chooseGreedy(this.greedySlate);
    deterministicPropensities(this.greedySlate, this.numItems, out);
  }

  slateProbability(slate: Int32Array): number {
    this.chooseGreedy(this.greedySlate);
    return sameSlate(slate, this.greedySlate) ? 1 : 0;
  }
}

export interface EpsilonGreedyOptions extends GreedyOptions {
  /** Probability of a uniformly random slate instead of the greedy one. Default 0.1. */
  epsilon?: number;
}

/**
 * ε-greedy: with probability ε a uniformly random slate, else the greedy slate. Exact propensities:
 *
 *   P(item i at position k) = (1 − ε)·1[greedy slate has i at k] + ε/numItems.
 */
export class EpsilonGreedyPolicy extends GreedyPolicy {
  readonly epsilon: number;
  private readonly perm: Int32Array;
  private readonly swaps: Int32Array;

  constructor(options: EpsilonGreedyOptions) {
    super(options, 'epsilon-greedy');
    this.epsilon = options.epsilon ?? 0.1;
    if (!(this.epsilon >= 0 && this.epsilon <= 1)) throw new ConfigError('epsilon', `expected a probability in [0, 1], found ${String(this.epsilon)}`);
    this.perm = Int32Array.from({ length: this.numItems }, (_, i) => i);
    this.swaps = new Int32Array(this.slateSize);
  }

  override choose(rng: RandomStream, slate: Int32Array): void {
    if (rng.uniform() < this.epsilon) uniformSlate(rng, this.perm, this.swaps, slate, this.slateSize);
    else this.chooseGreedy(slate);
  }

  override positionPropensities(_rng: RandomStream, _draws: number, out: Float64Array): void {
    const K = this.slateSize;
    preparePropensities(this.numItems, K, 1, out, false);
    out.fill(this.epsilon / this.numItems, 0, this.numItems * K);
    this.chooseGreedy(this.greedySlate);
    for (let k = 0; k < K; k++) out[this.greedySlate[k] * K + k] += 1 - this.epsilon;
  }

  /** (1 − ε)·1[the greedy slate] + ε / (n (n − 1) … (n − K + 1)). */
  override slateProbability(slate: Int32Array): number {
    return (1 - this.epsilon) * super.slateProbability(slate) + this.epsilon * uniformSlateProbability(this.numItems, this.slateSize);
  }
}

/** Scores for the Plackett–Luce policy: one array for every round, or a function of the round's context. */
export type PlackettLuceScores = Float64Array | ((context: number | undefined, out: Float64Array) => void);

export interface PlackettLuceOptions extends BaseOptions {
  scores: PlackettLuceScores;
  /** τ in P(i first) ∝ exp(s_i/τ). Default 1. */
  temperature?: number;
}

/**
 * A stochastic Plackett–Luce policy around fixed scores s (a logging policy; it does not learn):
 * the slate is drawn item by item without replacement with P ∝ exp(s_i/τ). Sampled by Gumbel-top-K:
 * the K largest of s_i/τ + G_i, G_i = −log(−log U_i) i.i.d. Gumbel, are exactly a Plackett–Luce
 * draw, in order. Position 1 is exactly the softmax of s/τ, written in closed form; positions 2..K
 * have no simple closed form and are Monte Carlo.
 */
export class PlackettLucePolicy implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  readonly temperature: number;
  private scores: PlackettLuceScores;
  private readonly current: Float64Array;
  private readonly perturbed: Float64Array;
  private readonly topScratch: Float64Array;
  private readonly mcSlate: Int32Array;

  constructor(options: PlackettLuceOptions) {
    checkSizes(options.numItems, options.slateSize);
    this.name = options.name ?? 'plackett-luce';
    this.numItems = options.numItems;
    this.slateSize = options.slateSize;
    this.temperature = options.temperature ?? 1;
    if (!(this.temperature > 0) || !Number.isFinite(this.temperature)) throw new ConfigError('temperature', `expected a number > 0, found ${String(this.temperature)}`);
    this.scores = this.checkScores(options.scores);
    this.current = new Float64Array(this.numItems);
    this.perturbed = new Float64Array(this.numItems);
    this.topScratch = new Float64Array(this.slateSize);
    this.mcSlate = new Int32Array(this.slateSize);
  }

  /** Replace the scores (e.g. after retraining the model behind them). */
  setScores(scores: PlackettLuceScores): void {
    this.scores = this.checkScores(scores);
  }

  /** The exact position-1 probabilities softmax(s/τ) for a context, into `out`. */
  firstPositionProbabilities(context?: number, out: Float64Array = new Float64Array(this.numItems)): Float64Array {
    const s = this.scoresFor(context);
    let max = -Infinity;
    for (let i = 0; i < this.numItems; i++) if (s[i] > max) max = s[i];
    let total = 0;
    for (let i = 0; i < this.numItems; i++) {
      out[i] = Math.exp((s[i] - max) / this.temperature);
      total += out[i];
    }
    for (let i = 0; i < this.numItems; i++) out[i] /= total;
    return out;
  }

  choose(rng: RandomStream, slate: Int32Array, context?: number): void {
    const s = this.scoresFor(context);
    const inv = 1 / this.temperature;
    for (let i = 0; i < this.numItems; i++) this.perturbed[i] = s[i] * inv - Math.log(-Math.log(uniformOpen(rng)));
    selectTopK(this.perturbed, this.numItems, this.slateSize, slate, this.topScratch);
  }

  update(): void {}

  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void {
    const K = this.slateSize;
    if (K > 1) monteCarloPropensities(this, rng, draws, out, this.mcSlate, context);
    else preparePropensities(this.numItems, K, draws, out, false);
    const first = this.firstPositionProbabilities(context, this.perturbed);
    for (let i = 0; i < this.numItems; i++) out[i * K] = first[i];
  }

  /** ∏_k exp(s_{a_k}/τ) / Σ_{i not among a_1..a_{k−1}} exp(s_i/τ): the Plackett–Luce probability of the ordered slate. */
  slateProbability(slate: Int32Array, context?: number): number {
    const weights = this.firstPositionProbabilities(context, this.perturbed);
    let remaining = 1;
    let p = 1;
    for (let k = 0; k < slate.length; k++) {
      p *= weights[slate[k]] / remaining;
      remaining -= weights[slate[k]];
    }
    return p;
  }

  private scoresFor(context: number | undefined): Float64Array {
    if (typeof this.scores !== 'function') return this.scores;
    this.scores(context, this.current);
    return this.current;
  }

  private checkScores(scores: PlackettLuceScores): PlackettLuceScores {
    if (typeof scores === 'function') return scores;
    if (!(scores instanceof Float64Array) || scores.length !== this.numItems) {
      throw new ConfigError(
        'scores',
        `expected a Float64Array of ${this.numItems} scores (one per item) or a function, found ${scores instanceof Float64Array ? `${scores.length} scores` : typeof scores}`,
      );
    }
    for (let i = 0; i < scores.length; i++) {
      if (!Number.isFinite(scores[i])) throw new ConfigError(`scores[${i}]`, `expected a finite number, found ${scores[i]}`);
    }
    return scores;
  }
}
