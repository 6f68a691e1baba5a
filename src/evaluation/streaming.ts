/**
 * Off-policy estimates over a log that does not fit in memory: the rows arrive in batches, every
 * estimator reduces each batch to its per-unit terms (the same `terms` as in memory: off-policy.ts;
 * a unit is a row, or a slate whose rows all lie in one batch), and only sums are kept. For
 * V̂ = mean_i d_i + Σ_g (mean_i y_ig, or Σ_i y_ig / Σ_i w_ig), g over the groups (1, or positions):
 *
 *     n = Σ_i 1,  D = Σ_i d_i,  Y_g = Σ_i y_ig,  W_g = Σ_i w_ig,
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
 * a second pass. Cost: units × R hash draws (one draw serves every estimator); memory: 2 + 2G sums
 * × R per estimator (G groups: 4 for row-level estimators).
 *
 * The weight diagnostics (Kish's ESS, the largest weight's share) come from Σ w and Σ w², kept
 * scaled by the largest weight seen so far so that Σ w² cannot overflow, as `weightDiagnostics`.
 */
import { ConfigError } from '../core/errors.js';
import { mix32, rowKey, seedKey } from '../core/row-hash.js';
import { DEFAULT_BOOTSTRAP_RESAMPLES, type OffPolicyInputs, type PolicyValueEstimator, type PolicyValueInterval, quantileSorted, type ValueTerms, type WeightDiagnostics } from './off-policy.js';

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

/** One estimator's running sums over `groups` groups. */
class Sums {
  n = 0;
  direct = 0;
  readonly weighted: Float64Array;
  readonly normalizer: Float64Array;
  hasDirect = false;
  hasNormalizer = false;
  hasWeights = false;
  /** Σ (w / scale), Σ (w / scale)², scale = the largest |w| so far. */
  s1 = 0;
  s2 = 0;
  scale = 0;
  maxUnit = 0;
  /** Per replicate: n_b, D_b, then Y_gb, W_gb per group. */
  readonly replicates: Float64Array;

  constructor(
    readonly groups: number,
    resamples: number,
  ) {
    this.weighted = new Float64Array(groups);
    this.normalizer = new Float64Array(groups);
    this.replicates = new Float64Array((2 + 2 * groups) * resamples);
  }
}

/**
 * Estimates and Poisson-bootstrap intervals of several estimators from their terms, given a batch of
 * units at a time in the log's order (`add`); `result()` gives, per estimator, what
 * `estimateInterval` gives in memory on all the units at once.
 */
export class StreamingTermSums {
  private readonly sums: Sums[];
  private readonly level: number;
  private readonly resamples: number;
  private readonly seed: number;
  private units = 0;

  /** `names` name the estimators (in errors); each has at most `groups` groups. */
  constructor(
    private readonly names: readonly string[],
    groups: number,
    options: StreamingIntervalOptions = {},
  ) {
    this.level = options.level ?? 0.95;
    this.resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
    if (!(this.level > 0 && this.level < 1)) throw new ConfigError('level', `expected a number in (0, 1), found ${this.level}`);
    if (!Number.isInteger(this.resamples) || this.resamples < 1) throw new ConfigError('resamples', `expected an integer ≥ 1, found ${this.resamples}`);
    this.seed = seedKey(options.seed ?? 1);
    this.sums = names.map(() => new Sums(groups, this.resamples));
  }

  /** Units added so far. */
  get unitsSeen(): number {
    return this.units;
  }

  /** The next units' terms, one per estimator (the same units for all; unit i is unit `unitsSeen + i` of the log). */
  add(terms: readonly ValueTerms[]): void {
    const n = terms[0].units;
    const R = this.resamples;
    for (let e = 0; e < terms.length; e++) {
      if (terms[e].units !== n || terms[e].groups > this.sums[e].groups) throw new RangeError(`streamed terms: expected ${n} units and at most ${this.sums[e].groups} groups`);
    }
    const counts = new Int32Array(R);
    for (let i = 0; i < n; i++) {
      const key = rowKey(this.seed, this.units + i);
      for (let b = 0; b < R; b++) counts[b] = poissonCount(key, b);
      for (let e = 0; e < terms.length; e++) {
        const t = terms[e];
        const s = this.sums[e];
        const G = t.groups;
        const stride = 2 + 2 * s.groups;
        const d = t.direct === null ? 0 : t.direct[i];
        s.n++;
        s.direct += d;
        s.hasDirect = t.direct !== null;
        s.hasNormalizer = t.normalizer !== null;
        for (let g = 0; g < G; g++) {
          s.weighted[g] += t.weighted[i * G + g];
          s.normalizer[g] += t.normalizer === null ? 0 : t.normalizer[i * G + g];
        }
        const reps = s.replicates;
        for (let b = 0; b < R; b++) {
          const c = counts[b];
          if (c === 0) continue;
          const o = stride * b;
          reps[o] += c;
          reps[o + 1] += c * d;
          for (let g = 0; g < G; g++) {
            reps[o + 2 + 2 * g] += c * t.weighted[i * G + g];
            reps[o + 3 + 2 * g] += c * (t.normalizer === null ? 0 : t.normalizer[i * G + g]);
          }
        }
        if (t.unitWeights != null) {
          s.hasWeights = true;
          const v = Math.abs(t.unitWeights[i]);
          if (v > s.scale) {
            const ratio = s.scale / v;
            s.s1 *= ratio;
            s.s2 *= ratio * ratio;
            s.scale = v;
            s.maxUnit = this.units + i;
          }
          if (s.scale > 0) {
            const u = t.unitWeights[i] / s.scale;
            s.s1 += u;
            s.s2 += u * u;
          }
        }
      }
    }
    this.units += n;
  }

  /** Per estimator, its estimate, weight diagnostics and Poisson-bootstrap interval. */
  result(): PolicyValueInterval[] {
    if (this.units === 0) throw new ConfigError('log', 'expected at least one logged row, found none');
    return this.names.map((name, e) => {
      const s = this.sums[e];
      const G = s.groups;
      // As valueOfTerms: the direct mean, then each group's mean or ratio, added in this order.
      const value = (sums: Float64Array, o: number): number => {
        const n = sums[o];
        let total = s.hasDirect ? sums[o + 1] / n : 0;
        for (let g = 0; g < G; g++) {
          const y = sums[o + 2 + 2 * g];
          const w = sums[o + 3 + 2 * g];
          total += s.hasNormalizer ? (w > 0 ? y / w : 0) : y / n;
        }
        return total;
      };
      const full = new Float64Array(2 + 2 * G);
      full[0] = s.n;
      full[1] = s.direct;
      for (let g = 0; g < G; g++) {
        full[2 + 2 * g] = s.weighted[g];
        full[3 + 2 * g] = s.normalizer[g];
      }
      const estimate = value(full, 0);
      if (!Number.isFinite(estimate)) throw new ConfigError(name, `the estimate is ${estimate}: the importance weights or rewards overflow (check pscore for probabilities near 0)`);
      const values = new Float64Array(this.resamples);
      for (let b = 0; b < this.resamples; b++) {
        const o = (2 + 2 * G) * b;
        if (s.replicates[o] === 0) {
          throw new ConfigError('log', `Poisson-bootstrap replicate ${b + 1} drew no unit (${this.units} units): the log is too small for a streamed interval; read it into memory`);
        }
        values[b] = value(s.replicates, o);
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

/**
 * Estimates and Poisson-bootstrap intervals of row-level `estimators` over rows given in batches
 * (`add`), in the log's order. `result()` gives, per estimator, what `estimateInterval` gives in memory.
 */
export class StreamingOffPolicyEstimates {
  private readonly sums: StreamingTermSums;

  constructor(
    readonly estimators: readonly PolicyValueEstimator<OffPolicyInputs>[],
    options: StreamingIntervalOptions = {},
  ) {
    this.sums = new StreamingTermSums(
      estimators.map((e) => e.name),
      1,
      options,
    );
  }

  /** Rows added so far. */
  get rowsSeen(): number {
    return this.sums.unitsSeen;
  }

  /** The next rows of the log (the estimators' inputs for these rows only). */
  add(batch: OffPolicyInputs): void {
    const n = batch.reward.length;
    const terms = this.estimators.map((e) => e.terms(batch));
    for (const t of terms) if (t.groups !== 1 || t.units !== n) throw new RangeError('streaming estimates take row-level estimators (one group, one unit per row)');
    this.sums.add(terms);
  }

  /** Per estimator, its estimate, weight diagnostics and Poisson-bootstrap interval. */
  result(): PolicyValueInterval[] {
    return this.sums.result();
  }
}
