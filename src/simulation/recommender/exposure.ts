import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import { checkInteger, checkNumber } from './world.js';

/**
 * Exposure: which items a user is shown at all. Implicit feedback is missing not at random because
 * a click needs both exposure and preference: Y_ui = O_ui · R_ui, O_ui ~ Bernoulli(θ_i), independent
 * across items and users (θ depends on the item only here).
 *
 * Sampling is exact and never touches every item: items are sorted by θ descending and cut into runs
 * whose θ lie within a factor 2 of the run's largest, θ_max. Within a run, candidates are drawn by
 * geometric skipping at rate θ_max (gap G with P(G ≥ g) = (1 − θ_max)^g, so every position is a
 * candidate independently with probability θ_max), and a candidate item i is kept with probability
 * θ_i / θ_max (thinning). Each item is therefore exposed independently with probability exactly
 * θ_max · θ_i / θ_max = θ_i. Cost per user: at most 2·Σθ candidates plus one overshooting draw per
 * run (about log2(θ_largest / θ_smallest) runs), then a sort of the exposed items into ascending order.
 */
export class ExposureModel {
  /** θ_i: the probability that item i is shown to a user. */
  readonly probability: Float64Array;
  /** Items by θ descending (ties: lower index first); runs are ranges of this order. */
  private readonly order: Int32Array;
  private readonly runStart: Int32Array;
  private readonly runEnd: Int32Array;
  private readonly runMax: Float64Array;
  /** log(1 − θ_max) of each run (−∞ when θ_max = 1, which makes every gap 0). */
  private readonly runLogMiss: Float64Array;

  constructor(probability: Float64Array) {
    for (let i = 0; i < probability.length; i++) {
      const p = probability[i];
      if (!(p >= 0 && p <= 1)) throw new ConfigError('exposure.probability', `expected values in [0, 1], found ${p} at item ${i}`);
    }
    this.probability = probability;
    this.order = Int32Array.from({ length: probability.length }, (_, i) => i).sort((a, b) => probability[b] - probability[a] || a - b);
    const starts: number[] = [];
    const ends: number[] = [];
    for (let s = 0; s < this.order.length && probability[this.order[s]] > 0; ) {
      const floor = probability[this.order[s]] / 2;
      let e = s + 1;
      while (e < this.order.length && probability[this.order[e]] >= floor) e++;
      starts.push(s);
      ends.push(e);
      s = e;
    }
    this.runStart = Int32Array.from(starts);
    this.runEnd = Int32Array.from(ends);
    this.runMax = Float64Array.from(starts, (s) => probability[this.order[s]]);
    this.runLogMiss = this.runMax.map((p) => Math.log1p(-p));
  }

  get numItems(): number {
    return this.probability.length;
  }

  /** Σ_i θ_i: the expected number of items shown to a user. */
  get expectedExposures(): number {
    let total = 0;
    for (let i = 0; i < this.probability.length; i++) total += this.probability[i];
    return total;
  }

  /**
   * Draws one user's exposed items into `out` (length ≥ numItems), ascending; returns how many.
   * Each item is included independently with probability θ_i.
   */
  sample(rng: RandomStream, out: Int32Array): number {
    if (out.length < this.numItems) {
      throw new ConfigError('exposure.sample.out', `expected length ≥ ${this.numItems} (the number of items), found ${out.length}`);
    }
    const theta = this.probability;
    const order = this.order;
    let count = 0;
    for (let r = 0; r < this.runStart.length; r++) {
      const max = this.runMax[r];
      const logMiss = this.runLogMiss[r];
      const end = this.runEnd[r];
      // Float position: a gap at a tiny θ_max can be far larger than 2^31.
      let j = this.runStart[r] - 1;
      for (;;) {
        // 1 − U ∈ (0, 1], so the log is finite and the gap ≥ 0.
        j += 1 + Math.floor(Math.log(1 - rng.uniform()) / logMiss);
        if (j >= end) break;
        const item = order[j];
        // The run's largest θ needs no thinning draw: the same law, one uniform fewer.
        if (theta[item] === max || rng.uniform() * max < theta[item]) out[count++] = item;
      }
    }
    out.subarray(0, count).sort();
    return count;
  }
}

/**
 * Popularity-driven exposure (the Rel-MF setting):
 *     θ_i = clamp(c · π_i^γ, θ_min, 1),
 * with π_i the world's popularity share, γ ≥ 0 (default 1; γ = 0 shows every item with the same
 * probability n / I), θ_min ∈ [0, 1] (default 0; θ_i > 0 anyway since π_i > 0), and c solved for so
 * that Σ_i θ_i = n, the expected number of exposures per user (default 50). Σθ is continuous and
 * non-decreasing in c, so c is found by bisection on log c to relative precision 10^−15.
 *
 * Rel-MF (Saito et al., WSDM 2020) estimates θ̂_i = (n_i⁺ / max_j n_j⁺)^0.5 from click counts n_i⁺: a
 * power of popularity, normalised so the most popular item has θ = 1, which is this family. It is
 * only an approximation here: E n_i⁺ = U · θ_i · r̄_i (r̄_i the item's mean preference, itself
 * ∝ roughly π_i^β), so θ̂ has the right shape only when θ_i ∝ (θ_i r̄_i)^0.5 and the right scale only
 * when the top item is saturated; the hidden θ lets one measure how misspecified it is.
 */
export interface PopularityExposureSpec {
  /** n: the expected number of items shown to each user, in (0, I] (default 50). */
  readonly expectedExposures?: number;
  /** γ ≥ 0 (default 1). */
  readonly popularityExponent?: number;
  /** θ_min ∈ [0, 1] with θ_min · I ≤ n (default 0). */
  readonly minProbability?: number;
}

export interface PopularityExposureParams {
  readonly expectedExposures: number;
  readonly popularityExponent: number;
  readonly minProbability: number;
}

export class PopularityExposure extends ExposureModel {
  readonly params: PopularityExposureParams;
  /** The solved scale c. */
  readonly scale: number;

  constructor(popularity: Float64Array, spec: PopularityExposureSpec = {}) {
    const params: PopularityExposureParams = {
      expectedExposures: spec.expectedExposures ?? 50,
      popularityExponent: spec.popularityExponent ?? 1,
      minProbability: spec.minProbability ?? 0,
    };
    const { scale, probability } = solveExposure(popularity, params);
    super(probability);
    this.params = params;
    this.scale = scale;
  }
}

function solveExposure(popularity: Float64Array, params: PopularityExposureParams): { scale: number; probability: Float64Array } {
  const numItems = popularity.length;
  checkInteger('exposure.numItems', numItems, 1, 2 ** 31 - 1);
  const { expectedExposures: n, popularityExponent: gamma, minProbability: floor } = params;
  checkNumber('exposure.popularityExponent', gamma, 0, Infinity, 'a finite number ≥ 0');
  checkNumber('exposure.minProbability', floor, 0, 1, 'a number in [0, 1]');
  if (!(Number.isFinite(n) && n > 0 && n <= numItems)) throw new ConfigError('exposure.expectedExposures', `expected a number in (0, ${numItems}] (the number of items), found ${n}`);
  if (floor * numItems > n) {
    throw new ConfigError('exposure.minProbability', `expected θ_min · ${numItems} items ≤ expectedExposures = ${n}, found θ_min = ${floor}`);
  }

  const weight = new Float64Array(numItems);
  let weightSum = 0;
  let weightMin = Infinity;
  for (let i = 0; i < numItems; i++) {
    const p = popularity[i];
    if (!(p > 0 && p <= 1)) throw new ConfigError('exposure.popularity', `expected shares in (0, 1], found ${p} at item ${i}`);
    weight[i] = Math.pow(p, gamma);
    weightSum += weight[i];
    if (weight[i] < weightMin) weightMin = weight[i];
  }
  if (!(weightMin > 0)) {
    throw new ConfigError('exposure.popularityExponent', `expected π_i^γ > 0 for every item, found an underflow to 0 at γ = ${gamma}: use a smaller γ`);
  }
  const total = (c: number) => {
    let sum = 0;
    for (let i = 0; i < numItems; i++) sum += Math.min(1, Math.max(floor, c * weight[i]));
    return sum;
  };

  let scale: number;
  if (n <= floor * numItems)
    scale = 0; // every θ sits at the floor
  else if (n >= numItems)
    scale = 1 / weightMin; // every θ is 1
  else {
    // clamp(cw, θ_min, 1) ≤ cw + θ_min, so Σθ(lo) ≤ n; Σθ(hi) = I ≥ n.
    let lo = (n - floor * numItems) / weightSum;
    let hi = 1 / weightMin;
    for (let iter = 0; iter < 200 && hi > lo * (1 + 1e-15); iter++) {
      const mid = Math.sqrt(lo * hi);
      if (total(mid) < n) lo = mid;
      else hi = mid;
    }
    scale = 0.5 * (lo + hi);
  }
  const probability = new Float64Array(numItems);
  for (let i = 0; i < numItems; i++) probability[i] = Math.min(1, Math.max(floor, scale * weight[i]));
  return { scale, probability };
}
