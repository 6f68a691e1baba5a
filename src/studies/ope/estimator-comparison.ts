/**
 * Off-policy estimators against a simulator's exact truth (the slate world of
 * `simulation/slate-world.ts`): `runEstimatorComparison` draws logs of several sizes over many seeds and reports each
 * estimator's bias, variance and MSE against V(π_e) as a tidy array of rows.
 */
import { ConfigError } from '../../core/errors.js';
import { randomStream } from '../../core/random.js';
import type { ActionArray, OffPolicyInputs, PolicyValueEstimator } from '../../evaluation/off-policy.js';
import { crossFitRewardModel, oneHotRewardFeatures } from '../../evaluation/reward-model.js';
import type { SlateOffPolicyInputs } from '../../evaluation/slate-estimators.js';
import { allSlateEstimators, standardEstimators } from '../../evaluation/registry.js';
import { mean } from '../../evaluation/statistics.js';
import { DirectMethod, DoublyRobust } from '../../evaluation/estimators.js';
import { createSlateWorld, sampleSimulatedSlateLog, type SimulatedSlateLog, type SlateClickModel, type SlateWorld, type SlateWorldOptions } from '../../simulation/slate-world.js';

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
      for (const [tables, out] of [
        [world.logging, b],
        [world.evaluation, e],
      ] as const) {
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
  readonly clickModel: SlateClickModel;
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
  for (const size of sizes) if (!Number.isInteger(size) || size < 1) throw new ConfigError('sampleSizes', `expected integers ≥ 1, found ${size}`);
  const rows: EstimatorComparisonRow[] = [];
  let done = 0;
  for (const size of sizes) {
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
