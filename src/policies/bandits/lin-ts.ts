import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { standardNormal } from './beta.js';
import { checkSizes, type FeedbackSemantics, monteCarloPropensities, selectTopK, userIndex } from './common.js';

/**
 * How LinTS builds x_{u,i} from user features u and item features i:
 * - `outer`: x = u ⊗ i (d = d_u·d_i), x[p·d_i + q] = u_p·i_q — a bilinear model uᵀΘi, personalised;
 *   append a constant 1 to both feature arrays to include per-user and per-item main effects;
 * - `concat`: x = [u, i] (d = d_u + d_i) — additive, so every user gets the same ranking of items;
 * - a custom map writing a `dim`-vector for (user, item).
 */
export type LinTSFeatures = 'outer' | 'concat' | { dim: number; map: (user: number, item: number, out: Float64Array) => void };

export interface LinTSOptions {
  numItems: number;
  slateSize: number;
  /** One feature array per user (rows of equal length); required unless `features` is a custom map. */
  userFeatures?: ReadonlyArray<ArrayLike<number>>;
  /** One feature array per item (rows of equal length); required unless `features` is a custom map. */
  itemFeatures?: ReadonlyArray<ArrayLike<number>>;
  /** Default `outer`. */
  features?: LinTSFeatures;
  /** Ridge prior: A starts at λ·I. Default 1. */
  lambda?: number;
  /** Posterior scale v in θ̃ ~ N(θ̂, v²A⁻¹). Default 1. */
  v?: number;
  name?: string;
}

/** Largest feature dimension accepted: a Cholesky factorisation costs d³/3 per update batch. */
export const LIN_TS_MAX_DIM = 128;

/**
 * Linear Thompson sampling over slates (Agrawal & Goyal 2013; OBP's LinTS), the context being the
 * round's user index u. With A = λI + Σ x xᵀ and b = Σ r·x over the observed positions so far:
 *
 *   θ̂ = A⁻¹b,   θ̃ ~ N(θ̂, v²A⁻¹),   slate = top K items by x_{u,i}·θ̃,
 *
 * then A += x xᵀ and b += r·x for every observed position (r = click). θ̃ = θ̂ + v·L⁻ᵀz with
 * A = L Lᵀ (Cholesky) and z ~ N(0, I_d), since Cov(L⁻ᵀz) = (L Lᵀ)⁻¹ = A⁻¹. L and θ̂ are refactored
 * lazily, once per batch of updates; plain Float64Array linear algebra, d ≤ 128 (≤ 64 keeps a round
 * in microseconds). Propensities: Monte Carlo for the given user.
 */
export class LinTS implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  /** Feature dimension d. */
  readonly dim: number;
  readonly lambda: number;
  readonly v: number;
  private readonly kind: 'outer' | 'concat' | 'custom';
  private readonly map: ((user: number, item: number, out: Float64Array) => void) | null;
  private readonly numUsers: number;
  private readonly userDim: number;
  private readonly itemDim: number;
  private readonly users: Float64Array;
  private readonly items: Float64Array;
  /** A (lower triangle kept current; row-major d × d) and b. */
  private readonly A: Float64Array;
  private readonly b: Float64Array;
  private readonly L: Float64Array;
  private readonly mean: Float64Array;
  private stale = true;
  private readonly x: Float64Array;
  private readonly z: Float64Array;
  private readonly draw: Float64Array;
  private readonly w: Float64Array;
  private readonly scoreBuffer: Float64Array;
  private readonly topScratch: Float64Array;
  private readonly mcSlate: Int32Array;

  constructor(options: LinTSOptions) {
    const { numItems, slateSize } = options;
    checkSizes(numItems, slateSize);
    this.name = options.name ?? 'lin-ts';
    this.numItems = numItems;
    this.slateSize = slateSize;
    this.lambda = options.lambda ?? 1;
    this.v = options.v ?? 1;
    if (!(this.lambda > 0) || !Number.isFinite(this.lambda)) throw new ConfigError('lambda', `expected a number > 0, found ${String(this.lambda)}`);
    if (!(this.v >= 0) || !Number.isFinite(this.v)) throw new ConfigError('v', `expected a number ≥ 0, found ${String(this.v)}`);
    const features = options.features ?? 'outer';
    if (typeof features === 'object') {
      if (!Number.isInteger(features.dim) || features.dim < 1) throw new ConfigError('features.dim', `expected an integer ≥ 1, found ${String(features.dim)}`);
      this.kind = 'custom';
      this.map = features.map;
      this.numUsers = Number.MAX_SAFE_INTEGER;
      this.userDim = 0;
      this.itemDim = 0;
      this.users = new Float64Array(0);
      this.items = new Float64Array(0);
      this.dim = features.dim;
    } else {
      if (features !== 'outer' && features !== 'concat') throw new ConfigError('features', `expected "outer", "concat" or a custom map, found ${JSON.stringify(features)}`);
      this.kind = features;
      this.map = null;
      const users = flatten(options.userFeatures, 'userFeatures', null);
      const items = flatten(options.itemFeatures, 'itemFeatures', numItems);
      this.numUsers = users.rows;
      this.userDim = users.cols;
      this.itemDim = items.cols;
      this.users = users.data;
      this.items = items.data;
      this.dim = features === 'outer' ? users.cols * items.cols : users.cols + items.cols;
    }
    if (this.dim > LIN_TS_MAX_DIM) {
      throw new ConfigError('features', `the feature dimension d = ${this.dim} is above ${LIN_TS_MAX_DIM}; use fewer features (or "concat" instead of "outer")`);
    }
    const d = this.dim;
    this.A = new Float64Array(d * d);
    for (let j = 0; j < d; j++) this.A[j * d + j] = this.lambda;
    this.b = new Float64Array(d);
    this.L = new Float64Array(d * d);
    this.mean = new Float64Array(d);
    this.x = new Float64Array(d);
    this.z = new Float64Array(d);
    this.draw = new Float64Array(d);
    this.w = new Float64Array(Math.max(this.itemDim, 1));
    this.scoreBuffer = new Float64Array(numItems);
    this.topScratch = new Float64Array(slateSize);
    this.mcSlate = new Int32Array(slateSize);
  }

  /** x_{u,i} into `out` (length d). */
  featureVector(user: number, item: number, out: Float64Array = new Float64Array(this.dim)): Float64Array {
    if (this.kind === 'custom') {
      this.map!(user, item, out);
      return out;
    }
    const du = this.userDim;
    const di = this.itemDim;
    if (this.kind === 'outer') {
      for (let p = 0; p < du; p++) {
        const up = this.users[user * du + p];
        for (let q = 0; q < di; q++) out[p * di + q] = up * this.items[item * di + q];
      }
    } else {
      for (let p = 0; p < du; p++) out[p] = this.users[user * du + p];
      for (let q = 0; q < di; q++) out[du + q] = this.items[item * di + q];
    }
    return out;
  }

  /** θ̂ = A⁻¹b (a copy). */
  thetaHat(): Float64Array {
    this.refactor();
    return Float64Array.from(this.mean);
  }

  /** A = λI + Σ x xᵀ as a full symmetric d × d row-major matrix (a copy). */
  precisionMatrix(): Float64Array {
    const d = this.dim;
    const out = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) out[i * d + j] = out[j * d + i] = this.A[i * d + j];
    }
    return out;
  }

  /** b = Σ r·x (a copy). */
  responseVector(): Float64Array {
    return Float64Array.from(this.b);
  }

  /** One θ̃ ~ N(θ̂, v²A⁻¹) into `out`. */
  sampleTheta(rng: RandomStream, out: Float64Array = new Float64Array(this.dim)): Float64Array {
    this.refactor();
    const d = this.dim;
    const L = this.L;
    const z = this.z;
    for (let j = 0; j < d; j++) z[j] = standardNormal(rng);
    // Solve Lᵀ y = z by back substitution (Lᵀ is upper triangular), in place in z.
    for (let i = d - 1; i >= 0; i--) {
      let s = z[i];
      for (let k = i + 1; k < d; k++) s -= L[k * d + i] * z[k];
      z[i] = s / L[i * d + i];
    }
    for (let j = 0; j < d; j++) out[j] = this.mean[j] + this.v * z[j];
    return out;
  }

  choose(rng: RandomStream, slate: Int32Array, context?: number): void {
    const user = userIndex(context, this.numUsers, this.name);
    const theta = this.sampleTheta(rng, this.draw);
    const scores = this.scoreBuffer;
    const n = this.numItems;
    const du = this.userDim;
    const di = this.itemDim;
    if (this.kind === 'outer') {
      // x·θ̃ = Σ_q i_q·w_q with w_q = Σ_p u_p·θ̃[p·d_i + q].
      const w = this.w;
      w.fill(0);
      for (let p = 0; p < du; p++) {
        const up = this.users[user * du + p];
        if (up === 0) continue;
        for (let q = 0; q < di; q++) w[q] += up * theta[p * di + q];
      }
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let q = 0; q < di; q++) s += this.items[i * di + q] * w[q];
        scores[i] = s;
      }
    } else if (this.kind === 'concat') {
      let base = 0;
      for (let p = 0; p < du; p++) base += this.users[user * du + p] * theta[p];
      for (let i = 0; i < n; i++) {
        let s = base;
        for (let q = 0; q < di; q++) s += this.items[i * di + q] * theta[du + q];
        scores[i] = s;
      }
    } else {
      const x = this.x;
      for (let i = 0; i < n; i++) {
        this.map!(user, i, x);
        let s = 0;
        for (let j = 0; j < this.dim; j++) s += x[j] * theta[j];
        scores[i] = s;
      }
    }
    selectTopK(scores, n, this.slateSize, slate, this.topScratch);
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array, context?: number): void {
    const user = userIndex(context, this.numUsers, this.name);
    const d = this.dim;
    const x = this.x;
    for (let k = 0; k < this.slateSize; k++) {
      if (!observed[k]) continue;
      this.featureVector(user, slate[k], x);
      for (let i = 0; i < d; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * d;
        for (let j = 0; j <= i; j++) this.A[row + j] += xi * x[j];
        if (clicks[k]) this.b[i] += xi;
      }
      this.stale = true;
    }
  }

  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void {
    monteCarloPropensities(this, rng, draws, out, this.mcSlate, context);
  }

  /** Cholesky A = L Lᵀ and θ̂ = A⁻¹b, when A or b changed. */
  private refactor(): void {
    if (!this.stale) return;
    const d = this.dim;
    const A = this.A;
    const L = this.L;
    for (let j = 0; j < d; j++) {
      let s = A[j * d + j];
      for (let k = 0; k < j; k++) s -= L[j * d + k] * L[j * d + k];
      if (!(s > 0)) throw new Error(`${this.name}: the precision matrix A lost positive definiteness (pivot ${j} = ${s})`);
      const pivot = Math.sqrt(s);
      L[j * d + j] = pivot;
      for (let i = j + 1; i < d; i++) {
        let t = A[i * d + j];
        for (let k = 0; k < j; k++) t -= L[i * d + k] * L[j * d + k];
        L[i * d + j] = t / pivot;
      }
    }
    // L y = b (forward), then Lᵀ θ̂ = y (backward).
    const m = this.mean;
    for (let i = 0; i < d; i++) {
      let s = this.b[i];
      for (let k = 0; k < i; k++) s -= L[i * d + k] * m[k];
      m[i] = s / L[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = m[i];
      for (let k = i + 1; k < d; k++) s -= L[k * d + i] * m[k];
      m[i] = s / L[i * d + i];
    }
    this.stale = false;
  }
}

function flatten(rows: ReadonlyArray<ArrayLike<number>> | undefined, path: string, expectedRows: number | null): { rows: number; cols: number; data: Float64Array } {
  if (rows === undefined) throw new ConfigError(path, 'expected one feature array per row, found nothing (LinTS with "outer" or "concat" features needs user and item features)');
  if (expectedRows !== null && rows.length !== expectedRows) throw new ConfigError(path, `expected ${expectedRows} rows (one per item), found ${rows.length}`);
  if (rows.length === 0) throw new ConfigError(path, 'expected at least one row, found none');
  const cols = rows[0].length;
  if (cols < 1) throw new ConfigError(`${path}[0]`, 'expected at least one feature, found none');
  const data = new Float64Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== cols) throw new ConfigError(`${path}[${r}]`, `expected ${cols} features like row 0, found ${row.length}`);
    for (let c = 0; c < cols; c++) {
      const value = row[c];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`${path}[${r}][${c}]`, `expected a finite number, found ${String(value)}`);
      data[r * cols + c] = value;
    }
  }
  return { rows: rows.length, cols, data };
}
