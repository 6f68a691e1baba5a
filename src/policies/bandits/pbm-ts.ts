import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';
import { sampleBeta } from './beta.js';
import { checkSizes, type FeedbackSemantics, monteCarloPropensities, positionsByWeight, positionWeightsFor, selectTopK, uniformOpen } from './common.js';
import type { PbmOptions } from './pbm-ucb.js';

/*
 * The PBM-TS posterior of one item and an exact sampler for it.
 *
 * Under the position-based model a display at position l is clicked with probability κ_l·θ. With a
 * Beta(a, b) prior on θ and S_l clicks out of N_l displays at each position, the posterior is
 *
 *   p(θ) ∝ θ^{a + ΣS − 1} (1 − θ)^{b − 1} ∏_l (1 − κ_l θ)^{N_l − S_l},        θ ∈ (0, 1)
 *
 * (the prior counted once; writing it inside the product over l, as the compact form in Lagrée et
 * al. does, would count it L times and is improper for a < 1 when L ≥ 2). Positions with κ_l = 1
 * fold into the (1 − θ) exponent, so with A = a + ΣS, B = b + Σ_{κ_l = 1}(N_l − S_l) and the
 * failures F_l = N_l − S_l of the positions with κ_l < 1:
 *
 *   log p(θ) = (A − 1) log θ + (B − 1) log(1 − θ) + Σ_l F_l log(1 − κ_l θ) + const.
 *
 * Not conjugate (unless every F_l is 0: then it is Beta(A, B)). A Beta(A, B + ΣF) proposal does
 * not dominate it: the ratio ∏((1 − κθ)/(1 − θ))^F is unbounded as θ → 1. So the sampler is exact
 * rejection sampling from a piecewise envelope built like adaptive rejection sampling:
 *
 * - split log p = ℓ_c + ℓ_v, with ℓ_c = max(A − 1, 0) log θ + max(B − 1, 0) log(1 − θ) + Σ F log(1 − κθ)
 *   concave and ℓ_v = min(A − 1, 0) log θ + min(B − 1, 0) log(1 − θ) convex (non-zero only for
 *   shapes below 1, e.g. the default b = 0.5);
 * - ℓ_c lies below each of its tangents (taken at the mode of ℓ_c and at ±1, 2, 4, 8 curvature
 *   scales around it), ℓ_v lies below its chord over any interval; on each piece between
 *   breakpoints (tangent points, tangent intersections, geometric ladders towards a singular end)
 *   the envelope exp(tangent + chord) is exp-linear and is sampled by inverting its CDF;
 * - on an end piece where θ^{A−1} (A < 1) or (1 − θ)^{B−1} (B < 1) is unbounded, that factor is kept
 *   exactly and the rest is bounded by its maximum: the envelope is C·θ^{A−1} (draw θ = e·U^{1/A})
 *   or C·(1 − θ)^{B−1} (draw 1 − θ = (1 − s)·U^{1/B});
 * - choose a piece by its envelope mass, draw θ from it, accept with probability p(θ)/envelope(θ).
 *
 * Every accepted θ is an exact draw from p (up to floating point). The envelope is rebuilt only
 * when the item's counts or κ change; acceptance is typically 80–99%.
 */

const TANGENT_OFFSETS_INTERIOR = [-8, -4, -2, -1, 0, 1, 2, 4, 8];
const TANGENT_OFFSETS_BOUNDARY = [0.25, 0.5, 1, 2, 4, 8, 16];
const MAX_TANGENTS = 9;
const LADDER = 8;
const MAX_POINTS = 2 + MAX_TANGENTS + (MAX_TANGENTS - 1) + 2 * LADDER;
const MAX_TRIES = 100_000;
const TANGENT_MARGIN = 1e-9;

const PIECE_LINEAR = 0;
const PIECE_SINGULAR_LEFT = 1;
const PIECE_SINGULAR_RIGHT = 2;

function term(c: number, x: number): number {
  return c === 0 ? 0 : c * Math.log(x);
}

/** log((e^x − 1)/x), stable for all x. */
function logExpm1Ratio(x: number): number {
  if (Math.abs(x) < 1e-9) return x / 2;
  return x > 0 ? x + Math.log(-Math.expm1(-x)) - Math.log(x) : Math.log(-Math.expm1(x)) - Math.log(-x);
}

/** One item's PBM posterior (see the comment above) with a cached exact rejection sampler. */
export class PbmPosterior {
  /** Proposals and acceptances of the rejection sampler (diagnostics). */
  proposals = 0;
  accepted = 0;
  private A = 1;
  private B = 1;
  private cAp = 0;
  private cAn = 0;
  private cBp = 0;
  private cBn = 0;
  private numActive = 0;
  private readonly activeKappa: Float64Array;
  private readonly activeFailures: Float64Array;
  private numTangents = 0;
  private readonly tangentX = new Float64Array(MAX_TANGENTS);
  private readonly tangentIntercept = new Float64Array(MAX_TANGENTS);
  private readonly tangentSlope = new Float64Array(MAX_TANGENTS);
  private numPieces = 0;
  private readonly points = new Float64Array(MAX_POINTS);
  private readonly pieceStart = new Float64Array(MAX_POINTS);
  private readonly pieceEnd = new Float64Array(MAX_POINTS);
  private readonly pieceKind = new Uint8Array(MAX_POINTS);
  /** Linear pieces: log envelope = p0 + p1·θ. Singular pieces: p0 = the constant C. */
  private readonly piece0 = new Float64Array(MAX_POINTS);
  private readonly piece1 = new Float64Array(MAX_POINTS);
  private readonly pieceCumulative = new Float64Array(MAX_POINTS);

  constructor(readonly numPositions: number) {
    this.activeKappa = new Float64Array(numPositions);
    this.activeFailures = new Float64Array(numPositions);
  }

  /**
   * Set the posterior from a Beta(a, b) prior and per-position clicks S_l = clicks[offset + l],
   * displays N_l = views[offset + l] and weights κ_l, l < numPositions; rebuilds the envelope.
   */
  configure(a: number, b: number, clicks: ArrayLike<number>, views: ArrayLike<number>, kappa: ArrayLike<number>, offset = 0): void {
    let A = a;
    let B = b;
    let active = 0;
    for (let l = 0; l < this.numPositions; l++) {
      const s = clicks[offset + l];
      const f = views[offset + l] - s;
      A += s;
      if (f <= 0) continue;
      if (kappa[l] >= 1) {
        B += f;
      } else {
        this.activeKappa[active] = kappa[l];
        this.activeFailures[active] = f;
        active++;
      }
    }
    this.A = A;
    this.B = B;
    this.numActive = active;
    this.cAp = Math.max(A - 1, 0);
    this.cAn = Math.min(A - 1, 0);
    this.cBp = Math.max(B - 1, 0);
    this.cBn = Math.min(B - 1, 0);
    if (active > 0) this.build();
  }

  /** True when the posterior is exactly Beta(A, B) (no failures at positions with κ < 1). */
  get conjugate(): boolean {
    return this.numActive === 0;
  }

  /** log p(θ) up to its normalising constant. */
  logDensity(theta: number): number {
    let value = term(this.A - 1, theta) + term(this.B - 1, 1 - theta);
    for (let j = 0; j < this.numActive; j++) value += this.activeFailures[j] * Math.log(1 - this.activeKappa[j] * theta);
    return value;
  }

  /**
   * log of the rejection envelope at θ (same unnormalised scale as `logDensity`, which it bounds
   * from above everywhere); NaN for a conjugate posterior, which needs no envelope.
   */
  logEnvelope(theta: number): number {
    if (this.numActive === 0) return NaN;
    let i = 0;
    while (i < this.numPieces - 1 && theta > this.pieceEnd[i]) i++;
    const kind = this.pieceKind[i];
    if (kind === PIECE_LINEAR) return this.piece0[i] + this.piece1[i] * theta;
    if (kind === PIECE_SINGULAR_LEFT) return this.piece0[i] + (this.A - 1) * Math.log(theta);
    return this.piece0[i] + (this.B - 1) * Math.log(1 - theta);
  }

  /** An exact draw from the posterior. */
  sample(rng: RandomStream): number {
    if (this.numActive === 0) return sampleBeta(rng, this.A, this.B);
    const last = this.numPieces - 1;
    const total = this.pieceCumulative[last];
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const target = rng.uniform() * total;
      let i = 0;
      while (i < last && this.pieceCumulative[i] <= target) i++;
      const s = this.pieceStart[i];
      const e = this.pieceEnd[i];
      const u = uniformOpen(rng);
      let theta: number;
      let logEnvelope: number;
      const kind = this.pieceKind[i];
      if (kind === PIECE_LINEAR) {
        const slope = this.piece1[i];
        const x = slope * (e - s);
        if (Math.abs(x) < 1e-9) theta = s + u * (e - s);
        else if (x > 0) theta = e + Math.log(u + (1 - u) * Math.exp(-x)) / slope;
        else theta = s + Math.log1p(u * Math.expm1(x)) / slope;
        if (theta < s) theta = s;
        else if (theta > e) theta = e;
        logEnvelope = this.piece0[i] + slope * theta;
      } else if (kind === PIECE_SINGULAR_LEFT) {
        theta = e * Math.pow(u, 1 / this.A);
        logEnvelope = this.piece0[i] + (this.A - 1) * Math.log(theta);
      } else {
        theta = 1 - (1 - s) * Math.pow(u, 1 / this.B);
        logEnvelope = this.piece0[i] + (this.B - 1) * Math.log(1 - theta);
      }
      this.proposals++;
      if (Math.log(uniformOpen(rng)) < this.logDensity(theta) - logEnvelope) {
        this.accepted++;
        return theta;
      }
    }
    throw new Error(`PBM-TS sampler: no acceptance in ${MAX_TRIES} proposals (A = ${this.A}, B = ${this.B}); please report this posterior`);
  }

  private concave(theta: number): number {
    let value = term(this.cAp, theta) + term(this.cBp, 1 - theta);
    for (let j = 0; j < this.numActive; j++) value += this.activeFailures[j] * Math.log(1 - this.activeKappa[j] * theta);
    return value;
  }

  private concaveSlope(theta: number): number {
    let value = (this.cAp === 0 ? 0 : this.cAp / theta) - (this.cBp === 0 ? 0 : this.cBp / (1 - theta));
    for (let j = 0; j < this.numActive; j++) {
      const k = this.activeKappa[j];
      value -= (this.activeFailures[j] * k) / (1 - k * theta);
    }
    return value;
  }

  private concaveCurvature(theta: number): number {
    let value = (this.cAp === 0 ? 0 : this.cAp / (theta * theta)) + (this.cBp === 0 ? 0 : this.cBp / ((1 - theta) * (1 - theta)));
    for (let j = 0; j < this.numActive; j++) {
      const k = this.activeKappa[j];
      const q = k / (1 - k * theta);
      value += this.activeFailures[j] * q * q;
    }
    return value; // = −ℓ_c''(θ) ≥ 0
  }

  private convex(theta: number): number {
    return term(this.cAn, theta) + term(this.cBn, 1 - theta);
  }

  private build(): void {
    // 1. The mode m of the concave part and a length scale around it.
    let mode: number;
    let scale: number;
    let sumFk = 0;
    let sumFkOver = 0;
    for (let j = 0; j < this.numActive; j++) {
      const k = this.activeKappa[j];
      sumFk += this.activeFailures[j] * k;
      sumFkOver += (this.activeFailures[j] * k) / (1 - k);
    }
    if (this.cAp === 0) {
      mode = 0; // ℓ_c'(0) = −Σ F κ < 0
      scale = 1 / sumFk;
    } else if (this.cBp === 0 && this.cAp - sumFkOver >= 0) {
      mode = 1;
      const slope = this.cAp - sumFkOver;
      scale = 1 / Math.max(slope, Math.sqrt(this.concaveCurvature(1)));
    } else {
      mode = this.findMode(sumFk);
      scale = 1 / Math.sqrt(this.concaveCurvature(mode));
    }
    if (!(scale > 0) || !Number.isFinite(scale)) scale = 0.25;
    if (scale > 0.5) scale = 0.5;

    // 2. Tangents of ℓ_c at points around the mode.
    this.numTangents = 0;
    const offsets = mode === 0 || mode === 1 ? TANGENT_OFFSETS_BOUNDARY : TANGENT_OFFSETS_INTERIOR;
    for (let o = 0; o < offsets.length; o++) {
      const index = mode === 1 ? offsets.length - 1 - o : o; // ascending x
      const x = mode === 1 ? 1 - offsets[index] * scale : mode + offsets[index] * scale;
      this.addTangent(x);
    }
    if (this.numTangents === 0) this.addTangent(0.5);
    if (this.numTangents === 0) throw new Error(`PBM-TS sampler: no finite tangent (A = ${this.A}, B = ${this.B})`);

    // 3. Breakpoints: the ends, the tangent points and intersections, ladders towards singular ends.
    let count = 0;
    const pts = this.points;
    pts[count++] = 0;
    pts[count++] = 1;
    const nt = this.numTangents;
    for (let j = 0; j < nt; j++) {
      pts[count++] = this.tangentX[j];
      if (j + 1 < nt) {
        const ds = this.tangentSlope[j] - this.tangentSlope[j + 1];
        if (ds > 0) {
          const z = (this.tangentIntercept[j + 1] - this.tangentIntercept[j]) / ds;
          if (z > this.tangentX[j] && z < this.tangentX[j + 1]) pts[count++] = z;
        }
      }
    }
    if (this.cAn < 0) {
      for (let k = 1; k <= LADDER; k++) pts[count++] = this.tangentX[0] * Math.pow(2, -k);
    }
    if (this.cBn < 0) {
      const gap = 1 - this.tangentX[nt - 1];
      for (let k = 1; k <= LADDER; k++) pts[count++] = 1 - gap * Math.pow(2, -k);
    }
    // Insertion sort: few points, mostly in order already, and no allocation.
    for (let i = 1; i < count; i++) {
      const v = pts[i];
      let j = i;
      while (j > 0 && pts[j - 1] > v) {
        pts[j] = pts[j - 1];
        j--;
      }
      pts[j] = v;
    }
    const sorted = pts;

    // 4. One envelope piece per interval.
    let pieces = 0;
    let maxLogMass = -Infinity;
    for (let p = 1; p < count; p++) {
      const s = sorted[p - 1];
      const e = sorted[p];
      if (!(e > s)) continue;
      let best = 0;
      let bestValue = Infinity;
      for (let j = 0; j < nt; j++) {
        const value = 2 * this.tangentIntercept[j] + this.tangentSlope[j] * (s + e);
        if (value < bestValue) {
          best = j;
          bestValue = value;
        }
      }
      const c0 = this.tangentIntercept[best];
      const c1 = this.tangentSlope[best];
      let logMass: number;
      if (s === 0 && this.cAn < 0) {
        const C = Math.max(c0, c0 + c1 * e) + term(this.cBn, 1 - e);
        this.pieceKind[pieces] = PIECE_SINGULAR_LEFT;
        this.piece0[pieces] = C;
        logMass = C + this.A * Math.log(e) - Math.log(this.A);
      } else if (e === 1 && this.cBn < 0) {
        const C = Math.max(c0 + c1 * s, c0 + c1) + term(this.cAn, s);
        this.pieceKind[pieces] = PIECE_SINGULAR_RIGHT;
        this.piece0[pieces] = C;
        logMass = C + this.B * Math.log(1 - s) - Math.log(this.B);
      } else {
        const vs = this.convex(s);
        const chord = (this.convex(e) - vs) / (e - s);
        const slope = c1 + chord;
        const intercept = c0 + vs - chord * s;
        this.pieceKind[pieces] = PIECE_LINEAR;
        this.piece0[pieces] = intercept;
        this.piece1[pieces] = slope;
        logMass = intercept + slope * s + Math.log(e - s) + logExpm1Ratio(slope * (e - s));
      }
      this.pieceStart[pieces] = s;
      this.pieceEnd[pieces] = e;
      this.pieceCumulative[pieces] = logMass; // log masses for now
      if (logMass > maxLogMass) maxLogMass = logMass;
      pieces++;
    }
    let total = 0;
    for (let i = 0; i < pieces; i++) {
      const m = this.pieceCumulative[i];
      total += Number.isFinite(m) ? Math.exp(m - maxLogMass) : 0;
      this.pieceCumulative[i] = total;
    }
    if (!Number.isFinite(maxLogMass) || !(total > 0) || !Number.isFinite(total)) {
      throw new Error(`PBM-TS sampler: could not build an envelope (A = ${this.A}, B = ${this.B})`);
    }
    this.numPieces = pieces;
  }

  /**
   * The root of ℓ_c' in (0, 1) (it exists: ℓ_c'(0+) > 0 > ℓ_c'(1−) here), by Newton's method
   * safeguarded with bisection: ℓ_c' is decreasing, so a bracket [lo, hi] is kept and a Newton step
   * that leaves it is replaced by the midpoint. Starts from the PBM ratio estimate (A − 1)/(A − 1 + ΣFκ).
   */
  private findMode(sumFk: number): number {
    let lo = 0;
    let hi = 1;
    let x = this.cAp / (this.cAp + this.cBp + sumFk);
    if (!(x > 0 && x < 1)) x = 0.5;
    for (let it = 0; it < 200; it++) {
      const g = this.concaveSlope(x);
      if (g > 0) lo = x;
      else if (g < 0) hi = x;
      else return x;
      let next = x + g / this.concaveCurvature(x);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (Math.abs(next - x) <= 1e-12 * x || hi - lo <= 1e-15 * hi) return next;
      x = next;
    }
    return x;
  }

  private addTangent(x: number): void {
    // Keep tangent points clear of θ = 1: the ladder towards a singular (1 − θ)^{B−1} end starts at
    // the last tangent, and one within rounding of 1 (e.g. 2·scale with scale = 0.5 − 1 ulp) would
    // leave a single exp-linear piece over the whole rise of that singularity, a useless envelope.
    if (!(x > 0 && x < 1 - TANGENT_MARGIN) || this.numTangents >= MAX_TANGENTS) return;
    if (this.numTangents > 0 && x <= this.tangentX[this.numTangents - 1]) return;
    const value = this.concave(x);
    const slope = this.concaveSlope(x);
    if (!Number.isFinite(value) || !Number.isFinite(slope)) return;
    this.tangentX[this.numTangents] = x;
    this.tangentSlope[this.numTangents] = slope;
    this.tangentIntercept[this.numTangents] = value - slope * x;
    this.numTangents++;
  }
}

export interface PbmTSOptions extends PbmOptions {
  /** Beta prior on each item's attraction θ; default a = b = 0.5 (Jeffreys). */
  a?: number;
  b?: number;
}

/**
 * PBM-TS (Lagrée, Vernade & Cappé 2016), κ known or estimated: each round draws θ_k from every
 * item's PBM posterior (above, by exact rejection sampling), takes the K largest, and puts them on
 * the positions in order of decreasing κ. Every observed position updates its (item, position)
 * counts. Propensities: Monte Carlo.
 */
export class PbmTS implements SlatePolicy {
  readonly name: string;
  readonly numItems: number;
  readonly slateSize: number;
  readonly feedback: FeedbackSemantics = 'position';
  readonly a: number;
  readonly b: number;
  /** S_kl and N_kl at `[k * K + l]`. */
  readonly positionClicks: Float64Array;
  readonly positionViews: Float64Array;
  private kappa: Float64Array;
  private order: Int32Array;
  private readonly posteriors: PbmPosterior[];
  private readonly stale: Uint8Array;
  private readonly theta: Float64Array;
  private readonly ranked: Int32Array;
  private readonly topScratch: Float64Array;
  private readonly mcSlate: Int32Array;

  constructor(options: PbmTSOptions) {
    const { numItems, slateSize } = options;
    checkSizes(numItems, slateSize);
    const a = options.a ?? 0.5;
    const b = options.b ?? 0.5;
    if (!(a > 0) || !Number.isFinite(a)) throw new ConfigError('a', `expected a number > 0, found ${String(a)}`);
    if (!(b > 0) || !Number.isFinite(b)) throw new ConfigError('b', `expected a number > 0, found ${String(b)}`);
    this.name = options.name ?? 'pbm-ts';
    this.numItems = numItems;
    this.slateSize = slateSize;
    this.a = a;
    this.b = b;
    this.kappa = positionWeightsFor(options.positionWeights, slateSize, 'positionWeights');
    this.order = positionsByWeight(this.kappa);
    this.positionClicks = new Float64Array(numItems * slateSize);
    this.positionViews = new Float64Array(numItems * slateSize);
    this.posteriors = Array.from({ length: numItems }, () => new PbmPosterior(slateSize));
    this.stale = new Uint8Array(numItems).fill(1);
    this.theta = new Float64Array(numItems);
    this.ranked = new Int32Array(slateSize);
    this.topScratch = new Float64Array(slateSize);
    this.mcSlate = new Int32Array(slateSize);
  }

  get positionWeights(): Float64Array {
    return this.kappa;
  }

  /** Replace κ (e.g. a fresh estimate); every posterior is rebuilt from the kept counts. */
  setPositionWeights(positionWeights: ArrayLike<number>): void {
    this.kappa = positionWeightsFor(positionWeights, this.slateSize, 'positionWeights');
    this.order = positionsByWeight(this.kappa);
    this.stale.fill(1);
  }

  /** Item k's posterior, current with its counts (for inspection and tests). */
  posterior(item: number): PbmPosterior {
    this.refresh(item);
    return this.posteriors[item];
  }

  choose(rng: RandomStream, slate: Int32Array): void {
    const n = this.numItems;
    for (let i = 0; i < n; i++) {
      if (this.stale[i]) this.refresh(i);
      this.theta[i] = this.posteriors[i].sample(rng);
    }
    selectTopK(this.theta, n, this.slateSize, this.ranked, this.topScratch);
    for (let j = 0; j < this.slateSize; j++) slate[this.order[j]] = this.ranked[j];
  }

  update(slate: Int32Array, clicks: Uint8Array, observed: Uint8Array): void {
    const K = this.slateSize;
    for (let l = 0; l < K; l++) {
      if (!observed[l]) continue;
      const item = slate[l];
      this.positionViews[item * K + l] += 1;
      if (clicks[l]) this.positionClicks[item * K + l] += 1;
      this.stale[item] = 1;
    }
  }

  positionPropensities(rng: RandomStream, draws: number, out: Float64Array, context?: number): void {
    monteCarloPropensities(this, rng, draws, out, this.mcSlate, context);
  }

  private refresh(item: number): void {
    this.posteriors[item].configure(this.a, this.b, this.positionClicks, this.positionViews, this.kappa, item * this.slateSize);
    this.stale[item] = 0;
  }
}
