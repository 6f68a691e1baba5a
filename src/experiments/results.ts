import { confidenceHalfWidth, mean, pairedTTest, standardDeviation } from '../evaluation/statistics.js';
import type { TrainingHistory } from '../learning/trainer.js';
import type { SeedRun } from './ultr-run.js';

export interface MetricSummary {
  readonly mean: number;
  readonly std: number;
  /** Half-width of the 95% t-interval of the mean over seeds. */
  readonly ci95: number;
  readonly perSeed: number[];
}

export interface MethodSummary {
  readonly method: string;
  readonly metrics: Record<string, MetricSummary>;
  /**
   * Paired t-test against the naive learner over test queries (each query's metric averaged over
   * seeds): mean difference and two-sided p-value.
   */
  readonly vsNaive?: Record<string, { meanDifference: number; p: number }>;
  /** Propensities relative to rank 1 (used by IPS, learned by DLA): mean and std over seeds. */
  readonly propensities?: { mean: number[]; std: number[]; perSeed: number[][] };
  /** Training curves per seed: (step, mean training loss, validation nDCG@10 or null). */
  readonly curves?: TrainingHistory['curve'][];
  readonly trainSeconds: number;
}

/** Summarise per-seed runs into one row per method (in the order of the first seed). */
export function summarise(runs: SeedRun[], metricNames: readonly string[]): MethodSummary[] {
  const methodNames = runs[0].methods.map((m) => m.method);
  const byMethod = (name: string) => runs.map((r) => r.methods.find((m) => m.method === name)!);
  const queryMeans = (name: string, metric: string) => {
    const runsOf = byMethod(name);
    const n = runsOf[0].perQuery[metric].length;
    return Float64Array.from({ length: n }, (_, q) => mean(runsOf.map((r) => r.perQuery[metric][q])));
  };
  return methodNames.map((name) => {
    const runsOf = byMethod(name);
    const metrics: Record<string, MetricSummary> = {};
    for (const metric of metricNames) {
      const perSeed = runsOf.map((r) => mean(r.perQuery[metric]));
      metrics[metric] = { mean: mean(perSeed), std: standardDeviation(perSeed), ci95: confidenceHalfWidth(perSeed), perSeed };
    }
    let vsNaive: MethodSummary['vsNaive'];
    if (methodNames.includes('naive') && name !== 'naive') {
      vsNaive = {};
      for (const metric of metricNames) {
        const test = pairedTTest(queryMeans(name, metric), queryMeans('naive', metric));
        vsNaive[metric] = { meanDifference: test.meanDifference, p: test.p };
      }
    }
    let propensities: MethodSummary['propensities'];
    if (runsOf.every((r) => r.propensities)) {
      const perSeed = runsOf.map((r) => r.propensities!);
      const ranks = perSeed[0].length;
      propensities = {
        mean: Array.from({ length: ranks }, (_, k) => mean(perSeed.map((p) => p[k]))),
        std: Array.from({ length: ranks }, (_, k) => standardDeviation(perSeed.map((p) => p[k]))),
        perSeed,
      };
    }
    const curves = runsOf.every((r) => r.history) ? runsOf.map((r) => r.history!.curve) : undefined;
    return { method: name, metrics, vsNaive, propensities, curves, trainSeconds: mean(runsOf.map((r) => r.trainSeconds)) };
  });
}

/** The comparison table as aligned plain text: mean ± 95% half-width over seeds. */
export function formatTable(summaries: MethodSummary[], metricNames: readonly string[], primary = 'ndcg@10'): string {
  const hasPaired = summaries.some((s) => s.vsNaive);
  const header = ['method', ...metricNames.map((m) => `${m} (±95%)`), ...(hasPaired ? [`Δ${primary} vs naive (p)`] : []), 'train s'];
  const rows = summaries.map((s) => [
    s.method,
    ...metricNames.map((m) => `${s.metrics[m].mean.toFixed(4)} ± ${s.metrics[m].ci95.toFixed(4)}`),
    ...(hasPaired ? [s.vsNaive?.[primary] ? `${signed(s.vsNaive[primary].meanDifference)} (${formatP(s.vsNaive[primary].p)})` : ''] : []),
    s.trainSeconds.toFixed(1),
  ]);
  return alignColumns([header, ...rows]);
}

/** Learned or estimated propensities against the truth, per rank (relative to rank 1). */
export function formatPropensityTable(truth: number[], columns: { name: string; mean: number[]; std?: number[] }[]): string {
  const header = ['rank', 'true', ...columns.map((c) => c.name)];
  const rows = truth.map((t, k) => [
    String(k + 1),
    t.toFixed(3),
    ...columns.map((c) => `${c.mean[k].toFixed(3)}${c.std ? ` ± ${c.std[k].toFixed(3)}` : ''}`),
  ]);
  return alignColumns([header, ...rows]);
}

export function alignColumns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

export function formatP(p: number): string {
  return p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}
