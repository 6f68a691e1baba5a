/**
 * Off-policy estimates over a log that does not fit in memory: the rows arrive in batches, every
 * estimator reduces each batch to its per-row terms (the same `terms` as in memory: off-policy.ts),
 * and only sums are kept. For V̂ = mean_i d_i + (mean_i y_i, or Σ_i y_i / Σ_i w_i):
 *
 *     n = Σ_i 1,  D = Σ_i d_i,  Y = Σ_i y_i,  W = Σ_i w_i,
 *
 * added row by row in the log's order, so the estimate is the in-memory one to the last bit (and
 * does not depend on how the rows were cut into batches).
 *
 * Intervals: a **Poisson bootstrap** (Hanley & MacGibbon 2006; Chamandy et al. 2012, "Estimating
 * uncertainty for massive data streams"). Replicate b counts row i c_ib ~ Poisson(1) times, and
 * c_ib is a function of (seed, i, b) alone — a hash, not a random stream — so each replicate's
 * sums n_b = Σ c_ib, D_b = Σ c_ib d_i, Y_b, W_b accumulate as the rows pass, with no second copy of
 * the log and the same counts whatever the batches. As the multinomial bootstrap in memory
 * (`bootstrapInterval`), the interval is the (1 − level)/2 and (1 + level)/2 quantiles of the R
 * replicate values; the replicates' sizes n_b vary around n (Poisson(n)), which changes nothing to
 * first order for these smooth statistics and is the price of needing neither n in advance nor
 * a second pass. Cost: rows × R hash draws (one draw serves every estimator); memory: 4 sums × R
 * per estimator.
 *
 * The weight diagnostics (Kish's ESS, the largest weight's share) come from Σ w and Σ w², kept
 * scaled by the largest weight seen so far so that Σ w² cannot overflow, as `weightDiagnostics`.
 */
import { ConfigError } from '../core/errors.js';
import { DEFAULT_BOOTSTRAP_RESAMPLES, type OffPolicyInputs, type PolicyValueEstimator, type PolicyValueInterval, quantileSorted, type WeightDiagnostics } from './off-policy.js';

/** murmur3's 32-bit finaliser: a bijection of 32-bit integers that mixes every input bit into every output bit. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** P(Poisson(1) ≤ k) · 2^32 for k = 0 .. 15 (beyond 15 the probability is below 2^-32 · 10^-3). */
const POISSON_CDF: Float64Array = (() => {
  const cdf = new Float64Array(16);
  let p = Math.exp(-1);
  let sum = 0;
  for (let k = 0; k < cdf.length; k++) {
    sum += p;
    cdf[k] = sum * 2 ** 32;
    p /= k + 1;
  }
  return cdf;
})();

/** A 32-bit key of a seed (a number or a string). */
function seedKey(seed: string | number): number {
  const text = String(seed);
  let h = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) h = mix32(h ^ text.charCodeAt(i)) + i;
  return mix32(h);
}

/** The key of row `row` (an integer below 2^53) under a seed key: replicate b's count is `poissonCount(rowKey, b)`. */
function rowKey(seed: number, row: number): number {
  const lo = row >>> 0;
  const hi = Math.floor(row / 2 ** 32) >>> 0;
  return mix32(mix32(seed ^ lo) ^ Math.imul(hi + 1, 0x27d4eb2f));
}

/** Poisson(1) count of a row (by its key) in replicate b, by inversion of its CDF at a hashed uniform. */
function poissonCount(key: number, b: number): number {
  const u = mix32(key ^ Math.imul(b + 1, 0x9e3779b1));
  let k = 0;
  while (k < POISSON_CDF.length - 1 && u >= POISSON_CDF[k]) k++;
  return k;
}

/** The Poisson(1) counts the bootstrap gives row `row` in replicates 0 .. R − 1 (for tests and for other accumulators). */
export function poissonBootstrapCounts(seed: string | number, row: number, resamples: number): Int32Array {
  const key = rowKey(seedKey(seed), row);
  return Int32Array.from({ length: resamples }, (_, b) => poissonCount(key, b));
}

export interface StreamingIntervalOptions {
  /** Coverage (default 0.95). */
  readonly level?: number;
  /** Poisson-bootstrap replicates (default 10,000, as in memory; each costs a hash per row). */
  readonly resamples?: number;
  /** Seed of the per-row counts (default 1). */
  readonly seed?: string | number;
}

/** One estimator's running sums. */
class Sums {
  n = 0;
  direct = 0;
  weighted = 0;
  normalizer = 0;
  hasDirect = false;
  hasNormalizer = false;
  hasWeights = false;
  /** Σ (w / scale), Σ (w / scale)², scale = the largest |w| so far. */
  s1 = 0;
  s2 = 0;
  scale = 0;
  maxUnit = 0;
  readonly replicates: Float64Array;

  constructor(resamples: number) {
    // n_b, D_b, Y_b, W_b per replicate.
    this.replicates = new Float64Array(4 * resamples);
  }
}

/**
 * Estimates and Poisson-bootstrap intervals of `estimators` over rows given in batches (`add`), in
 * the log's order. `result()` gives, per estimator, what `estimateInterval` gives in memory.
 */
export class StreamingOffPolicyEstimates {
  private readonly sums: Sums[];
  private readonly level: number;
  private readonly resamples: number;
  private readonly seed: number;
  private rows = 0;

  constructor(
    readonly estimators: readonly PolicyValueEstimator<OffPolicyInputs>[],
    options: StreamingIntervalOptions = {},
  ) {
    this.level = options.level ?? 0.95;
    this.resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
    if (!(this.level > 0 && this.level < 1)) throw new ConfigError('level', `expected a number in (0, 1), found ${this.level}`);
    if (!Number.isInteger(this.resamples) || this.resamples < 1) throw new ConfigError('resamples', `expected an integer ≥ 1, found ${this.resamples}`);
    this.seed = seedKey(options.seed ?? 1);
    this.sums = estimators.map(() => new Sums(this.resamples));
  }

  /** Rows added so far. */
  get rowsSeen(): number {
    return this.rows;
  }

  /** The next rows of the log (the estimators' inputs for these rows only). */
  add(batch: OffPolicyInputs): void {
    const n = batch.reward.length;
    const R = this.resamples;
    const terms = this.estimators.map((e) => e.terms(batch));
    for (const t of terms) if (t.groups !== 1 || t.units !== n) throw new RangeError('streaming estimates take row-level estimators (one group, one unit per row)');
    const counts = new Int32Array(R);
    for (let i = 0; i < n; i++) {
      const key = rowKey(this.seed, this.rows + i);
      for (let b = 0; b < R; b++) counts[b] = poissonCount(key, b);
      for (let e = 0; e < terms.length; e++) {
        const t = terms[e];
        const s = this.sums[e];
        const d = t.direct === null ? 0 : t.direct[i];
        const y = t.weighted[i];
        const w = t.normalizer === null ? 0 : t.normalizer[i];
        s.n++;
        s.direct += d;
        s.weighted += y;
        s.normalizer += w;
        s.hasDirect = t.direct !== null;
        s.hasNormalizer = t.normalizer !== null;
        const reps = s.replicates;
        for (let b = 0; b < R; b++) {
          const c = counts[b];
          if (c === 0) continue;
          const o = 4 * b;
          reps[o] += c;
          reps[o + 1] += c * d;
          reps[o + 2] += c * y;
          reps[o + 3] += c * w;
        }
        if (t.unitWeights != null) {
          s.hasWeights = true;
          const v = Math.abs(t.unitWeights[i]);
          if (v > s.scale) {
            const ratio = s.scale / v;
            s.s1 *= ratio;
            s.s2 *= ratio * ratio;
            s.scale = v;
            s.maxUnit = this.rows + i;
          }
          if (s.scale > 0) {
            const u = t.unitWeights[i] / s.scale;
            s.s1 += u;
            s.s2 += u * u;
          }
        }
      }
    }
    this.rows += n;
  }

  /** Per estimator, its estimate, weight diagnostics and Poisson-bootstrap interval. */
  result(): PolicyValueInterval[] {
    if (this.rows === 0) throw new ConfigError('log', 'expected at least one logged row, found none');
    return this.estimators.map((estimator, e) => {
      const s = this.sums[e];
      const value = (n: number, d: number, y: number, w: number) => (s.hasDirect ? d / n : 0) + (s.hasNormalizer ? (w > 0 ? y / w : 0) : y / n);
      const estimate = value(s.n, s.direct, s.weighted, s.normalizer);
      if (!Number.isFinite(estimate)) throw new ConfigError(estimator.name, `the estimate is ${estimate}: the importance weights or rewards overflow (check pscore for probabilities near 0)`);
      const values = new Float64Array(this.resamples);
      for (let b = 0; b < this.resamples; b++) {
        const o = 4 * b;
        if (s.replicates[o] === 0) {
          throw new ConfigError('log', `Poisson-bootstrap replicate ${b + 1} drew no row (${this.rows} rows): the log is too small for a streamed interval; read it into memory`);
        }
        values[b] = value(s.replicates[o], s.replicates[o + 1], s.replicates[o + 2], s.replicates[o + 3]);
      }
      values.sort();
      let sum = 0;
      for (let b = 0; b < this.resamples; b++) sum += values[b];
      const weights: WeightDiagnostics | null = !s.hasWeights
        ? null
        : s.scale === 0
          ? { units: s.n, effectiveSampleSize: 0, maxWeightShare: 0, maxWeightUnit: s.maxUnit, maxWeight: 0 }
          : { units: s.n, effectiveSampleSize: (s.s1 * s.s1) / s.s2, maxWeightShare: 1 / s.s1, maxWeightUnit: s.maxUnit, maxWeight: s.scale };
      return {
        estimate,
        weights,
        bootstrapMean: sum / this.resamples,
        lower: quantileSorted(values, (1 - this.level) / 2),
        upper: quantileSorted(values, (1 + this.level) / 2),
        level: this.level,
        resamples: this.resamples,
      };
    });
  }
}
