import { randomStream } from '../../core/random.js';
import { fitClickModel, MIN_PROBABILITY, type FitReport, type FittedModelType } from '../../fitting/index.js';
import { createClickModel, type ClickModelSpec } from '../../simulation/click-models/index.js';
import { simulateSessions } from '../../simulation/sessions.js';
import type { SeedOutcome } from '../study-kind.js';

/** A click-model comparison cell: a search world, the true click model, and the models fitted to its log. */
export interface FittingCell {
  readonly queries: number;
  readonly listLength: number;
  readonly attractiveness: { readonly low: number; readonly high: number };
  readonly clickModel: ClickModelSpec;
  readonly sessions: number;
  readonly intervention: 'none' | 'shuffle';
  readonly models: readonly FittedModelType[];
  readonly iterations: number;
  readonly testFraction: number;
}

/** One seed of a fitting cell: simulate the log, fit every model, score each on the held-out sessions. */
export async function runFittingSeed(spec: FittingCell, seed: number, onUnit: (model: string) => void): Promise<SeedOutcome> {
  const rng = randomStream(seed);
  const L = spec.listLength;
  // Query q shows documents q·L .. q·L + L − 1; each document's true attractiveness is uniform in [low, high].
  const lists = { offsets: Int32Array.from({ length: spec.queries + 1 }, (_, q) => q * L), documents: Int32Array.from({ length: spec.queries * L }, (_, i) => i) };
  const worldRng = rng.derive('attractiveness');
  const { low, high } = spec.attractiveness;
  const attractiveness = Float32Array.from({ length: spec.queries * L }, () => low + (high - low) * worldRng.uniform());
  const trueModel = createClickModel(spec.clickModel, L);
  const { log } = simulateSessions(lists, { numSessions: spec.sessions, clickModel: trueModel, relevance: attractiveness, rng: rng.derive('sessions'), intervention: spec.intervention, truth: false });
  const values: { method: string; metric: string; value: number }[] = [];
  const perplexityAtRank: Record<string, number[]> = {};
  let report: FitReport | undefined;
  for (const model of spec.models) {
    report = fitClickModel(log, { model, iterations: spec.iterations, testFraction: spec.testFraction, seed, listLength: L, source: 'simulated log' });
    const test = report.testQuality!;
    values.push(
      { method: model, metric: 'log-likelihood', value: test.logLikelihood },
      { method: model, metric: 'perplexity', value: test.perplexity },
      { method: model, metric: 'alpha-rmse', value: attractivenessRmse(report, attractiveness) },
    );
    perplexityAtRank[model] = test.perplexityAtRank;
    onUnit(model);
  }
  return { values, extras: { perplexityAtRank, truePerplexityAtRank: truePerplexity(report!, trueModel, attractiveness) } };
}

/** √(mean over pairs in the training sessions of (α̂_{q,d} − α_{q,d})²); a pair's document row indexes the true α. */
function attractivenessRmse(report: FitReport, truth: Float32Array): number {
  const seen = new Uint8Array(report.log.pairQuery.length);
  for (const s of report.train) for (let row = report.log.offsets[s]; row < report.log.offsets[s + 1]; row++) seen[report.log.pair[row]] = 1;
  const fitted = report.model.attractiveness.value;
  let sum = 0;
  let n = 0;
  for (let p = 0; p < seen.length; p++) {
    if (!seen[p]) continue;
    const d = fitted[p] - truth[report.log.pairDocument[p]];
    sum += d * d;
    n++;
  }
  return Math.sqrt(sum / n);
}

/** Perplexity per rank of the true model on the held-out sessions, with PyClick's definition (as `evaluateClickModel`). */
function truePerplexity(report: FitReport, trueModel: ReturnType<typeof createClickModel>, truth: Float32Array): number[] {
  const { log, test } = report;
  const L = report.model.listLength;
  const a = new Float64Array(L);
  const p = new Float64Array(L);
  const log2Sum = new Float64Array(L);
  const shown = new Float64Array(L);
  for (const s of test) {
    const start = log.offsets[s];
    const n = log.offsets[s + 1] - start;
    for (let k = 0; k < n; k++) a[k] = truth[log.pairDocument[log.pair[start + k]]];
    trueModel.clickProbabilities(a, n, p);
    for (let k = 0; k < n; k++) {
      log2Sum[k] += Math.log2(Math.max(log.click[start + k] ? p[k] : 1 - p[k], MIN_PROBABILITY));
      shown[k]++;
    }
  }
  return Array.from({ length: L }, (_, k) => 2 ** (-log2Sum[k] / shown[k])).filter((_, k) => shown[k] > 0);
}
