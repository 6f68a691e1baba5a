/**
 * The shared shape of clicklab's off-policy estimators (the Open Bandit Pipeline's): every estimator
 * takes the same named inputs and has two methods, `estimate` (the policy value) and
 * `estimateInterval` (a seeded percentile bootstrap). Internally every estimator reduces its inputs
 * to per-unit terms (`ValueTerms`) of one common form,
 *
 *     V̂ = mean_i d_i + Σ_g A_g,   A_g = mean_i y_ig            (plain), or
 *                                  A_g = Σ_i y_ig / Σ_i w_ig     (self-normalised),
 *
 * where i runs over the bootstrap units (rows, or slates) and g over groups (1, or the slate
 * positions). The bootstrap resamples units and recomputes this formula, so self-normalised
 * estimators are renormalised in every resample (OBP instead resamples already-normalised rows).
 */
import { ConfigError } from '../core/errors.js';
import { randomStream } from '../core/random.js';

/**
 * Probabilities (or reward estimates) per logged row, action and position, row-major
 * `values[(row · numActions + action) · numPositions + position]`: OBP's `action_dist` of shape
 * (n_rounds, n_actions, len_list).
 */
export interface ActionArray {
  readonly numActions: number;
  readonly numPositions: number;
  readonly values: Float64Array;
}

/** The inputs of every standard (row-level) estimator, by OBP's names. */
export interface OffPolicyInputs {
  /** Observed reward r_i per row. */
  readonly reward: ArrayLike<number>;
  /** Logged action a_i per row (0 .. numActions − 1). */
  readonly action: ArrayLike<number>;
  /** 0-based position k_i per row; absent means every row is at position 0. */
  readonly position?: ArrayLike<number>;
  /** The logging policy's probability π_b(a_i | x_i, k_i) of the logged action at its position. */
  readonly pscore: ArrayLike<number>;
  /** The evaluation policy's probabilities π_e(a | x_i, k) for every action and position. */
  readonly actionDist: ActionArray;
  /** A reward model's q̂(x_i, a, k) for every action and position (DM and the DR family). */
  readonly estimatedRewards?: ActionArray;
}

export interface IntervalOptions {
  /** Coverage of the interval (default 0.95). */
  readonly level?: number;
  /** Bootstrap resamples (default 10,000, as OBP). */
  readonly resamples?: number;
  /** Seed of the resampling stream (default 1). */
  readonly seed?: string | number;
}

export interface PolicyValueInterval {
  /** The estimate on the full sample. */
  readonly estimate: number;
  /** How evenly the importance weights spread over the units (null for an estimator without weights, DM). */
  readonly weights: WeightDiagnostics | null;
  /** Mean of the bootstrap estimates. */
  readonly bootstrapMean: number;
  readonly lower: number;
  readonly upper: number;
  readonly level: number;
  readonly resamples: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;

/** The per-unit terms of an estimate: V̂ = mean(direct) + Σ_g (mean(weighted_g) or Σ weighted_g / Σ normalizer_g). */
export interface ValueTerms {
  readonly units: number;
  readonly groups: number;
  /** d_i, or null when the estimator has no direct (model) part. */
  readonly direct: Float64Array | null;
  /** y_ig, unit-major (units × groups). */
  readonly weighted: Float64Array;
  /** w_ig for self-normalised estimators, else null. */
  readonly normalizer: Float64Array | null;
  /**
   * The importance weight each unit carries in the estimate (as the estimator uses it: clipped,
   * switched or shrunk; for slates, summed over the slate's positions), or null for an estimator
   * without weights (DM).
   */
  readonly unitWeights?: Float64Array | null;
}

/**
 * Whether a weighted estimate rests on a few units: Kish's effective sample size
 * ESS = (Σ_i w_i)² / Σ_i w_i² (n for equal weights, 1 when one unit carries all the weight) and the
 * largest weight's share of the total, max_i w_i / Σ_i w_i.
 */
export interface WeightDiagnostics {
  /** Units (rows, or slates) the estimate averages over. */
  readonly units: number;
  /** Kish's effective sample size (0 when every weight is 0). */
  readonly effectiveSampleSize: number;
  /** max_i w_i / Σ_i w_i (0 when every weight is 0). */
  readonly maxWeightShare: number;
  /** The 0-based unit of the largest weight, and that weight. */
  readonly maxWeightUnit: number;
  readonly maxWeight: number;
}

/**
 * The documented rule (README, "Guarantees") for an estimate that one round dominates: the largest
 * weight carries more than 10% of the total weight, or the effective sample size is below 1% of the
 * units (or every weight is 0).
 */
export const WEIGHT_WARNING = { maxWeightShare: 0.1, essFraction: 0.01 } as const;

/** Kish's ESS and the largest weight share of non-negative finite weights (scaled by the largest, so Σ w² cannot overflow). */
export function weightDiagnostics(weights: ArrayLike<number>): WeightDiagnostics {
  const n = weights.length;
  let maxWeight = 0;
  let maxWeightUnit = 0;
  for (let i = 0; i < n; i++) {
    if (Math.abs(weights[i]) > maxWeight) {
      maxWeight = Math.abs(weights[i]);
      maxWeightUnit = i;
    }
  }
  if (maxWeight === 0) return { units: n, effectiveSampleSize: 0, maxWeightShare: 0, maxWeightUnit, maxWeight };
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = weights[i] / maxWeight;
    s1 += v;
    s2 += v * v;
  }
  return { units: n, effectiveSampleSize: (s1 * s1) / s2, maxWeightShare: 1 / s1, maxWeightUnit, maxWeight };
}

/**
 * A one-line warning where `diagnostics` break WEIGHT_WARNING's rule, naming the estimator and the
 * unit that dominates (`unit` names a unit: "row", "slate"); null where the weights are spread enough.
 */
export function weightWarning(estimator: string, diagnostics: WeightDiagnostics | null, unit = 'row'): string | null {
  if (diagnostics === null) return null;
  const { units, effectiveSampleSize: ess, maxWeightShare: share, maxWeightUnit, maxWeight } = diagnostics;
  if (maxWeight === 0) return `${estimator}: every importance weight is 0 (the evaluated policy takes none of the logged actions): the estimate does not use the rewards`;
  if (share <= WEIGHT_WARNING.maxWeightShare && ess >= WEIGHT_WARNING.essFraction * units) return null;
  return (
    `${estimator}: ${unit} ${maxWeightUnit + 1} carries ${(100 * share).toPrecision(3)}% of the total importance weight (w = ${maxWeight.toPrecision(3)}); ` +
    `effective sample size ${ess.toPrecision(3)} of ${units} ${unit}s: the estimate rests on few ${unit}s (threshold: share > ${100 * WEIGHT_WARNING.maxWeightShare}% or ESS < ${100 * WEIGHT_WARNING.essFraction}% of the ${unit}s)`
  );
}

/** The value of `terms`, each unit counted `counts[i]` times (all once when counts is absent). */
export function valueOfTerms(terms: ValueTerms, counts?: Int32Array): number {
  const { units, groups, direct, weighted, normalizer } = terms;
  let total = 0;
  let n = 0;
  for (let i = 0; i < units; i++) n += counts === undefined ? 1 : counts[i];
  if (n === 0) return NaN;
  if (direct !== null) {
    let s = 0;
    for (let i = 0; i < units; i++) s += (counts === undefined ? 1 : counts[i]) * direct[i];
    total += s / n;
  }
  for (let g = 0; g < groups; g++) {
    let y = 0;
    let w = 0;
    for (let i = 0; i < units; i++) {
      const c = counts === undefined ? 1 : counts[i];
      if (c === 0) continue;
      y += c * weighted[i * groups + g];
      if (normalizer !== null) w += c * normalizer[i * groups + g];
    }
    // A group with no weight at all (no logged row the evaluation policy could take) adds nothing.
    total += normalizer === null ? y / n : w > 0 ? y / w : 0;
  }
  return total;
}

/**
 * Percentile bootstrap: resample the units with replacement `resamples` times (seeded), recompute
 * the estimate, and take the (1 − level)/2 and (1 + level)/2 quantiles of the resampled values.
 */
export function bootstrapInterval(terms: ValueTerms, options: IntervalOptions = {}): PolicyValueInterval {
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  if (!(level > 0 && level < 1)) throw new ConfigError('level', `expected a number in (0, 1), found ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new ConfigError('resamples', `expected an integer ≥ 1, found ${resamples}`);
  const rng = randomStream(options.seed ?? 1).derive('bootstrap');
  const n = terms.units;
  const counts = new Int32Array(n);
  const values = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    counts.fill(0);
    for (let j = 0; j < n; j++) counts[rng.int(n)]++;
    values[b] = valueOfTerms(terms, counts);
  }
  values.sort();
  let sum = 0;
  for (let b = 0; b < resamples; b++) sum += values[b];
  return {
    estimate: valueOfTerms(terms),
    weights: terms.unitWeights == null ? null : weightDiagnostics(terms.unitWeights),
    bootstrapMean: sum / resamples,
    lower: quantileSorted(values, (1 - level) / 2),
    upper: quantileSorted(values, (1 + level) / 2),
    level,
    resamples,
  };
}

/** The q-quantile of sorted values, linear between order statistics (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** What every estimator, standard or slate, offers (OBP's two methods). */
export interface PolicyValueEstimator<Inputs> {
  readonly name: string;
  estimate(inputs: Inputs): number;
  estimateInterval(inputs: Inputs, options?: IntervalOptions): PolicyValueInterval;
  /** The per-unit terms both methods use. */
  terms(inputs: Inputs): ValueTerms;
  /** Effective sample size and largest weight share of the estimate (null without weights). */
  weightDiagnostics(inputs: Inputs): WeightDiagnostics | null;
}

/** Base of the estimators: `estimate` and `estimateInterval` from `terms`. */
export abstract class TermsEstimator<Inputs> implements PolicyValueEstimator<Inputs> {
  abstract readonly name: string;
  abstract terms(inputs: Inputs): ValueTerms;

  estimate(inputs: Inputs): number {
    return finiteEstimate(this.name, valueOfTerms(this.terms(inputs)));
  }

  estimateInterval(inputs: Inputs, options: IntervalOptions = {}): PolicyValueInterval {
    const interval = bootstrapInterval(this.terms(inputs), options);
    finiteEstimate(this.name, interval.estimate);
    return interval;
  }

  /** How evenly the importance weights spread over the units (null for DM). */
  weightDiagnostics(inputs: Inputs): WeightDiagnostics | null {
    const { unitWeights } = this.terms(inputs);
    return unitWeights == null ? null : weightDiagnostics(unitWeights);
  }
}

/** The weights and rewards were checked to be finite, but their sums can still overflow: a non-finite estimate is an error, never a number. */
function finiteEstimate(estimator: string, value: number): number {
  if (!Number.isFinite(value)) throw new ConfigError(estimator, `the estimate is ${value}: the importance weights or rewards overflow (check pscore for probabilities near 0)`);
  return value;
}

/** Tolerance on Σ_a π_e(a | x, k) = 1 (Monte Carlo frequencies sum to 1 up to rounding). */
const SUM_TOLERANCE = 1e-6;

/** Checks the standard inputs (lengths, ranges, that π_e sums to 1 per row and position); returns n. */
export function checkOffPolicyInputs(inputs: OffPolicyInputs, needsModel: boolean, estimator: string): number {
  const { reward, action, position, pscore, actionDist, estimatedRewards } = inputs;
  const n = reward.length;
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${estimator}: ${field}`, problem);
  };
  if (n === 0) fail('reward', 'expected at least one logged row, found none');
  for (const [name, array] of [
    ['action', action],
    ['pscore', pscore],
    ['position', position],
  ] as const) {
    if (array !== undefined && array.length !== n) fail(name, `expected ${n} values (one per row, as reward), found ${array.length}`);
  }
  const { numActions: A, numPositions: K } = actionDist;
  if (actionDist.values.length !== n * A * K) fail('actionDist', `expected ${n} × ${A} × ${K} = ${n * A * K} values (rows × actions × positions), found ${actionDist.values.length}`);
  if (needsModel && estimatedRewards === undefined) fail('estimatedRewards', 'expected reward-model estimates q̂(x, a, k) for this estimator, found none');
  if (estimatedRewards !== undefined && (estimatedRewards.numActions !== A || estimatedRewards.numPositions !== K || estimatedRewards.values.length !== n * A * K)) {
    fail(
      'estimatedRewards',
      `expected the shape of actionDist (${n} × ${A} × ${K}), found ${estimatedRewards.values.length / (estimatedRewards.numActions * estimatedRewards.numPositions)} × ${estimatedRewards.numActions} × ${estimatedRewards.numPositions}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(reward[i])) fail(`reward[${i}]`, `expected a finite number, found ${reward[i]}`);
    const a = action[i];
    if (!(Number.isInteger(a) && a >= 0 && a < A)) fail(`action[${i}]`, `expected an integer in [0, ${A - 1}], found ${a}`);
    const k = position === undefined ? 0 : position[i];
    if (!(Number.isInteger(k) && k >= 0 && k < K)) fail(`position[${i}]`, `expected an integer in [0, ${K - 1}], found ${k}`);
    if (!(pscore[i] > 0 && pscore[i] <= 1)) fail(`pscore[${i}]`, `expected a probability in (0, 1], found ${pscore[i]}`);
    for (let kk = 0; kk < K; kk++) {
      let sum = 0;
      for (let b = 0; b < A; b++) {
        const p = actionDist.values[(i * A + b) * K + kk];
        if (!(p >= 0 && p <= 1)) fail(`actionDist[${i}][${b}][${kk}]`, `expected a probability in [0, 1], found ${p}`);
        sum += p;
      }
      if (Math.abs(sum - 1) > SUM_TOLERANCE) fail(`actionDist[${i}][·][${kk}]`, `expected probabilities over actions that sum to 1, found a sum of ${sum}`);
    }
  }
  return n;
}
