import { randomStream } from '../core/random.js';
import { confidenceHalfWidth, mean } from '../evaluation/statistics.js';
import { createPolicy } from '../policies/bandits/factory.js';
import { runOnline, type OnlineResult } from '../policies/online.js';
import { createClickModel, type ClickModelSpec } from '../simulation/click-models/index.js';
import { examinationProbabilities } from '../simulation/examination.js';
import { alignColumns } from './results.js';

/** A slate-bandit study: several policies against the same simulated worlds, over seeds. */
export interface BanditStudySpec {
  readonly numItems: number;
  readonly slateSize: number;
  /** Item attractiveness is drawn per seed uniformly from [low, high]. */
  readonly attractiveness: { readonly low: number; readonly high: number };
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
 * Run every policy on every seed's world. Within a seed all policies face the same items and the
 * same click model; each draws from its own derived streams.
 */
export function runBanditStudy(spec: BanditStudySpec, onRun?: (outcome: PolicyOutcome) => void): BanditStudyResult {
  const started = performance.now();
  const clickModel = createClickModel(spec.clickModel, spec.slateSize, 'clickModel');
  // Position-aware policies (PBM-TS, PBM-UCB) are given the true κ of examining click models.
  const positionWeights = spec.clickModel.type === 'pbm' || spec.clickModel.type === 'trust-bias' ? pbmWeights(spec.clickModel, spec.slateSize) : undefined;
  const recordEvery = Math.max(1, Math.floor(spec.rounds / spec.curvePoints));
  const perPolicy = new Map<string, OnlineResult[]>();
  for (const seed of spec.seeds) {
    const rng = randomStream(seed);
    const worldRng = rng.derive('world');
    const { low, high } = spec.attractiveness;
    const attractiveness = Float64Array.from({ length: spec.numItems }, () => low + (high - low) * worldRng.uniform());
    spec.policies.forEach((policySpec, i) => {
      const policy = createPolicy(policySpec, { numItems: spec.numItems, slateSize: spec.slateSize, positionWeights }, `policies[${i}]`);
      const result = runOnline(policy, { numItems: spec.numItems, attractiveness, clickModel }, {
        rounds: spec.rounds,
        batchSize: spec.batchSize,
        rng: rng.derive('policy', policy.name),
        propensityDraws: spec.propensityDraws,
        recordEvery,
      });
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

function pbmWeights(spec: ClickModelSpec, slateSize: number): Float64Array {
  const fields = spec as { examination?: 'eye-tracking'; eta?: number };
  return examinationProbabilities({ profile: fields.examination ?? 'eye-tracking', eta: fields.eta ?? 1 }, slateSize);
}

/** Regret and clicks at the horizon (mean ± 95% half-width over seeds), CTR, and regret per round at T/2 and T. */
export function formatBanditTable(result: BanditStudyResult): string {
  const T = result.spec.rounds;
  const K = result.spec.slateSize;
  return alignColumns([
    ['policy', `regret at T=${T} (±95%)`, 'clicks (±95%)', 'CTR per slot', 'regret/t at T/2', 'regret/t at T'],
    ...result.table.map((row) => [
      row.policy,
      `${mean(row.regret).toFixed(1)} ± ${confidenceHalfWidth(row.regret).toFixed(1)}`,
      `${mean(row.clicks).toFixed(0)} ± ${confidenceHalfWidth(row.clicks).toFixed(0)}`,
      (mean(row.clicks) / (T * K)).toFixed(4),
      row.regretOverTHalf.toFixed(4),
      row.regretOverT.toFixed(4),
    ]),
  ]);
}
