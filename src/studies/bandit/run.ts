import { randomStream } from '../../core/random.js';
import { confidenceHalfWidth, formatMeanInterval, mean } from '../../evaluation/statistics.js';
import { createPolicy } from '../../policies/bandits/factory.js';
import { bestSlate, runOnline, type OnlineResult } from '../../policies/online.js';
import type { ClickModel } from '../../simulation/click-model.js';
import { createClickModel, type ClickModelSpec } from '../../simulation/click-models/index.js';
import { alignColumns } from '../../core/text-table.js';
import { drawBanditWorld, type BanditWorldSpec } from '../../simulation/bandit-world.js';

/** A slate-bandit study: several policies against the same simulated worlds, over seeds. */
export interface BanditStudySpec extends BanditWorldSpec {
  readonly slateSize: number;
  readonly clickModel: ClickModelSpec;
  /** Policy specs for `createPolicy` (`{ "type": ..., ...params, "label"? }`). */
  readonly policies: readonly unknown[];
  readonly rounds: number;
  readonly batchSize: number;
  readonly seeds: readonly number[];
  /** Monte Carlo draws per batch for logged propensities (0: none). */
  readonly propensityDraws: number;
  /** Points on the regret curve. */
  readonly curvePoints: number;
}

export interface PolicyOutcome {
  readonly policy: string;
  readonly seed: number;
  readonly result: OnlineResult;
}

export interface BanditStudyResult {
  readonly spec: BanditStudySpec;
  /** Per policy: rounds of the curve, and mean cumulative regret and clicks over seeds at each. */
  readonly curves: { policy: string; rounds: number[]; regret: number[]; clicks: number[] }[];
  readonly table: { policy: string; regret: number[]; clicks: number[]; regretOverTHalf: number; regretOverT: number }[];
  readonly wallSeconds: number;
}

/**
 * Checks a study before any work: the click model, the sizes and every policy are built once, on
 * the first seed's world, so that an invalid spec fails before a caller creates any output.
 */
export function checkBanditStudySpec(spec: BanditStudySpec): void {
  const clickModel = createClickModel(spec.clickModel, spec.slateSize, 'clickModel');
  const world = drawBanditWorld(spec, randomStream(spec.seeds[0] ?? 1).derive('world'));
  const positionWeights = examinationOfBestSlate(clickModel, world.attractiveness.subarray(0, spec.numItems), spec.slateSize);
  spec.policies.forEach((policySpec, i) => {
    createPolicy(policySpec, { numItems: spec.numItems, slateSize: spec.slateSize, positionWeights, userFeatures: world.userFeatures, itemFeatures: world.itemFeatures }, `policies[${i}]`);
  });
}

/**
 * Run every policy on every seed's world. Within a seed all policies face the same items and the
 * same click model; each draws from its own derived streams.
 */
export function runBanditStudy(spec: BanditStudySpec, onRun?: (outcome: PolicyOutcome) => void): BanditStudyResult {
  const started = performance.now();
  const clickModel = createClickModel(spec.clickModel, spec.slateSize, 'clickModel');
  const recordEvery = Math.max(1, Math.floor(spec.rounds / spec.curvePoints));
  const perPolicy = new Map<string, OnlineResult[]>();
  for (const seed of spec.seeds) {
    const rng = randomStream(seed);
    const world = drawBanditWorld(spec, rng.derive('world'));
    const { userFeatures, itemFeatures, attractiveness } = world;
    // κ from the average user's best slate (the first user's in contextual worlds).
    const positionWeights = examinationOfBestSlate(clickModel, attractiveness.subarray(0, spec.numItems), spec.slateSize);
    spec.policies.forEach((policySpec, i) => {
      const policy = createPolicy(policySpec, { numItems: spec.numItems, slateSize: spec.slateSize, positionWeights, userFeatures, itemFeatures }, `policies[${i}]`);
      const result = runOnline(
        policy,
        { numItems: spec.numItems, numUsers: world.numUsers, attractiveness, clickModel },
        {
          rounds: spec.rounds,
          batchSize: spec.batchSize,
          rng: rng.derive('policy', policy.name),
          propensityDraws: spec.propensityDraws,
          recordEvery,
        },
      );
      if (!perPolicy.has(policy.name)) perPolicy.set(policy.name, []);
      perPolicy.get(policy.name)!.push(result);
      onRun?.({ policy: policy.name, seed, result });
    });
  }
  const curves = [...perPolicy].map(([policy, results]) => ({
    policy,
    rounds: Array.from(results[0].rounds),
    regret: Array.from(results[0].cumulativeRegret, (_, j) => mean(results.map((r) => r.cumulativeRegret[j]))),
    clicks: Array.from(results[0].cumulativeClicks, (_, j) => mean(results.map((r) => r.cumulativeClicks[j]))),
  }));
  const table = [...perPolicy].map(([policy, results]) => {
    const last = results[0].rounds.length - 1;
    const half = Math.max(0, Math.floor((last + 1) / 2) - 1);
    return {
      policy,
      regret: results.map((r) => r.cumulativeRegret[last]),
      clicks: results.map((r) => r.cumulativeClicks[last]),
      regretOverTHalf: mean(results.map((r) => r.cumulativeRegret[half] / r.rounds[half])),
      regretOverT: mean(results.map((r) => r.cumulativeRegret[last] / r.rounds[last])),
    };
  });
  return { spec, curves, table, wallSeconds: (performance.now() - started) / 1000 };
}

/**
 * The position weights κ given to position-aware policies (PBM-TS, PBM-UCB): the examination
 * probability of each rank, P(C_k)/r_k, when the best slate is shown. Under the PBM this is its κ
 * exactly; under the cascade family it is the examination of that slate, a fixed approximation of
 * a model whose examination depends on the items above.
 */
function examinationOfBestSlate(clickModel: ClickModel, attractiveness: Float64Array, slateSize: number): Float64Array {
  const relevance = Float64Array.from(bestSlate(attractiveness, slateSize), (i) => attractiveness[i]);
  const clicks = new Float64Array(slateSize);
  clickModel.clickProbabilities(relevance, slateSize, clicks);
  return clicks.map((c, k) => (relevance[k] > 0 ? Math.max(c / relevance[k], 1e-6) : 1));
}

/**
 * Regret and clicks at the horizon (mean ± 95% half-width over seeds; the mean alone, and a note
 * saying so, from a single seed), CTR, and regret per round at T/2 and T.
 */
export function formatBanditTable(result: BanditStudyResult): string {
  const T = result.spec.rounds;
  const K = result.spec.slateSize;
  const seeds = Math.min(...result.table.map((row) => row.regret.length));
  const interval = (values: readonly number[], digits: number) => formatMeanInterval(mean(values), confidenceHalfWidth(values), values.length, digits);
  const table = alignColumns([
    ['policy', `regret at T=${T} (±95%)`, 'clicks (±95%)', 'CTR per slot', 'regret/t at T/2', 'regret/t at T'],
    ...result.table.map((row) => [row.policy, interval(row.regret, 1), interval(row.clicks, 0), (mean(row.clicks) / (T * K)).toFixed(4), row.regretOverTHalf.toFixed(4), row.regretOverT.toFixed(4)]),
  ]);
  return seeds < 2
    ? `${table}
(one seed: no confidence interval; give --seeds two or more for one)`
    : table;
}
