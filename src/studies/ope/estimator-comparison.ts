/**
 * Off-policy estimators against a simulator's exact truth. A contextual slate world: U users and
 * A items with latent factors, attractiveness α(u, a) = σ(b + x_u·y_a), K slots, and clicks from a
 * position-based model (P(click at k) = κ_k α) or a cascade (the user scans down and clicks the
 * first attractive item). The logging and evaluation policies are Plackett–Luce (softmax without
 * replacement) over different scores, so every slate has positive probability under both; their
 * whole-slate, top-k prefix and item-at-position probabilities are exact (every ordered slate of
 * every user is enumerated), and so is the evaluation policy's value
 *
 *     V(π) = (1/U) Σ_u Σ_s π(s | u) (1/K) Σ_k E[click_k | u, s]       (expected CTR per slot).
 *
 * `runEstimatorComparison` draws logs of several sizes over many seeds and reports each
 * estimator's bias, variance and MSE against V(π_e) as a tidy array of rows.
 */
import { ConfigError } from '../../core/errors.js';
import { randomStream, type RandomStream } from '../../core/random.js';
import type { ActionArray, OffPolicyInputs, PolicyValueEstimator } from '../../evaluation/off-policy.js';
import { crossFitRewardModel, oneHotRewardFeatures } from '../../evaluation/reward-model.js';
import { allSlateEstimators, type SlateOffPolicyInputs } from '../../evaluation/slate-estimators.js';
import { mean } from '../../evaluation/statistics.js';
import { DirectMethod, DoublyRobust } from '../../evaluation/estimators.js';
import { standardEstimators } from './open-bandit-protocol.js';

export type ComparisonClickModel = 'pbm' | 'cascade';

export interface SlateWorldOptions {
  readonly users?: number;
  readonly items?: number;
  readonly slateSize?: number;
  readonly dimension?: number;
  /** Logit offset b of the attractiveness (default −2: α around 0.1–0.2). */
  readonly bias?: number;
  readonly clickModel?: ComparisonClickModel;
  /** PBM examination κ_k per slot (default 1, 0.6, 0.35). */
  readonly examination?: readonly number[];
  /** Softmax inverse temperatures of the logging and evaluation policies (defaults 0.5 and 2). */
  readonly loggingSharpness?: number;
  readonly evaluationSharpness?: number;
  /** Noise (standard deviation) of the logging policy's scores around the true logits (default 1). */
  readonly loggingNoise?: number;
}

/** A world with both policies' exact probabilities of every ordered slate, per user. */
export interface SlateWorld {
  readonly users: number;
  readonly items: number;
  readonly slateSize: number;
  readonly clickModel: ComparisonClickModel;
  readonly examination: Float64Array;
  /** α(u, a), users × items. */
  readonly attractiveness: Float64Array;
  /** Every ordered slate of K distinct items, slates × K. */
  readonly slates: Int32Array;
  readonly numSlates: number;
  readonly logging: PolicyTables;
  readonly evaluation: PolicyTables;
  /** E[click at k | u, a at k] under PBM (κ_k α(u, a)), users × items × K; under cascade it depends on the slate. */
  readonly pbmRewardTable: Float64Array;
}

/** Exact probabilities of a Plackett–Luce policy in a world. */
export interface PolicyTables {
  /** Softmax scores, users × items. */
  readonly scores: Float64Array;
  /** π(slate | u), users × slates. */
  readonly slate: Float64Array;
  /** π(items at positions 1..k | u), users × slates × K. */
  readonly prefix: Float64Array;
  /** π(a at k | u), users × items × K. */
  readonly marginal: Float64Array;
  /** V(π): expected clicks per slot. */
  readonly value: number;
}

function enumerateSlates(items: number, K: number): Int32Array {
  const out: number[] = [];
  const current: number[] = [];
  const used = new Uint8Array(items);
  const walk = (): void => {
    if (current.length === K) {
      out.push(...current);
      return;
    }
    for (let a = 0; a < items; a++) {
      if (used[a]) continue;
      used[a] = 1;
      current.push(a);
      walk();
      current.pop();
      used[a] = 0;
    }
  };
  walk();
  return Int32Array.from(out);
}

/** E[Σ_k click_k] / K for user u and slate s. */
function slateReward(world: Pick<SlateWorld, 'clickModel' | 'examination' | 'attractiveness' | 'items' | 'slateSize'>, u: number, slate: ArrayLike<number>, offset: number): number {
  const K = world.slateSize;
  let total = 0;
  let reach = 1;
  for (let k = 0; k < K; k++) {
    const alpha = world.attractiveness[u * world.items + slate[offset + k]];
    if (world.clickModel === 'pbm') {
      total += world.examination[k] * alpha;
    } else {
      total += reach * alpha;
      reach *= 1 - alpha;
    }
  }
  return total / K;
}

function policyTables(world: Omit<SlateWorld, 'logging' | 'evaluation'>, scores: Float64Array): PolicyTables {
  const { users: U, items: A, slateSize: K, slates, numSlates: S } = world;
  const slate = new Float64Array(U * S);
  const prefix = new Float64Array(U * S * K);
  const marginal = new Float64Array(U * A * K);
  let value = 0;
  const expScore = new Float64Array(A);
  for (let u = 0; u < U; u++) {
    let total = 0;
    for (let a = 0; a < A; a++) {
      expScore[a] = Math.exp(scores[u * A + a]);
      total += expScore[a];
    }
    for (let s = 0; s < S; s++) {
      // Plackett–Luce: π(a_1..a_K) = Π_k exp(s_{a_k}) / (Σ_all − Σ_{j<k} exp(s_{a_j})).
      let p = 1;
      let remaining = total;
      for (let k = 0; k < K; k++) {
        const a = slates[s * K + k];
        p *= expScore[a] / remaining;
        remaining -= expScore[a];
        prefix[(u * S + s) * K + k] = p;
      }
      slate[u * S + s] = p;
      for (let k = 0; k < K; k++) marginal[(u * A + slates[s * K + k]) * K + k] += p;
      value += p * slateReward(world, u, slates, s * K);
    }
  }
  return { scores, slate, prefix, marginal, value: value / U };
}

/** Builds a world from a seed (factors, policies' scores) with every probability exact. */
export function createSlateWorld(seed: string | number, options: SlateWorldOptions = {}): SlateWorld {
  const U = options.users ?? 20;
  const A = options.items ?? 8;
  const K = options.slateSize ?? 3;
  const d = options.dimension ?? 4;
  const bias = options.bias ?? -2;
  const clickModel = options.clickModel ?? 'pbm';
  if (clickModel !== 'pbm' && clickModel !== 'cascade') throw new ConfigError('clickModel', `expected 'pbm' or 'cascade', found '${String(clickModel)}'`);
  for (const [name, v] of [['users', U], ['items', A], ['slateSize', K], ['dimension', d]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `expected an integer ≥ 1, found ${v}`);
  }
  if (K > A) throw new ConfigError('slateSize', `expected at most ${A} (items), found ${K}`);
  const examination = Float64Array.from({ length: K }, (_, k) => (options.examination ?? [1, 0.6, 0.35])[Math.min(k, (options.examination ?? [1, 0.6, 0.35]).length - 1)]);
  const rng = randomStream(seed).derive('slate-world');
  const x = Float64Array.from({ length: U * d }, () => rng.normal() / Math.sqrt(d) * 1.5);
  const y = Float64Array.from({ length: A * d }, () => rng.normal());
  const logit = new Float64Array(U * A);
  const attractiveness = new Float64Array(U * A);
  for (let u = 0; u < U; u++) {
    for (let a = 0; a < A; a++) {
      let z = bias;
      for (let j = 0; j < d; j++) z += x[u * d + j] * y[a * d + j];
      logit[u * A + a] = z;
      attractiveness[u * A + a] = 1 / (1 + Math.exp(-z));
    }
  }
  const slates = enumerateSlates(A, K);
  const numSlates = slates.length / K;
  const pbmRewardTable = new Float64Array(U * A * K);
  for (let u = 0; u < U; u++) for (let a = 0; a < A; a++) for (let k = 0; k < K; k++) pbmRewardTable[(u * A + a) * K + k] = examination[k] * attractiveness[u * A + a];
  const base = { users: U, items: A, slateSize: K, clickModel, examination, attractiveness, slates, numSlates, pbmRewardTable };
  const noise = options.loggingNoise ?? 1;
  const loggingScores = Float64Array.from(logit, (z) => (options.loggingSharpness ?? 0.5) * (z + noise * rng.normal()));
  const evaluationScores = Float64Array.from(logit, (z) => (options.evaluationSharpness ?? 2) * z);
  return { ...base, logging: policyTables(base, loggingScores), evaluation: policyTables(base, evaluationScores) };
}

/** A logged sample: `slates` impressions, each a uniformly drawn user and a slate from the logging policy. */
export interface SimulatedSlateLog {
  readonly slates: number;
  readonly user: Int32Array;
  /** Index of the logged slate in `world.slates`. */
  readonly slateIndex: Int32Array;
  /** Clicks, slates × K. */
  readonly click: Uint8Array;
}

export function sampleSimulatedSlateLog(world: SlateWorld, slates: number, rng: RandomStream): SimulatedSlateLog {
  const { users: U, numSlates: S, slateSize: K, items: A } = world;
  const user = new Int32Array(slates);
  const slateIndex = new Int32Array(slates);
  const click = new Uint8Array(slates * K);
  for (let t = 0; t < slates; t++) {
    const u = rng.int(U);
    user[t] = u;
    // Inverse CDF over the user's enumerated slates (exact, same probabilities as sequential PL draws).
    let r = rng.uniform();
    let s = 0;
    const row = world.logging.slate;
    for (; s < S - 1; s++) {
      r -= row[u * S + s];
      if (r < 0) break;
    }
    slateIndex[t] = s;
    for (let k = 0; k < K; k++) {
      const alpha = world.attractiveness[u * A + world.slates[s * K + k]];
      if (world.clickModel === 'pbm') {
        click[t * K + k] = rng.uniform() < world.examination[k] * alpha ? 1 : 0;
      } else {
        const clicked = rng.uniform() < alpha;
        click[t * K + k] = clicked ? 1 : 0;
        if (clicked) break; // the cascade user stops at the first click
      }
    }
  }
  return { slates, user, slateIndex, click };
}

/** Row-level inputs (one row per slot): pscore π_b(a at k | u), actionDist π_e(· at k | u). */
export function standardInputsOf(world: SlateWorld, log: SimulatedSlateLog, estimatedRewards?: ActionArray): OffPolicyInputs {
  const { slateSize: K, items: A } = world;
  const n = log.slates * K;
  const action = new Int32Array(n);
  const position = new Int32Array(n);
  const pscore = new Float64Array(n);
  const reward = new Uint8Array(n);
  const dist = new Float64Array(n * A * K);
  for (let t = 0; t < log.slates; t++) {
    const u = log.user[t];
    const s = log.slateIndex[t];
    for (let k = 0; k < K; k++) {
      const i = t * K + k;
      const a = world.slates[s * K + k];
      action[i] = a;
      position[i] = k;
      reward[i] = log.click[i];
      pscore[i] = world.logging.marginal[(u * A + a) * K + k];
      dist.set(world.evaluation.marginal.subarray(u * A * K, (u + 1) * A * K), i * A * K);
    }
  }
  return { reward, action, position, pscore, actionDist: { numActions: A, numPositions: K, values: dist }, estimatedRewards };
}

/** The user of each row of `standardInputsOf`. */
export function rowUsers(world: SlateWorld, log: SimulatedSlateLog): Int32Array {
  return Int32Array.from({ length: log.slates * world.slateSize }, (_, i) => log.user[Math.floor(i / world.slateSize)]);
}

/** The true q(u, a, k) = κ_k α(u, a) per row, action and position (the exact model under PBM). */
export function trueRewardModel(world: SlateWorld, log: SimulatedSlateLog): ActionArray {
  const { items: A, slateSize: K } = world;
  const n = log.slates * K;
  const values = new Float64Array(n * A * K);
  for (let i = 0; i < n; i++) {
    const u = log.user[Math.floor(i / K)];
    values.set(world.pbmRewardTable.subarray(u * A * K, (u + 1) * A * K), i * A * K);
  }
  return { numActions: A, numPositions: K, values };
}

/** Slate-level inputs with every kind of propensity of both policies. */
export function slateInputsOf(world: SlateWorld, log: SimulatedSlateLog): SlateOffPolicyInputs {
  const { slateSize: K, items: A, numSlates: S } = world;
  const n = log.slates * K;
  const slateId = new Int32Array(n);
  const position = new Int32Array(n);
  const reward = new Uint8Array(n);
  const kinds = () => ({ slate: new Float64Array(n), itemPosition: new Float64Array(n), cascade: new Float64Array(n) });
  const b = kinds();
  const e = kinds();
  for (let t = 0; t < log.slates; t++) {
    const u = log.user[t];
    const s = log.slateIndex[t];
    for (let k = 0; k < K; k++) {
      const i = t * K + k;
      const a = world.slates[s * K + k];
      slateId[i] = t;
      position[i] = k;
      reward[i] = log.click[i];
      for (const [tables, out] of [[world.logging, b], [world.evaluation, e]] as const) {
        out.slate[i] = tables.slate[u * S + s];
        out.itemPosition[i] = tables.marginal[(u * A + a) * K + k];
        out.cascade[i] = tables.prefix[(u * S + s) * K + k];
      }
    }
  }
  return { slateId, reward, position, pscore: b, evaluationPscore: e };
}

export interface EstimatorComparisonOptions {
  readonly world?: SlateWorldOptions;
  /** Seed of the world (default 1); each replicate's log has its own derived stream. */
  readonly worldSeed?: number;
  /** Log sizes in slates (default 500, 5,000). */
  readonly sampleSizes?: readonly number[];
  /** Replicates per size (default 50). */
  readonly seeds?: number;
  /** λ of clipped IPW, Switch-DR and DRos (default 3: this world's row weights reach about 6). */
  readonly lambda?: number;
  /** Cross-fitting folds of the fitted reward model (default 3). */
  readonly folds?: number;
  /** Called after each replicate (progress). */
  readonly onReplicate?: (done: number, total: number) => void;
}

/** One estimator at one sample size, over the replicates. */
export interface EstimatorComparisonRow {
  readonly clickModel: ComparisonClickModel;
  readonly slates: number;
  readonly estimator: string;
  readonly replicates: number;
  /** V(π_e), expected CTR per slot. */
  readonly truth: number;
  readonly mean: number;
  readonly bias: number;
  /** Sample variance over replicates (n − 1). */
  readonly variance: number;
  /** Mean squared error against the truth. */
  readonly mse: number;
  /** √MSE / V. */
  readonly relativeRmse: number;
}

export interface EstimatorComparison {
  readonly truth: number;
  /** V(π_b), the logging policy's own value. */
  readonly loggingValue: number;
  readonly rows: EstimatorComparisonRow[];
}

/**
 * Every estimator (standard ones with a cross-fitted logistic model on one-hot user, item, position
 * and item × position; DM and DR also with the true model under PBM; the six slate estimators,
 * whose per-slate sums are divided by K to be per slot) over `seeds` logs of each size.
 */
export function runEstimatorComparison(options: EstimatorComparisonOptions = {}): EstimatorComparison {
  const world = createSlateWorld(options.worldSeed ?? 1, options.world);
  const sizes = options.sampleSizes ?? [500, 5000];
  const seeds = options.seeds ?? 50;
  const lambda = options.lambda ?? 3;
  const { users: U, items: A, slateSize: K } = world;
  const truth = world.evaluation.value;
  const standard = standardEstimators(lambda);
  const withTrueModel: PolicyValueEstimator<OffPolicyInputs>[] = world.clickModel === 'pbm' ? [new DirectMethod({ name: 'dm (true q)' }), new DoublyRobust({ name: 'dr (true q)' })] : [];
  const slate = allSlateEstimators();
  const names = [...standard.map((e) => e.name), ...withTrueModel.map((e) => e.name), ...slate.map((e) => e.name)];
  const rows: EstimatorComparisonRow[] = [];
  let done = 0;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1) throw new ConfigError('sampleSizes', `expected integers ≥ 1, found ${size}`);
    const estimates = names.map(() => new Float64Array(seeds));
    for (let r = 0; r < seeds; r++) {
      const log = sampleSimulatedSlateLog(world, size, randomStream(options.worldSeed ?? 1).derive('log', size, r));
      const users = rowUsers(world, log);
      const base = standardInputsOf(world, log);
      const fitted = crossFitRewardModel(base, oneHotRewardFeatures({ numActions: A, numPositions: K, context: { codes: users, cardinalities: [U] }, actionPosition: true }), A, K, {
        folds: options.folds ?? 3,
        seed: r,
        groups: Int32Array.from(users, (_, i) => Math.floor(i / K)),
      });
      const inputs = { ...base, estimatedRewards: fitted };
      let j = 0;
      for (const e of standard) estimates[j++][r] = e.estimate(inputs);
      if (withTrueModel.length > 0) {
        const trueInputs = { ...base, estimatedRewards: trueRewardModel(world, log) };
        for (const e of withTrueModel) estimates[j++][r] = e.estimate(trueInputs);
      }
      const slateInputs = slateInputsOf(world, log);
      for (const e of slate) estimates[j++][r] = e.estimate(slateInputs) / K;
      options.onReplicate?.(++done, sizes.length * seeds);
    }
    names.forEach((estimator, j) => {
      const values = estimates[j];
      const m = mean(values);
      let ss = 0;
      let se = 0;
      for (const v of values) {
        ss += (v - m) * (v - m);
        se += (v - truth) * (v - truth);
      }
      const mse = se / seeds;
      rows.push({
        clickModel: world.clickModel,
        slates: size,
        estimator,
        replicates: seeds,
        truth,
        mean: m,
        bias: m - truth,
        variance: seeds > 1 ? ss / (seeds - 1) : 0,
        mse,
        relativeRmse: Math.sqrt(mse) / truth,
      });
    });
  }
  return { truth, loggingValue: world.logging.value, rows };
}

/** A plain-text table of the comparison: bias, standard deviation and RMSE per slot, and RMSE relative to the truth. */
export function formatComparisonTable(result: EstimatorComparison): string {
  const header = ['slates', 'estimator', 'bias', 'std', 'RMSE', 'RMSE / V'];
  const cells = result.rows.map((r) => [String(r.slates), r.estimator, r.bias.toFixed(5), Math.sqrt(r.variance).toFixed(5), Math.sqrt(r.mse).toFixed(5), r.relativeRmse.toFixed(3)]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
