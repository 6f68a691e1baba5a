import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import { silentProgress, type Progress } from '../../core/progress.js';
import { type RandomStream, randomStream } from '../../core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM, type SlateSequences } from '../../data/slate-sequences.js';
import { gatherRows } from '../gather-rows.js';
import type { GruScore, GruSlateParameters } from '../../simulation/slates/gru-slate-world.js';

/**
 * The GRU slate recommender of Eide, Leslie & Frigessi (DMKD 2022) with a mean-field Gaussian
 * variational posterior over every latent variable, fitted by stochastic variational inference
 * (reparameterised ELBO, K particles, Adam). The generative model (the forward pass is the one of
 * simulation/slates/gru-slate-world.ts):
 *
 *   g_c ~ N(0, 5²), s_c ~ N(0, 5²)            group vectors and scales (d each)
 *   v_i ~ N(g_{c(i)}, max(|s_{c(i)}|, 0.001)²) item vectors (hierarchical)
 *   W_{ir,iu,in}, W_{hr,hu,hn}, W_z ~ N(0, 5²) the bias-free GRU and its output map
 *   b_len ~ N(0, 1)                            no-click logit by slate length
 *   h0_u ~ N(0, 0.5²)                          each user's initial state
 *   clickIdx_{u,t} ~ Categorical(softmax(logits over the shown slots))
 *
 * q(θ) = Π N(m, σ²) with σ = σ_max · sigmoid(ρ) (scales capped as the authors' guide does). The
 * ELBO per minibatch of B users (of U):
 *   (U/B) Σ_u [E_q log p(y_u | θ, h0_u) − KL(q(h0_u) ‖ p)] − KL(q(θ) ‖ p(θ))
 * with Gaussian KLs in closed form, the item vectors' KL analytic given the sampled group vector and
 * scale (Rao–Blackwellised), and the likelihood by K reparameterised draws. Per-user h0 parameters
 * live in typed arrays (users are many and each batch touches few) with a lazy, per-row Adam.
 */
export interface GruSlateModelOptions {
  /** d: item and output dimension (FINN: 25). */
  readonly dim: number;
  /** H: GRU state size (default d). */
  readonly hidden?: number;
  /** Item indices 0 .. numItems − 1 (0..2 special). */
  readonly numItems: number;
  /** S: slots per slate (the no-click bias has S + 1 entries). */
  readonly slots: number;
  readonly score?: GruScore;
  /** [numItems] group of each item (specials ignored); default: one group. */
  readonly itemGroup?: Int32Array;
  /** Prior standard deviation of group vectors, group scales, GRU weights and W_z (default 5). */
  readonly priorScale?: number;
  /** Prior standard deviation of h0 (default 0.5). */
  readonly priorH0Scale?: number;
  /** Prior standard deviation of the no-click biases (default 1). */
  readonly priorBiasScale?: number;
  /** Cap σ_max on every variational scale (default 1). */
  readonly maxScale?: number;
  /** Initial variational scale (default 0.05). */
  readonly initScale?: number;
  /** K: posterior draws per ELBO estimate (default 4). */
  readonly particles?: number;
  /** Adam learning rate (default 0.02). */
  readonly learningRate?: number;
  /**
   * Adam learning rate of the per-user h0 parameters (default: learningRate). Each user's h0 gets
   * one step per epoch; 5 × learningRate was tried and fitted held-out users worse (their h0
   * overfits their few training steps).
   */
  readonly h0LearningRate?: number;
  /** Users per SVI step (default 64). */
  readonly batchUsers?: number;
  readonly seed?: number | string;
}

type Resolved = Required<Omit<GruSlateModelOptions, 'itemGroup' | 'seed'>> & { readonly groups: number; readonly seed: string };

/** One global latent: its variational mean, its scale parameter ρ and its prior. */
interface Latent {
  readonly name: string;
  readonly shape: [number, number];
  readonly mean: tf.Variable;
  readonly rho: tf.Variable;
  /** Fixed N(0, priorSd²) prior (null: the hierarchical item prior). */
  readonly priorSd: number | null;
}

const LATENT_NAMES = ['groupVec', 'groupScale', 'items', 'wIr', 'wIu', 'wIn', 'wHr', 'wHu', 'wHn', 'wZ', 'noClickBias'] as const;
type LatentName = (typeof LATENT_NAMES)[number];
type Theta = Record<LatentName, tf.Tensor3D>;

/** What one SVI step or pass reports. */
export interface SviReport {
  readonly steps: number;
  /** ELBO per user (the last step's estimate, scaled to the full data). */
  readonly elboPerUser: number;
  /** Mean log-likelihood per observed step over the pass, under the posterior draws. */
  readonly logLikPerStep: number;
  readonly seconds: number;
}

export interface SviFitOptions {
  /** Passes over the data (default 1). */
  readonly epochs?: number;
  /** U, the number of users in the data, for the ELBO's scaling; counted in a first pass when absent. */
  readonly users?: number;
  /** Stop after this many SVI steps (default: no limit). */
  readonly maxSteps?: number;
  readonly progress?: Progress;
}

export type BlockSource = () => AsyncIterable<SlateSequences>;

/** A block source over one in-memory data set. */
export function inMemoryBlocks(data: SlateSequences): BlockSource {
  return async function* () {
    yield data;
  };
}

const logit = (p: number) => Math.log(p / (1 - p));

/** Gaussian KL(N(m, s²) ‖ N(μ, σ²)) = log(σ/s) + (s² + (m − μ)²)/(2σ²) − ½, elementwise (plain JS, for tests and reports). */
export function gaussianKl(m: number, s: number, mu: number, sigma: number): number {
  return Math.log(sigma / s) + (s * s + (m - mu) * (m - mu)) / (2 * sigma * sigma) - 0.5;
}

export class GruSlateModel {
  readonly options: Resolved;
  readonly itemGroup: Int32Array;
  private readonly latents: Map<LatentName, Latent>;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly rng: RandomStream;
  // Per-user h0: variational mean and ρ, with Adam moments; rows grow as users appear.
  private rowOf = new Map<number, number>();
  private rowUsers: number[] = [];
  private h0Mean = new Float32Array(0);
  private h0Rho = new Float32Array(0);
  private h0MeanM1 = new Float32Array(0);
  private h0MeanM2 = new Float32Array(0);
  private h0RhoM1 = new Float32Array(0);
  private h0RhoM2 = new Float32Array(0);
  private h0Steps = new Int32Array(0);
  /** Group index tensor of the real items ([numItems − 3]). */
  private readonly groupIndex: tf.Tensor1D;
  private stepCount = 0;

  constructor(options: GruSlateModelOptions) {
    const dim = options.dim;
    const hidden = options.hidden ?? dim;
    if (!Number.isInteger(dim) || dim < 1) throw new ConfigError('dim', `expected an integer ≥ 1, found ${dim}`);
    if (!Number.isInteger(hidden) || hidden < 1) throw new ConfigError('hidden', `expected an integer ≥ 1, found ${hidden}`);
    if (!Number.isInteger(options.numItems) || options.numItems <= FIRST_REAL_ITEM)
      throw new ConfigError('numItems', `expected an integer > ${FIRST_REAL_ITEM} (three special items and at least one real one), found ${options.numItems}`);
    if (!Number.isInteger(options.slots) || options.slots < 2) throw new ConfigError('slots', `expected an integer ≥ 2, found ${options.slots}`);
    const itemGroup = options.itemGroup ?? new Int32Array(options.numItems);
    if (itemGroup.length !== options.numItems) throw new ConfigError('itemGroup', `expected ${options.numItems} entries (one per item index), found ${itemGroup.length}`);
    let groups = 0;
    for (let i = FIRST_REAL_ITEM; i < itemGroup.length; i++) {
      if (itemGroup[i] < 0) throw new ConfigError(`itemGroup[${i}]`, `expected a group ≥ 0, found ${itemGroup[i]}`);
      groups = Math.max(groups, itemGroup[i] + 1);
    }
    this.itemGroup = itemGroup;
    this.options = {
      dim,
      hidden,
      numItems: options.numItems,
      slots: options.slots,
      score: options.score ?? 'l2',
      priorScale: options.priorScale ?? 5,
      priorH0Scale: options.priorH0Scale ?? 0.5,
      priorBiasScale: options.priorBiasScale ?? 1,
      maxScale: options.maxScale ?? 1,
      initScale: options.initScale ?? 0.05,
      particles: options.particles ?? 4,
      learningRate: options.learningRate ?? 0.02,
      h0LearningRate: options.h0LearningRate ?? options.learningRate ?? 0.02,
      batchUsers: options.batchUsers ?? 64,
      groups,
      seed: String(options.seed ?? 1),
    };
    const o = this.options;
    if (!(o.initScale > 0 && o.initScale < o.maxScale)) throw new ConfigError('initScale', `expected a value in (0, maxScale = ${o.maxScale}), found ${o.initScale}`);
    for (const [name, value] of [
      ['particles', o.particles],
      ['batchUsers', o.batchUsers],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new ConfigError(name, `expected an integer ≥ 1, found ${value}`);
    }
    this.rng = randomStream(o.seed);
    const init = this.rng.derive('init');
    const real = o.numItems - FIRST_REAL_ITEM;
    const rho0 = logit(o.initScale / o.maxScale);
    const normal = (n: number, sd: number, label: string) => {
      const r = init.derive(label);
      return Float32Array.from({ length: n }, () => sd * r.normal());
    };
    // Initial means: small item and group vectors, Glorot-sized GRU weights (a responsive state
    // from the first step), group scales 0.5 (|s| near 0 would make the item prior a spike).
    const spec: [LatentName, [number, number], Float32Array, number | null][] = [
      ['groupVec', [groups, dim], normal(groups * dim, 0.1, 'groupVec'), o.priorScale],
      ['groupScale', [groups, dim], new Float32Array(groups * dim).fill(0.5), o.priorScale],
      ['items', [real, dim], normal(real * dim, 0.1, 'items'), null],
      ['wIr', [hidden, dim], normal(hidden * dim, 1 / Math.sqrt(dim), 'wIr'), o.priorScale],
      ['wIu', [hidden, dim], normal(hidden * dim, 1 / Math.sqrt(dim), 'wIu'), o.priorScale],
      ['wIn', [hidden, dim], normal(hidden * dim, 1 / Math.sqrt(dim), 'wIn'), o.priorScale],
      ['wHr', [hidden, hidden], normal(hidden * hidden, 1 / Math.sqrt(hidden), 'wHr'), o.priorScale],
      ['wHu', [hidden, hidden], normal(hidden * hidden, 1 / Math.sqrt(hidden), 'wHu'), o.priorScale],
      ['wHn', [hidden, hidden], normal(hidden * hidden, 1 / Math.sqrt(hidden), 'wHn'), o.priorScale],
      ['wZ', [dim, hidden], normal(dim * hidden, 1 / Math.sqrt(hidden), 'wZ'), o.priorScale],
      ['noClickBias', [1, o.slots + 1], new Float32Array(o.slots + 1), o.priorBiasScale],
    ];
    this.latents = new Map(
      spec.map(([name, shape, values, priorSd]) => [
        name,
        {
          name,
          shape,
          mean: tf.tidy(() => tf.variable(tf.tensor2d(values, shape), true)),
          rho: tf.tidy(() => tf.variable(tf.fill(shape, rho0), true)),
          priorSd,
        },
      ]),
    );
    this.groupIndex = tf.tensor1d(itemGroup.subarray(FIRST_REAL_ITEM), 'int32');
    this.optimizer = tf.train.adam(o.learningRate);
  }

  /** SVI steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Users with a fitted h0 (in the order they appeared). */
  get knownUsers(): readonly number[] {
    return this.rowUsers;
  }

  /** Free every tensor the model holds. */
  dispose(): void {
    for (const l of this.latents.values()) {
      l.mean.dispose();
      l.rho.dispose();
    }
    this.groupIndex.dispose();
    this.optimizer.dispose();
  }

  private scaleOf(rho: tf.Tensor): tf.Tensor {
    return tf.mul(tf.sigmoid(rho), this.options.maxScale);
  }

  private rowFor(userId: number): number {
    let row = this.rowOf.get(userId);
    if (row !== undefined) return row;
    row = this.rowUsers.length;
    const H = this.options.hidden;
    if ((row + 1) * H > this.h0Mean.length) {
      const capacity = Math.max(64, 2 * (row + 1)) * H;
      const grow = <A extends Float32Array | Int32Array>(a: A, make: (n: number) => A): A => {
        const b = make(capacity);
        b.set(a);
        return b;
      };
      this.h0Mean = grow(this.h0Mean, (n) => new Float32Array(n));
      this.h0Rho = grow(this.h0Rho, (n) => new Float32Array(n));
      this.h0MeanM1 = grow(this.h0MeanM1, (n) => new Float32Array(n));
      this.h0MeanM2 = grow(this.h0MeanM2, (n) => new Float32Array(n));
      this.h0RhoM1 = grow(this.h0RhoM1, (n) => new Float32Array(n));
      this.h0RhoM2 = grow(this.h0RhoM2, (n) => new Float32Array(n));
      this.h0Steps = grow(this.h0Steps, (n) => new Int32Array(n / H));
    }
    this.h0Rho.fill(logit(this.options.initScale / this.options.maxScale), row * H, (row + 1) * H);
    this.rowOf.set(userId, row);
    this.rowUsers.push(userId);
    return row;
  }

  /**
   * Train by SVI on the blocks of `source` (each pass = one epoch), continuing from the current
   * posterior and optimiser state (so a refit on more data is a warm start).
   */
  async fit(source: BlockSource, options: SviFitOptions = {}): Promise<SviReport> {
    const started = performance.now();
    const progress = options.progress ?? silentProgress;
    let users = options.users;
    if (users === undefined) {
      users = 0;
      for await (const block of source()) users += block.users;
    }
    if (users < 1) throw new ConfigError('data', 'no users to train on');
    const epochs = options.epochs ?? 1;
    const B = this.options.batchUsers;
    const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
    const totalSteps = Math.min(maxSteps, epochs * Math.ceil(users / B));
    progress.start('GRU slate model (SVI)', totalSteps);
    let steps = 0;
    let llSum = 0;
    let llSteps = 0;
    let elbo = Number.NaN;
    outer: for (let e = 0; e < epochs; e++) {
      const order = this.rng.derive('epoch', this.stepCount, e);
      for await (const block of source()) {
        checkBlock(block, this.options);
        const perm = order.shuffle(Int32Array.from({ length: block.users }, (_, i) => i));
        for (let b = 0; b < block.users; b += B) {
          if (steps >= maxSteps) break outer;
          const rows = perm.subarray(b, Math.min(block.users, b + B));
          const r = this.step(block, rows, users);
          llSum += r.logLik;
          llSteps += r.observed;
          elbo = r.elboPerUser;
          steps++;
          progress.update(steps, `elbo/user ${elbo.toFixed(2)}`);
        }
      }
    }
    progress.finish(`elbo/user ${elbo.toFixed(2)}`);
    return { steps, elboPerUser: elbo, logLikPerStep: llSteps > 0 ? llSum / llSteps : Number.NaN, seconds: (performance.now() - started) / 1000 };
  }

  /** One SVI step on the users `rows` of `block`; U users in all. */
  private step(block: SlateSequences, rows: Int32Array, users: number): { logLik: number; observed: number; elboPerUser: number } {
    const o = this.options;
    const H = o.hidden;
    const Bn = rows.length;
    const hRows = Array.from(rows, (r) => this.rowFor(block.userId[r]));
    const hm0 = new Float32Array(Bn * H);
    const hr0 = new Float32Array(Bn * H);
    hRows.forEach((row, i) => {
      hm0.set(this.h0Mean.subarray(row * H, row * H + H), i * H);
      hr0.set(this.h0Rho.subarray(row * H, row * H + H), i * H);
    });
    // tidy frees the initial values; the variables (untracked by tidy) keep their data.
    const [hMean, hRho] = tf.tidy(() => [tf.variable(tf.tensor2d(hm0, [Bn, H]), true), tf.variable(tf.tensor2d(hr0, [Bn, H]), true)]);
    const batch = batchTensors(block, rows);
    const seedStream = this.rng.derive('step', this.stepCount);
    const seeds = Array.from({ length: LATENT_NAMES.length + 1 }, () => seedStream.nextUint32());
    const globals = [...this.latents.values()].flatMap((l) => [l.mean, l.rho]);
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const terms = this.elboTerms(batch, hMean, hRho, seeds);
      kept = [tf.keep(terms.logLik), tf.keep(terms.klLocal), tf.keep(terms.klGlobal)];
      // −ELBO / U = −{(1/B) Σ_u [ll_u − KL(q(h0_u)‖p)] − KL(q(θ)‖p(θ)) / U}
      return tf.neg(tf.sub(tf.div(tf.sub(terms.logLik, terms.klLocal), Bn), tf.div(terms.klGlobal, users))) as tf.Scalar;
    }, [...globals, hMean, hRho]);
    const [logLik, klLocal, klGlobal] = kept.map((t) => t.dataSync()[0]);
    const gm = grads[hMean.name].dataSync() as Float32Array;
    const gr = grads[hRho.name].dataSync() as Float32Array;
    const globalGrads: tf.NamedTensorMap = {};
    for (const v of globals) globalGrads[v.name] = grads[v.name];
    // applyGradients only reads the map by variable name; its declared type asks for variables.
    this.optimizer.applyGradients(globalGrads as unknown as Parameters<typeof this.optimizer.applyGradients>[0]);
    for (const [i, row] of hRows.entries()) this.adamRow(row, gm.subarray(i * H, i * H + H), gr.subarray(i * H, i * H + H));
    tf.dispose([value, ...Object.values(grads), ...kept, hMean, hRho]);
    disposeBatch(batch);
    this.stepCount++;
    return { logLik, observed: batch.observed, elboPerUser: (logLik - klLocal) / Bn - klGlobal / users };
  }

  /**
   * One estimate of the ELBO's terms on a whole block, with the model's K particles and the next
   * draws of its stream: E_q log-likelihood, Σ_u KL(q(h0_u) ‖ p) and KL(q(θ) ‖ p(θ)). Users of the
   * block without an h0 get one at its initial value. Changes no variational parameter.
   */
  estimateElbo(block: SlateSequences): { logLik: number; klLocal: number; klGlobal: number } {
    checkBlock(block, this.options);
    const H = this.options.hidden;
    const rows = Int32Array.from({ length: block.users }, (_, i) => i);
    const hRows = Array.from(rows, (r) => this.rowFor(block.userId[r]));
    const hm0 = new Float32Array(rows.length * H);
    const hr0 = new Float32Array(rows.length * H);
    hRows.forEach((row, i) => {
      hm0.set(this.h0Mean.subarray(row * H, row * H + H), i * H);
      hr0.set(this.h0Rho.subarray(row * H, row * H + H), i * H);
    });
    const seedStream = this.rng.derive('estimate', this.stepCount);
    const seeds = Array.from({ length: LATENT_NAMES.length + 1 }, () => seedStream.nextUint32());
    const batch = batchTensors(block, rows);
    const out = tf.tidy(() => {
      const terms = this.elboTerms(batch, tf.tensor2d(hm0, [rows.length, H]), tf.tensor2d(hr0, [rows.length, H]), seeds);
      return { logLik: terms.logLik.dataSync()[0], klLocal: terms.klLocal.dataSync()[0], klGlobal: terms.klGlobal.dataSync()[0] };
    });
    disposeBatch(batch);
    return out;
  }

  /** Lazy Adam on one user's h0 parameters (β1 0.9, β2 0.999, ε 1e−7 as tf.train.adam). */
  private adamRow(row: number, gMean: Float32Array, gRho: Float32Array): void {
    const H = this.options.hidden;
    const lr = this.options.h0LearningRate;
    const t = ++this.h0Steps[row];
    const c1 = 1 - 0.9 ** t;
    const c2 = 1 - 0.999 ** t;
    const update = (params: Float32Array, m1: Float32Array, m2: Float32Array, at: number, g: number) => {
      m1[at] = 0.9 * m1[at] + 0.1 * g;
      m2[at] = 0.999 * m2[at] + 0.001 * g * g;
      params[at] -= (lr * (m1[at] / c1)) / (Math.sqrt(m2[at] / c2) + 1e-7);
    };
    for (let j = 0; j < H; j++) {
      update(this.h0Mean, this.h0MeanM1, this.h0MeanM2, row * H + j, gMean[j]);
      update(this.h0Rho, this.h0RhoM1, this.h0RhoM2, row * H + j, gRho[j]);
    }
  }

  /**
   * The ELBO's terms on a batch: the likelihood averaged over K reparameterised draws of (θ, h0),
   * KL(q(h0) ‖ p) summed over the batch, and KL(q(θ) ‖ p(θ)) (the item part averaged over the K
   * draws of the group vectors and scales it depends on). The K draws run as one batched pass.
   */
  private elboTerms(batch: BatchTensors, hMean: tf.Tensor2D, hRho: tf.Tensor2D, seeds: number[]): { logLik: tf.Scalar; klLocal: tf.Scalar; klGlobal: tf.Scalar } {
    const o = this.options;
    const K = o.particles;
    const hScale = this.scaleOf(hRho);
    const klLocal = tf.sum(gaussianKlTensor(hMean, hScale, 0, o.priorH0Scale)) as tf.Scalar;
    let klFixed: tf.Tensor = tf.scalar(0);
    for (const l of this.latents.values()) {
      if (l.priorSd !== null) klFixed = tf.add(klFixed, tf.sum(gaussianKlTensor(l.mean, this.scaleOf(l.rho), 0, l.priorSd)));
    }
    // θ_k = m + σ ⊙ ε_k for k = 1..K, stacked on a leading axis.
    const theta = {} as Theta;
    LATENT_NAMES.forEach((name, i) => {
      const l = this.latents.get(name)!;
      theta[name] = tf.add(l.mean, tf.mul(this.scaleOf(l.rho), tf.randomNormal([K, ...l.shape], 0, 1, 'float32', seeds[i]))) as tf.Tensor3D;
    });
    const h0 = tf.add(hMean, tf.mul(hScale, tf.randomNormal([K, ...hMean.shape], 0, 1, 'float32', seeds[LATENT_NAMES.length]))) as tf.Tensor3D;
    const logLik = tf.div(tf.sum(this.forward(theta, h0, batch)), K) as tf.Scalar;
    // KL(q(v) ‖ N(g_c, τ_c²)) given each draw's g and s (τ = max(|s|, 0.001)), averaged over draws.
    const items = this.latents.get('items')!;
    const G = o.groups;
    const real = o.numItems - FIRST_REAL_ITEM;
    const groupRows = tf.reshape(tf.add(tf.expandDims(this.groupIndex, 0), tf.reshape(tf.range(0, K * G, G, 'int32'), [K, 1])), [-1]) as tf.Tensor1D;
    const g = tf.reshape(gatherRows(tf.reshape(theta.groupVec, [K * G, o.dim]), groupRows), [K, real, o.dim]);
    const tau = tf.maximum(tf.abs(tf.reshape(gatherRows(tf.reshape(theta.groupScale, [K * G, o.dim]), groupRows), [K, real, o.dim])), 0.001);
    const klItems = tf.div(tf.sum(gaussianKlTensor(items.mean, this.scaleOf(items.rho), g, tau)), K);
    return { logLik, klLocal, klGlobal: tf.add(klFixed, klItems) as tf.Scalar };
  }

  /**
   * Per-draw, per-user click log-likelihood [K, B] for K parameter draws θ (each latent [K, …]) and
   * initial states h0 [K, B, H].
   */
  private forward(theta: Theta, h0: tf.Tensor3D, batch: BatchTensors): tf.Tensor2D {
    const o = this.options;
    const { B, T, S } = batch;
    const K = h0.shape[0];
    const d = o.dim;
    const H = o.hidden;
    const N = o.numItems;
    // Item table of every draw, flattened to [K·N, d] (rows 0..2 zero); draw k's item i is row k·N + i.
    const V = tf.reshape(tf.concat([tf.zeros([K, FIRST_REAL_ITEM, d]), theta.items], 1), [K * N, d]) as tf.Tensor2D;
    const offsets = tf.reshape(tf.range(0, K * N, N, 'int32'), [K, 1]);
    const rowsOf = (idx: tf.Tensor1D) => tf.reshape(tf.add(tf.expandDims(idx, 0), offsets), [-1]) as tf.Tensor1D;
    // Input projections of every step's clicked item at once: [K, B·T, 3H].
    const Wi = tf.concat([theta.wIr, theta.wIu, theta.wIn], 1);
    const Wh = tf.concat([theta.wHr, theta.wHu, theta.wHn], 1);
    const clickVecs = tf.reshape(gatherRows(V, rowsOf(batch.click)), [K, B * T, d]);
    const X = tf.reshape(tf.matMul(clickVecs, Wi, false, true), [K, B, T, 3 * H]);
    const xs = tf.unstack(X, 2);
    const updates = tf.unstack(batch.update, 1).map((u) => tf.reshape(u, [1, B, 1]));
    let h: tf.Tensor = h0;
    const zs: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      // z_t from the state before step t's click.
      zs.push(tf.matMul(h, theta.wZ, false, true));
      const [xr, xu, xn] = tf.split(xs[t], 3, 2);
      const [hr, hu, hn] = tf.split(tf.matMul(h, Wh, false, true), 3, 2);
      const r = tf.sigmoid(tf.add(xr, hr));
      const u = tf.sigmoid(tf.add(xu, hu));
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      const hNew = tf.add(tf.mul(tf.sub(1, u), n), tf.mul(u, h));
      // The state moves only on a click on a real item.
      h = tf.add(h, tf.mul(updates[t], tf.sub(hNew, h)));
    }
    const Z = tf.expandDims(tf.stack(zs, 2), 3); // [K, B, T, 1, d]
    const slateVecs = tf.reshape(gatherRows(V, rowsOf(batch.slate)), [K, B, T, S, d]);
    const score = o.score === 'dot' ? tf.sum(tf.mul(slateVecs, Z), -1) : tf.neg(tf.sqrt(tf.maximum(tf.sum(tf.square(tf.sub(slateVecs, Z)), -1), 1e-10)));
    const biasRows = tf.reshape(tf.add(tf.expandDims(batch.lengths, 0), tf.reshape(tf.range(0, K * (o.slots + 1), o.slots + 1, 'int32'), [K, 1])), [-1]) as tf.Tensor1D;
    const bias = tf.reshape(gatherRows(tf.reshape(theta.noClickBias, [K * (o.slots + 1), 1]), biasRows), [K, B, T, 1]);
    // Shown real items: their score; the no-click slot: b[len]; everything else −1e9 (probability 0).
    const logits = tf.add(tf.add(tf.mul(batch.itemMask, score), tf.mul(batch.noClickMask, bias)), tf.mul(batch.otherMask, -1e9));
    const logp = tf.sub(logits, tf.logSumExp(logits, 3, true));
    const picked = tf.sum(tf.mul(logp, batch.clickOneHot), 3);
    return tf.sum(tf.mul(picked, batch.observedMask), 2) as tf.Tensor2D;
  }

  /**
   * The click log-likelihood of `data` under fixed parameters `p` (e.g. a world's truth), by the
   * TF.js forward pass used in training: the same quantity as simulation's plain-JS
   * `clickLogLikelihood`, which the tests compare it with.
   */
  fixedLogLikelihood(p: GruSlateParameters, data: SlateSequences): number {
    const o = this.options;
    if (p.dim !== o.dim || p.hidden !== o.hidden || p.numItems !== o.numItems || p.slots !== o.slots || p.score !== o.score) {
      throw new ConfigError('parameters', `their shape (d ${p.dim}, H ${p.hidden}, items ${p.numItems}, slots ${p.slots}, ${p.score}) differs from the model's`);
    }
    checkBlock(data, o);
    const rows = Int32Array.from({ length: data.users }, (_, i) => i);
    const batch = batchTensors(data, rows);
    const H = o.hidden;
    const h0 = new Float32Array(data.users * H);
    for (let u = 0; u < data.users; u++) {
      const row = p.userRows === null ? data.userId[u] : (p.userRows.get(data.userId[u]) ?? -1);
      if (row >= 0 && (row + 1) * H <= p.h0.length) h0.set(p.h0.subarray(row * H, row * H + H), u * H);
    }
    const real = o.numItems - FIRST_REAL_ITEM;
    const value = tf.tidy(() => {
      const theta: Theta = {
        groupVec: tf.zeros([1, 1, o.dim]),
        groupScale: tf.zeros([1, 1, o.dim]),
        items: tf.tensor3d(p.itemVectors.subarray(FIRST_REAL_ITEM * o.dim), [1, real, o.dim]),
        wIr: tf.tensor3d(p.wIr, [1, H, o.dim]),
        wIu: tf.tensor3d(p.wIu, [1, H, o.dim]),
        wIn: tf.tensor3d(p.wIn, [1, H, o.dim]),
        wHr: tf.tensor3d(p.wHr, [1, H, H]),
        wHu: tf.tensor3d(p.wHu, [1, H, H]),
        wHn: tf.tensor3d(p.wHn, [1, H, H]),
        wZ: tf.tensor3d(p.wZ, [1, o.dim, H]),
        noClickBias: tf.tensor3d(p.noClickBias, [1, 1, o.slots + 1]),
      };
      return tf.sum(this.forward(theta, tf.tensor3d(h0, [1, data.users, H]), batch)).dataSync()[0];
    });
    disposeBatch(batch);
    return value;
  }

  /** The variational means and scales of every latent, as typed arrays. */
  variational(): { name: string; shape: [number, number]; mean: Float32Array; scale: Float32Array }[] {
    const out = [...this.latents.values()].map((l) => ({
      name: l.name,
      shape: l.shape,
      mean: l.mean.dataSync() as Float32Array,
      scale: tf.tidy(() => this.scaleOf(l.rho).dataSync() as Float32Array),
    }));
    const H = this.options.hidden;
    const n = this.rowUsers.length * H;
    const max = this.options.maxScale;
    out.push({
      name: 'h0',
      shape: [this.rowUsers.length, H],
      mean: this.h0Mean.slice(0, n),
      scale: Float32Array.from(this.h0Rho.subarray(0, n), (r) => max / (1 + Math.exp(-r))),
    });
    return out;
  }

  /**
   * The variational posterior as plain arrays, read once: its mean and draws from it as world
   * parameters (for recommendation and evaluation in plain JS; later training does not change it).
   */
  posterior(): GruPosterior {
    return new GruPosterior(this.options, this.variational(), new Map(this.rowOf));
  }

  /** The state to save: options, item groups, users with an h0, and every variational array. */
  snapshot(): GruSlateSnapshot {
    return {
      options: { ...this.options, itemGroup: undefined },
      itemGroup: this.itemGroup,
      users: [...this.rowUsers],
      steps: this.stepCount,
      arrays: this.variational().map((x) => ({ name: x.name, shape: x.shape, mean: x.mean, scale: x.scale })),
    };
  }

  /** A model restored from `snapshot()` (the optimiser's moments are not kept: a later fit restarts Adam). */
  static restore(s: GruSlateSnapshot): GruSlateModel {
    const { itemGroup: _drop, ...options } = s.options;
    const model = new GruSlateModel({ ...options, itemGroup: s.itemGroup });
    const max = model.options.maxScale;
    const rhoOf = (scale: Float32Array, name: string) =>
      Float32Array.from(scale, (x) => {
        if (!(x > 0 && x < max)) throw new ConfigError(`${name}.scale`, `expected scales in (0, ${max}), found ${x}`);
        return logit(x / max);
      });
    for (const a of s.arrays) {
      if (a.name === 'h0') continue;
      const l = model.latents.get(a.name as LatentName);
      if (!l) throw new ConfigError('arrays', `unknown latent "${a.name}"`);
      if (l.shape[0] !== a.shape[0] || l.shape[1] !== a.shape[1]) throw new ConfigError(a.name, `expected shape [${l.shape}], found [${a.shape}]`);
      tf.tidy(() => {
        l.mean.assign(tf.tensor2d(a.mean, l.shape));
        l.rho.assign(tf.tensor2d(rhoOf(a.scale, a.name), l.shape));
      });
    }
    const h0 = s.arrays.find((a) => a.name === 'h0');
    const H = model.options.hidden;
    if (!h0 || h0.mean.length !== s.users.length * H) throw new ConfigError('h0', `expected ${s.users.length} × ${H} initial states`);
    const rho = rhoOf(h0.scale, 'h0');
    s.users.forEach((user, i) => {
      const row = model.rowFor(user);
      model.h0Mean.set(h0.mean.subarray(i * H, i * H + H), row * H);
      model.h0Rho.set(rho.subarray(i * H, i * H + H), row * H);
    });
    model.stepCount = s.steps;
    return model;
  }
}

/** A snapshot of q(θ, h0): its mean and draws, as `GruSlateParameters`. */
export class GruPosterior {
  private readonly arrays: Map<string, { mean: Float32Array; scale: Float32Array }>;
  private readonly meanParams: GruSlateParameters;

  constructor(
    private readonly o: Resolved,
    arrays: readonly { name: string; mean: Float32Array; scale: Float32Array }[],
    private readonly userRows: ReadonlyMap<number, number>,
  ) {
    this.arrays = new Map(arrays.map((a) => [a.name, a]));
    this.meanParams = this.build((name) => this.arrays.get(name)!.mean, this.arrays.get('h0')!.mean, userRows);
  }

  /** The posterior mean (greedy recommendation, evaluation). */
  mean(): GruSlateParameters {
    return this.meanParams;
  }

  /**
   * One draw θ ~ q from `rng`. With `userId`, only that user's h0 is drawn (the parameters then
   * know only that user), which is what one slate for one user needs.
   */
  sample(rng: RandomStream, userId?: number): GruSlateParameters {
    const draw = (name: string, from = 0, to?: number) => {
      const { mean, scale } = this.arrays.get(name)!;
      const end = to ?? mean.length;
      const out = new Float32Array(end - from);
      for (let i = 0; i < out.length; i++) out[i] = mean[from + i] + scale[from + i] * rng.normal();
      return out;
    };
    const H = this.o.hidden;
    if (userId === undefined) return this.build((name) => draw(name), draw('h0'), this.userRows);
    const row = this.userRows.get(userId);
    // A user the model has not seen starts from the prior N(0, σ_h0²).
    const h0 = row === undefined ? Float32Array.from({ length: H }, () => this.o.priorH0Scale * rng.normal()) : draw('h0', row * H, row * H + H);
    return this.build((name) => draw(name), h0, new Map([[userId, 0]]));
  }

  private build(value: (name: string) => Float32Array, h0: Float32Array, userRows: ReadonlyMap<number, number>): GruSlateParameters {
    const o = this.o;
    const itemVectors = new Float32Array(o.numItems * o.dim);
    itemVectors.set(value('items'), FIRST_REAL_ITEM * o.dim);
    return {
      dim: o.dim,
      hidden: o.hidden,
      numItems: o.numItems,
      slots: o.slots,
      score: o.score,
      itemVectors,
      wIr: value('wIr'),
      wIu: value('wIu'),
      wIn: value('wIn'),
      wHr: value('wHr'),
      wHu: value('wHu'),
      wHn: value('wHn'),
      wZ: value('wZ'),
      noClickBias: value('noClickBias'),
      h0,
      userRows,
    };
  }
}

/** Everything a saved GRU slate model holds. */
export interface GruSlateSnapshot {
  readonly options: GruSlateModelOptions & { readonly itemGroup?: undefined };
  readonly itemGroup: Int32Array;
  readonly users: readonly number[];
  readonly steps: number;
  readonly arrays: readonly { readonly name: string; readonly shape: [number, number]; readonly mean: Float32Array; readonly scale: Float32Array }[];
}

/** KL(N(m, s²) ‖ N(μ, σ²)) = log(σ/s) + (s² + (m − μ)²)/(2σ²) − ½, elementwise. */
function gaussianKlTensor(m: tf.Tensor, s: tf.Tensor, mu: tf.Tensor | number, sigma: tf.Tensor | number): tf.Tensor {
  const sig = typeof sigma === 'number' ? tf.scalar(sigma) : sigma;
  return tf.sub(tf.add(tf.log(tf.div(sig, s)), tf.div(tf.add(tf.square(s), tf.square(tf.sub(m, mu))), tf.mul(2, tf.square(sig)))), 0.5);
}

interface BatchTensors {
  readonly B: number;
  readonly T: number;
  readonly S: number;
  /** Observed steps (clicks or no-clicks) in the batch. */
  readonly observed: number;
  /** [B·T] clicked item (state input; masked where `update` is 0). */
  readonly click: tf.Tensor1D;
  /** [B, T] 1 where the click is a real item (the state moves). */
  readonly update: tf.Tensor2D;
  /** [B, T] 1 where the step counts in the likelihood. */
  readonly observedMask: tf.Tensor2D;
  /** [B·T] slate length (index of the no-click bias). */
  readonly lengths: tf.Tensor1D;
  /** [B·T·S] shown items. */
  readonly slate: tf.Tensor1D;
  /** [B, T, S] masks of real items, of the no-click slot, of everything else. */
  readonly itemMask: tf.Tensor3D;
  readonly noClickMask: tf.Tensor3D;
  readonly otherMask: tf.Tensor3D;
  /** [B, T, S] one-hot of the clicked slot. */
  readonly clickOneHot: tf.Tensor3D;
}

function batchTensors(block: SlateSequences, rows: Int32Array): BatchTensors {
  const B = rows.length;
  const { steps: T, slots: S } = block;
  const click = new Int32Array(B * T);
  const update = new Float32Array(B * T);
  const observedMask = new Float32Array(B * T);
  const lengths = new Int32Array(B * T);
  const slate = new Int32Array(B * T * S);
  const itemMask = new Float32Array(B * T * S);
  const noClickMask = new Float32Array(B * T * S);
  const otherMask = new Float32Array(B * T * S);
  const oneHot = new Float32Array(B * T * S);
  let observed = 0;
  for (let b = 0; b < B; b++) {
    const u = rows[b];
    for (let t = 0; t < T; t++) {
      const src = u * T + t;
      const at = b * T + t;
      const c = block.click[src];
      click[at] = c;
      update[at] = c >= FIRST_REAL_ITEM ? 1 : 0;
      const obs = c !== 0 && c !== 2;
      observedMask[at] = obs ? 1 : 0;
      if (obs) observed++;
      lengths[at] = block.slateLengths[src];
      for (let k = 0; k < S; k++) {
        const item = block.slate[src * S + k];
        slate[at * S + k] = item;
        if (item >= FIRST_REAL_ITEM) itemMask[at * S + k] = 1;
        else if (item === NO_CLICK_ITEM) noClickMask[at * S + k] = 1;
        else otherMask[at * S + k] = 1;
      }
      if (obs) oneHot[at * S + block.clickIdx[src]] = 1;
    }
  }
  return {
    B,
    T,
    S,
    observed,
    click: tf.tensor1d(click, 'int32'),
    update: tf.tensor2d(update, [B, T]),
    observedMask: tf.tensor2d(observedMask, [B, T]),
    lengths: tf.tensor1d(lengths, 'int32'),
    slate: tf.tensor1d(slate, 'int32'),
    itemMask: tf.tensor3d(itemMask, [B, T, S]),
    noClickMask: tf.tensor3d(noClickMask, [B, T, S]),
    otherMask: tf.tensor3d(otherMask, [B, T, S]),
    clickOneHot: tf.tensor3d(oneHot, [B, T, S]),
  };
}

function disposeBatch(batch: BatchTensors): void {
  tf.dispose([batch.click, batch.update, batch.observedMask, batch.lengths, batch.slate, batch.itemMask, batch.noClickMask, batch.otherMask, batch.clickOneHot]);
}

/** Every item index within the model, slates no longer than its S, clicks on shown slots. */
function checkBlock(block: SlateSequences, o: { numItems: number; slots: number }): void {
  if (block.slots !== o.slots) throw new ConfigError('data', `the data has ${block.slots} slots per slate, the model ${o.slots}`);
  const { users, steps: T, slots: S } = block;
  for (let at = 0; at < users * T; at++) {
    const c = block.click[at];
    if (c < 0 || c >= o.numItems) throw new ConfigError(`data: user ${block.userId[Math.floor(at / T)]}, step ${at % T}`, `clicked item ${c} is outside the model's items 0..${o.numItems - 1}`);
    const len = block.slateLengths[at];
    if (len < 0 || len > S) throw new ConfigError(`data: user ${block.userId[Math.floor(at / T)]}, step ${at % T}`, `slate length ${len} is outside 0..${S}`);
    if (c !== 0 && c !== 2 && (block.clickIdx[at] < 0 || block.clickIdx[at] >= len)) {
      throw new ConfigError(`data: user ${block.userId[Math.floor(at / T)]}, step ${at % T}`, `clicked slot ${block.clickIdx[at]} is outside the slate's ${len} slots`);
    }
    for (let k = 0; k < S; k++) {
      const item = block.slate[at * S + k];
      if (item < 0 || item >= o.numItems)
        throw new ConfigError(`data: user ${block.userId[Math.floor(at / T)]}, step ${at % T}`, `shown item ${item} is outside the model's items 0..${o.numItems - 1}`);
    }
  }
}
