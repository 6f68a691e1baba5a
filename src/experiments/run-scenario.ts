import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Progress } from '../core/progress.js';
import { silentProgress, formatSeconds } from '../core/progress.js';
import type { BackendChoice, BackendInfo } from '../learning/backend.js';
import { prepareData } from './prepare-data.js';
import { runSeedsInWorkers } from './worker-pool.js';
import { examinationProbabilities, relativeToFirst } from '../simulation/examination.js';
import { alignColumns, formatPropensityTable, formatTable, summarise, type MethodSummary } from './results.js';
import type { Scenario } from './scenario.js';
import { runSeed } from './ultr-run.js';
import { mean } from '../evaluation/statistics.js';

export interface ExperimentResult {
  readonly scenario: Scenario;
  readonly seeds: readonly number[];
  readonly backend: BackendInfo;
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly data: { train: { queries: number; documents: number }; validation: { queries: number }; test: { queries: number } };
  /** True examination propensities relative to rank 1 (what IPS needs, and what DLA should learn). */
  readonly truePropensities: number[];
  /** The RandTop-n estimate per seed, when a learner used it. */
  readonly estimatedPropensities?: { mean: number[]; perSeed: number[][] };
  readonly sessionsWithClicks: number[];
  readonly methods: MethodSummary[];
}

export interface RunOptions {
  /** The backend to select in each worker (the caller has already selected it in this thread). */
  readonly backend: BackendInfo;
  readonly backendChoice?: BackendChoice;
  /** Seeds run in parallel worker threads; 1 runs them here, one after another. */
  readonly workers?: number;
  readonly progress?: Progress;
}

/** Run every seed of a scenario and summarise; the numbers do not depend on the number of workers. */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ExperimentResult> {
  const progress = options.progress ?? silentProgress;
  const backend = options.backend;
  const startedAt = new Date();
  const t0 = performance.now();
  const data = prepareData(scenario);
  const numQueries = (d: { queryOffsets: Int32Array }) => d.queryOffsets.length - 1;
  const workers = Math.max(1, Math.min(options.workers ?? 1, scenario.seeds.length));
  progress.log(
    `${scenario.name}: ${numQueries(data.train)} training queries, ${numQueries(data.validation)} validation and ${numQueries(data.test)} test queries with a relevant document; seeds ${scenario.seeds.join(', ')}; backend ${backend.name}; ${workers} worker${workers > 1 ? 's' : ''}`,
  );
  const runs =
    workers > 1
      ? await runSeedsInWorkers(scenario, options.backendChoice ?? 'auto', workers, progress)
      : scenario.seeds.map((seed) => runSeed(scenario, data, seed, { progress }));
  const estimated = runs.every((r) => r.estimatedPropensities) ? runs.map((r) => r.estimatedPropensities!) : undefined;
  const cm = scenario.clickModel;
  const wallSeconds = (performance.now() - t0) / 1000;
  progress.log(`${scenario.name}: finished in ${formatSeconds(wallSeconds)}`);
  return {
    scenario,
    seeds: scenario.seeds,
    backend,
    startedAt: startedAt.toISOString(),
    wallSeconds,
    data: {
      train: { queries: numQueries(data.train), documents: data.train.labels.length },
      validation: { queries: numQueries(data.validation) },
      test: { queries: numQueries(data.test) },
    },
    truePropensities: Array.from(relativeToFirst(examinationProbabilities({ profile: cm.examination, eta: cm.eta }, cm.cutoff))),
    estimatedPropensities: estimated && {
      mean: estimated[0].map((_, k) => estimated.reduce((s, e) => s + e[k], 0) / estimated.length),
      perSeed: estimated,
    },
    sessionsWithClicks: runs.map((r) => r.sessionsWithClicks),
    methods: summarise(runs, scenario.metrics),
  };
}

const ESTIMATE_NAMES = { shuffle: 'RandTop-n', swap: 'RandPair', harvest: 'harvested' } as const;

/** The terminal/markdown summary of a run: comparison table, then propensities against the truth. */
export function formatResult(result: ExperimentResult): string {
  const learners = result.scenario.learners;
  const columns: { name: string; mean: number[]; std?: number[] }[] = [];
  if (result.estimatedPropensities) columns.push({ name: `${ESTIMATE_NAMES[result.scenario.propensityEstimation.intervention]} estimate`, mean: result.estimatedPropensities.mean });
  for (const learner of learners.filter((l) => l.type === 'dla' || l.type === 'regression-em' || l.type === 'pairwise-debias')) {
    const m = result.methods.find((s) => s.method === learner.label);
    if (m?.propensities) columns.push({ name: `${m.method} learned`, mean: m.propensities.mean, std: m.propensities.std });
  }
  const parts = [formatTable(result.methods, result.scenario.metrics)];
  if (columns.length > 0) parts.push(`Examination propensities relative to rank 1:\n${formatPropensityTable(result.truePropensities, columns)}`);
  const caps = [...new Set(learners.filter((l) => l.type === 'clipped-ips').map((l) => l.maxWeight))];
  if (caps.length > 0) parts.push(formatClippingEffect(result.truePropensities, caps));
  return parts.join('\n\n');
}

/**
 * What clipping the IPS weight at M does at each rank (closed form, oracle propensities): the
 * expected weighted click is min(w_k, M)·(p_k/p_1)·r = min(1, M·p_k/p_1)·r, so the learner sees
 * relevance scaled by that factor (bias towards the top), while the variance of the weighted click
 * shrinks by (min(w_k, M)/w_k)².
 */
export function formatClippingEffect(truePropensities: number[], caps: number[]): string {
  const rows = truePropensities.map((p, k) => {
    const w = 1 / p;
    return [String(k + 1), w.toFixed(2), ...caps.flatMap((m) => [Math.min(1, m * p).toFixed(3), (Math.min(w, m) / w) ** 2 >= 0.9995 ? '1' : ((Math.min(w, m) / w) ** 2).toFixed(3)])];
  });
  const header = ['rank', 'IPS weight', ...caps.flatMap((m) => [`M=${m}: E[weighted click]/rel`, `M=${m}: variance vs IPS`])];
  return `Clipping effect (closed form, oracle propensities):\n${alignColumns([header, ...rows])}`;
}

/** Write results.json and report.md into `outDir` (each atomically: written aside, then renamed). */
export function writeRunOutputs(result: ExperimentResult, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeAtomically(path.join(outDir, 'results.json'), `${JSON.stringify(result, jsonReplacer, 2)}\n`);
  writeAtomically(path.join(outDir, 'report.md'), markdownReport(result));
}

function markdownReport(result: ExperimentResult): string {
  const s = result.scenario;
  const cm = s.clickModel;
  return [
    `# ${s.name}`,
    '',
    s.description,
    '',
    `- Data: ${s.dataset.name}${s.dataset.name === 'mq2008' ? ` fold ${s.dataset.fold}` : ''}: ${result.data.train.queries} training queries, ${result.data.test.queries} test queries with a relevant document.`,
    `- Clicks: ${cm.type === 'pbm' ? 'PBM' : 'trust bias'}, ${cm.examination} examination with η = ${cm.eta}, ε = ${cm.epsilon}, top ${cm.cutoff}; ${s.sessions} sessions per seed (${(100 * mean(result.sessionsWithClicks)).toFixed(1)}% with a click).`,
    `- Model: ${s.model.type}${s.model.type === 'mlp' ? ` ${s.model.hidden?.join('-')} ELU` : ''}; ${s.training.steps} steps × ${s.training.batchSize} lists, Adagrad ${s.training.learningRate}; checkpoint: ${s.training.select}.`,
    `- Seeds: ${result.seeds.join(', ')}; backend: ${result.backend.name} (${result.backend.description}); wall time ${formatSeconds(result.wallSeconds)}; started ${result.startedAt}.`,
    '',
    'Test metrics on true labels over full candidate lists: mean ± 95% half-width over seeds; Δ is a paired t-test against naive over test queries.',
    '',
    '```',
    formatResult(result),
    '```',
    '',
  ].join('\n');
}

/** JSON has no Infinity: an uncapped weight is written as null. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}
