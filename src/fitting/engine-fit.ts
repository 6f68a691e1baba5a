/**
 * `clicklab fit --engine duckdb`: a click model fitted out of core. The training log (a file, a
 * folder of partitions or a glob) reduces to PBM's or UBM's sufficient statistics by one GROUP BY in
 * DuckDB (data/engine.ts), EM runs on the counts (counts.ts), and the test log, if any, is scored
 * from its own counts. Memory holds the counts and the parameters, never the sessions.
 */
import { ConfigError } from '../core/errors.js';
import { alignColumns } from '../core/text-table.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { ClickLogColumnMapping } from '../data/click-log-table.js';
import type { EngineOptions } from '../data/engine.js';
import { COUNT_MODELS, type CountModel, evaluateSlotCounts, fitFromCounts, numberPairs } from './counts.js';
import type { FitQuality } from './evaluation.js';
import type { FittedPbm } from './pbm.js';
import type { FittedUbm } from './ubm.js';

export interface EngineFitOptions extends EngineOptions {
  readonly model: string;
  /** The training log (a file, a folder of partitions or a glob); or, instead, `counts`. */
  readonly log?: string;
  /** A counts table written by another engine from `clicklab fit --emit-sql` (data/counts-sql.ts), fitted instead of a log. */
  readonly counts?: string;
  readonly testLog?: string;
  readonly iterations: number;
  readonly listLength?: number;
  readonly columns?: ClickLogColumnMapping;
  readonly progress?: Progress;
}

export interface EngineFitReport {
  readonly model: FittedPbm | FittedUbm;
  readonly trainSessions: number;
  readonly testSessions: number;
  /** Rows of the training counts (distinct (query, document, rank, [distance,] length)). */
  readonly countRows: number;
  readonly pairs: number;
  /** Query and document of each pair id of the model. */
  readonly pairQuery: Int32Array;
  readonly pairDocument: Int32Array;
  readonly iterations: number;
  readonly seconds: { readonly aggregate: number; readonly fit: number; readonly test: number };
  readonly trainQuality: FitQuality;
  readonly testQuality: FitQuality | null;
  /** Test impressions whose pair is not in the training log (α = 0.5). */
  readonly unseenTestSlots: number;
}

function rate(n: number, seconds: number): string {
  return `${Math.round(n / Math.max(seconds, 1e-9)).toLocaleString('en-US')} sessions/s`;
}

/** Fits PBM or UBM on counts aggregated by the engine (see the top of this file). */
export async function fitWithEngine(options: EngineFitOptions): Promise<EngineFitReport> {
  const model = options.model as CountModel;
  if (!COUNT_MODELS.includes(model))
    throw new ConfigError('--model', `expected one of ${COUNT_MODELS.join(', ')} with --engine duckdb (the cascade family is fitted in memory), found '${options.model}'`);
  const progress = options.progress ?? silentProgress;
  // Loaded on use: DuckDB's native binding stays out of every other command's start-up.
  const { LogEngine } = await import('../data/engine.js');
  const engine = await LogEngine.open(options);
  try {
    const distance = model === 'ubm';
    let t = performance.now();
    if ((options.log === undefined) === (options.counts === undefined)) throw new ConfigError('--log', 'expected either a log (--log) or a counts table (--counts) to fit');
    const raw =
      options.counts !== undefined ? await engine.countsTable(options.counts, { distance, progress }) : await engine.slotCounts(options.log!, { columns: options.columns, distance, progress });
    const train = numberPairs(raw);
    const aggregate = (performance.now() - t) / 1000;
    progress.log(
      `${options.counts !== undefined ? 'read counts' : 'aggregated'} ${options.counts ?? options.log}: ${raw.sessions} sessions into ${train.pair.length} count rows, ${train.pairQuery.length} pairs in ${aggregate.toFixed(2)} s (${rate(raw.sessions, aggregate)})`,
    );
    t = performance.now();
    progress.start(`fitting ${model} on counts of ${raw.sessions} sessions`, options.iterations);
    const fitted = fitFromCounts(train, {
      model,
      iterations: options.iterations,
      listLength: options.listLength,
      onIteration: (i) => progress.update(i, rate(raw.sessions * i, (performance.now() - t) / 1000)),
    });
    const fit = (performance.now() - t) / 1000;
    progress.finish();
    t = performance.now();
    let testQuality: FitQuality | null = null;
    let unseen = 0;
    if (options.testLog !== undefined) {
      const test = numberPairs(await engine.slotCounts(options.testLog, { columns: options.columns, distance, progress }), train);
      unseen = test.unseen;
      testQuality = evaluateSlotCounts(fitted, test);
    }
    return {
      model: fitted,
      trainSessions: raw.sessions,
      testSessions: testQuality?.sessions ?? 0,
      countRows: train.pair.length,
      pairs: train.pairQuery.length,
      pairQuery: train.pairQuery,
      pairDocument: train.pairDocument,
      iterations: options.iterations,
      seconds: { aggregate, fit, test: (performance.now() - t) / 1000 },
      trainQuality: evaluateSlotCounts(fitted, train),
      testQuality,
      unseenTestSlots: unseen,
    };
  } finally {
    engine.close();
  }
}

/** The JSON `clicklab fit --engine duckdb` saves: the model's parameters per pair and per rank (not yet a world for `simulate`). */
export function engineFitJson(report: EngineFitReport, source: string): Record<string, unknown> {
  return {
    format: 'clicklab/fitted-counts@1',
    model: report.model.type,
    listLength: report.model.listLength,
    source,
    pairs: { query: Array.from(report.pairQuery), document: Array.from(report.pairDocument), attractiveness: report.model.attractiveness.toArray() },
    parameters: report.model.parameters(),
    fit: { iterations: report.iterations, seconds: report.seconds, trainSessions: report.trainSessions, testSessions: report.testSessions, train: report.trainQuality, test: report.testQuality },
  };
}

/** The quality table of an engine fit (the layout of `formatFitReport`; UBM's per-rank perplexity needs the sessions and is not given). */
export function formatEngineFitReport(report: EngineFitReport, source: string): string {
  const qualities = [report.trainQuality, ...(report.testQuality ? [report.testQuality] : [])];
  const number = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
  const ranks = Math.max(...qualities.map((q) => q.perplexityAtRank.length));
  const rows = [
    ['measure', 'train', ...(report.testQuality ? ['test'] : [])],
    ['log-likelihood', ...qualities.map((q) => number(q.logLikelihood))],
    ['perplexity', ...qualities.map((q) => number(q.perplexity))],
    ...Array.from({ length: ranks }, (_, k) => [`perplexity @${k + 1}`, ...qualities.map((q) => (k < q.perplexityAtRank.length ? number(q.perplexityAtRank[k]) : '-'))]),
  ];
  const s = report.seconds;
  return [
    `${report.model.type} fitted from counts (DuckDB GROUP BY) of ${source}: ${report.trainSessions} training sessions, ${report.testSessions} test sessions, ${report.pairs} (query, document) pairs, ${report.countRows} count rows; aggregation ${s.aggregate.toFixed(2)} s, ${report.iterations} EM iterations ${s.fit.toFixed(2)} s, test ${s.test.toFixed(2)} s`,
    '',
    alignColumns(rows),
    ...(report.testQuality ? ['', `test slots whose pair is not in the training log (α = 0.5): ${report.unseenTestSlots}`] : []),
    ...(report.model.type === 'ubm' ? ['', "UBM's perplexity needs the documents above each slot, which the counts do not keep: not reported (n/a) with --engine duckdb"] : []),
  ].join('\n');
}
