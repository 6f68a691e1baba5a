/**
 * The reward model q̂(x, a, k) that the direct method and the doubly robust family need: an
 * L2-regularised logistic regression on sparse features of (context, action, position), fitted by
 * Newton's method (IRLS) with a Cholesky solve, and cross-fitted (Chernozhukov et al. 2018, as
 * OBP's `RegressionModel.fit_predict` with `n_folds`): the rows are split into F folds and each
 * fold's q̂ comes from a model fitted on the other folds, so that no row's own reward enters its
 * prediction (which would bias DR towards the logged rewards).
 */
import { ConfigError } from '../core/errors.js';
import { rowKey, seedKey } from '../core/row-hash.js';
import type { ActionArray } from './off-policy.js';

/**
 * Sparse features of (row, action, position): at most `nonZeros` (index, value) pairs each, index 0
 * being the intercept (always 1, not penalised). Unused slots are written as (0, 0).
 */
export interface RewardFeatures {
  readonly dimension: number;
  readonly nonZeros: number;
  write(row: number, action: number, position: number, index: Int32Array, value: Float64Array, offset: number): void;
}

export interface LogisticRegressionOptions {
  /** L2 penalty λ on every weight but the intercept (default 1). */
  readonly l2?: number;
  /** Newton steps at most (default 50); it stops when the Newton decrement falls below 1e-10. */
  readonly maxIterations?: number;
}

export interface LogisticModel {
  readonly weights: Float64Array;
  readonly iterations: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Solves A x = b in place for symmetric positive definite A (d × d, row-major); returns x in b. */
function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  // A = L Lᵀ, L stored in the lower triangle of A.
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
    if (!(s > 0)) throw new RangeError('reward model: the Newton system is not positive definite (increase l2)');
    const l = Math.sqrt(s);
    A[j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = t / l;
    }
  }
  for (let i = 0; i < d; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= A[i * d + k] * b[k];
    b[i] = t / A[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = b[i];
    for (let k = i + 1; k < d; k++) t -= A[k * d + i] * b[k];
    b[i] = t / A[i * d + i];
  }
  return b;
}

/**
 * One Newton (IRLS) fit of P(r = 1) = σ(β·φ) on the penalised log-likelihood
 * Σ_i [r_i log p_i + (1 − r_i) log(1 − p_i)] − (λ/2)‖β_{1..}‖², a step at a time:
 * β ← β − H⁻¹ g, g = Σ_i (p_i − r_i) φ_i + λβ, H = Σ_i p_i(1 − p_i) φ_i φ_iᵀ + λI. `begin` clears
 * the sums, `add` adds a row's terms at the current β, `step` takes the step. The rows may come from
 * an array (`fitLogisticRegression`) or from a pass over a streamed log (streamed-reward-model.ts):
 * the same rows in the same order give the same β, bit for bit.
 */
export class LogisticNewton {
  readonly weights: Float64Array;
  /** Newton steps taken. */
  iterations = 0;
  /** Whether the Newton decrement fell below 1e-10. */
  converged = false;
  private readonly H: Float64Array;
  private readonly g: Float64Array;

  constructor(
    readonly dimension: number,
    private readonly l2: number,
    private readonly maxIterations: number,
  ) {
    this.weights = new Float64Array(dimension);
    this.H = new Float64Array(dimension * dimension);
    this.g = new Float64Array(dimension);
  }

  /** Whether it still takes steps (not converged, under the step limit). */
  get active(): boolean {
    return !this.converged && this.iterations < this.maxIterations;
  }

  begin(): void {
    this.H.fill(0);
    this.g.fill(0);
  }

  /** Adds the terms of a row with features `index`/`value` at `offset` (m slots) and reward r. */
  add(index: Int32Array, value: Float64Array, offset: number, m: number, reward: number): void {
    const { weights: beta, H, g, dimension: d } = this;
    const o = offset;
    let z = 0;
    for (let u = 0; u < m; u++) z += beta[index[o + u]] * value[o + u];
    const p = sigmoid(z);
    const residual = p - reward;
    const w = Math.max(p * (1 - p), 1e-12);
    for (let u = 0; u < m; u++) {
      const iu = index[o + u];
      const vu = value[o + u];
      if (vu === 0) continue;
      g[iu] += residual * vu;
      for (let v = 0; v < m; v++) H[iu * d + index[o + v]] += w * vu * value[o + v];
    }
  }

  /** The Newton step from the rows added since `begin`. */
  step(): void {
    const { weights: beta, H, g, dimension: d } = this;
    // The intercept gets a negligible ridge only to keep H positive definite.
    for (let c = 0; c < d; c++) {
      const penalty = c === 0 ? 1e-9 : this.l2;
      g[c] += penalty * beta[c];
      H[c * d + c] += penalty;
    }
    const gradient = Float64Array.from(g);
    const step = choleskySolve(H, g, d);
    // Newton decrement gᵀH⁻¹g: twice the most the objective can still improve (in nats). It stays
    // meaningful when one-hot blocks make some directions nearly flat, where steps need not shrink.
    let decrement = 0;
    for (let c = 0; c < d; c++) {
      beta[c] -= step[c];
      decrement += gradient[c] * step[c];
    }
    this.iterations++;
    if (decrement < 1e-10) this.converged = true;
  }
}

/** The L2 penalty and step limit of `options`, checked. */
export function logisticSettings(options: LogisticRegressionOptions): { l2: number; maxIterations: number } {
  const l2 = options.l2 ?? 1;
  if (!(l2 > 0)) throw new ConfigError('l2', `expected a penalty > 0, found ${l2}`);
  return { l2, maxIterations: options.maxIterations ?? 50 };
}

/** Fits P(r = 1) = σ(β·φ(x_i, a_i, k_i)) on the given rows by Newton's method (`LogisticNewton`). */
export function fitLogisticRegression(
  features: RewardFeatures,
  rows: ArrayLike<number>,
  action: ArrayLike<number>,
  position: ArrayLike<number> | undefined,
  reward: ArrayLike<number>,
  options: LogisticRegressionOptions = {},
): LogisticModel {
  const { l2, maxIterations } = logisticSettings(options);
  const m = features.nonZeros;
  const n = rows.length;
  const index = new Int32Array(n * m);
  const value = new Float64Array(n * m);
  for (let j = 0; j < n; j++) {
    const i = rows[j];
    const r = reward[i];
    if (r !== 0 && r !== 1) throw new ConfigError(`reward[${i}]`, `expected a binary reward (0 or 1) for the logistic reward model, found ${r}`);
    features.write(i, action[i], position === undefined ? 0 : position[i], index, value, j * m);
  }
  const newton = new LogisticNewton(features.dimension, l2, maxIterations);
  while (newton.active) {
    newton.begin();
    for (let j = 0; j < n; j++) newton.add(index, value, j * m, m, reward[rows[j]]);
    newton.step();
  }
  return { weights: newton.weights, iterations: newton.iterations };
}

/**
 * The cross-fitting fold of a group (a row, or the group id the rows share): a hash of (seed, id)
 * modulo F, not a shuffle, so that a stream assigns the same folds as an array without holding the
 * log (the folds' sizes are then multinomial around n/F rather than equal).
 */
export function crossFitFold(seed: string | number, folds: number): (group: number) => number {
  const key = seedKey(`${seed}/cross-fit`);
  return (group) => (folds === 1 ? 0 : rowKey(key, group) % folds);
}

/** σ(β·φ(x_row, a, k)). */
export function predictLogistic(model: LogisticModel, features: RewardFeatures, row: number, action: number, position: number, index: Int32Array, value: Float64Array): number {
  features.write(row, action, position, index, value, 0);
  let z = 0;
  for (let u = 0; u < features.nonZeros; u++) z += model.weights[index[u]] * value[u];
  return sigmoid(z);
}

export interface CrossFitOptions extends LogisticRegressionOptions {
  /** Number of folds F (default 3; 1 fits and predicts on all rows, no cross-fitting). */
  readonly folds?: number;
  /** Seed of the fold assignment (default 1). */
  readonly seed?: string | number;
  /** A group id per row (e.g. its slate): rows of one group always share a fold. */
  readonly groups?: ArrayLike<number>;
}

/** The logged data a reward model is fitted on. */
export interface RewardModelData {
  readonly reward: ArrayLike<number>;
  readonly action: ArrayLike<number>;
  readonly position?: ArrayLike<number>;
}

/**
 * Cross-fitted q̂(x_i, a, k) for every row, action and position (the shape of `actionDist`): rows
 * (or groups) go to F folds by `crossFitFold`; fold f's predictions come from the model fitted on
 * the other F − 1 folds.
 */
export function crossFitRewardModel(data: RewardModelData, features: RewardFeatures, numActions: number, numPositions: number, options: CrossFitOptions = {}): ActionArray {
  const folds = options.folds ?? 3;
  const n = data.reward.length;
  if (!Number.isInteger(folds) || folds < 1 || folds > n) throw new ConfigError('folds', `expected an integer in [1, ${n}] (rows), found ${folds}`);
  const foldOf = crossFitFold(options.seed ?? 1, folds);
  const fold = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = options.groups === undefined ? i : options.groups[i];
    if (!(Number.isInteger(id) && id >= 0)) throw new ConfigError(`groups[${i}]`, `expected a non-negative integer group id, found ${id}`);
    fold[i] = foldOf(id);
  }
  const values = new Float64Array(n * numActions * numPositions);
  const index = new Int32Array(features.nonZeros);
  const value = new Float64Array(features.nonZeros);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < n; i++) (folds === 1 || fold[i] !== f ? train : test).push(i);
    if (folds === 1) test.push(...train);
    const model = fitLogisticRegression(features, train, data.action, data.position, data.reward, options);
    for (const i of test) {
      for (let a = 0; a < numActions; a++) {
        for (let k = 0; k < numPositions; k++) values[(i * numActions + a) * numPositions + k] = predictLogistic(model, features, i, a, k, index, value);
      }
    }
  }
  return { numActions, numPositions, values };
}

/**
 * One-hot features: intercept, action, position, and each categorical context column (codes per
 * row), plus optional dense per-(row, action) values (e.g. the Open Bandit Dataset's user-item
 * affinity of the row's user for action a).
 */
export function oneHotRewardFeatures(options: {
  numActions: number;
  numPositions: number;
  /** Row-major rows × columns context codes, with the number of codes of each column. */
  context?: { codes: ArrayLike<number>; cardinalities: readonly number[] };
  /** Row-major rows × numActions values, one feature for the chosen action. */
  actionValue?: ArrayLike<number>;
  /** Also one weight per (action, position) pair (default false). */
  actionPosition?: boolean;
}): RewardFeatures {
  const { numActions: A, numPositions: K, context, actionValue } = options;
  const cards = context?.cardinalities ?? [];
  const C = cards.length;
  const contextBase: number[] = [];
  let d = 1 + A + K;
  for (const c of cards) {
    contextBase.push(d);
    d += c;
  }
  const valueAt = actionValue === undefined ? -1 : d;
  if (actionValue !== undefined) d += 1;
  const pairAt = options.actionPosition ? d : -1;
  if (options.actionPosition) d += A * K;
  const nonZeros = 3 + C + (actionValue === undefined ? 0 : 1) + (options.actionPosition ? 1 : 0);
  return {
    dimension: d,
    nonZeros,
    write(row, action, position, index, value, offset) {
      let o = offset;
      index[o] = 0;
      value[o++] = 1;
      index[o] = 1 + action;
      value[o++] = 1;
      index[o] = 1 + A + position;
      value[o++] = 1;
      for (let c = 0; c < C; c++) {
        index[o] = contextBase[c] + context!.codes[row * C + c];
        value[o++] = 1;
      }
      if (valueAt >= 0) {
        index[o] = valueAt;
        value[o++] = actionValue![row * A + action];
      }
      if (pairAt >= 0) {
        index[o] = pairAt + action * K + position;
        value[o++] = 1;
      }
    },
  };
}
