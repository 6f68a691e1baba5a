import path from 'node:path';
import type { Progress } from '../../core/progress.js';
import { flipRecovery, isNbpoLearner, NBPO_TRAIN_DEFAULTS } from '../../learning/implicit/nbpo.js';
import { randomStream } from '../../core/random.js';
import { alignColumns } from '../../core/text-table.js';
import { rareItems, recommenderMetrics, type RecommenderMetricValue } from '../../evaluation/recommender-metrics.js';
import { loadRecommenderData, trainRecommender, type RecommenderDataSpec, type RecommenderLearnerConfig, type TrainingSettings } from './comparison.js';

export interface RecommenderModelOptions {
  readonly data: RecommenderDataSpec;
  readonly learner: RecommenderLearnerConfig;
  readonly settings: TrainingSettings;
  /** Seeds the data (a simulated world, Coat's split), the validation split and the training. */
  readonly seed: number;
  /** Model folder to write (model.json + weights.bin). */
  readonly out: string;
  readonly progress?: Progress;
}

export interface RecommenderModelResult {
  readonly data: { readonly name: string; readonly clicks: number; readonly numUsers: number; readonly numItems: number };
  readonly bestStep: number;
  readonly stepsRun: number;
  readonly bestValidation: number | null;
  /** Test metrics per item subset (all; rare items, named with their click threshold); empty without a test set. */
  readonly metrics: Record<string, RecommenderMetricValue[]>;
  /** NBPO, NBPOo on a world: learned ρ against the true 1 − θ_i over the true-positive test pairs. */
  readonly flipRecovery?: { correlation: number; rmse: number; meanLearned: number; meanTrue: number };
}

/**
 * `clicklab recommend train`: loads the data, trains one learner with early stopping, scores it on
 * the data's test set (all items and rare items) and saves it with what it was trained on, how,
 * and its metrics.
 */
export async function trainRecommenderModel(options: RecommenderModelOptions): Promise<RecommenderModelResult> {
  const { learner, settings, seed } = options;
  const data = await loadRecommenderData(options.data, seed);
  const trained = trainRecommender(data, learner, settings, randomStream(seed).derive('learner', learner.name), options.progress);
  const { model, bestStep, bestValidation, stepsRun } = trained.result;
  const { flip } = trained;
  let metrics: Record<string, RecommenderMetricValue[]> = {};
  if (data.test) {
    const scorer = model.factors();
    const rare = rareItems(trained.itemClicks, data.numUsers);
    metrics = { all: recommenderMetrics(scorer, data.test), [`rare (≤ ${rare.threshold} clicks)`]: recommenderMetrics(scorer, data.test, { includeItem: rare.isRare }) };
  }
  let flipRecovered: ReturnType<typeof flipRecovery> | undefined;
  if (flip && data.flipTruth) flipRecovered = flipRecovery(flip.factors(), data.flipTruth, data.flipTruth.trueFlip);
  try {
    // NBPO, NBPOo: the flip factorisation (P, Q) in flip/, in the same format; U, V rank.
    if (flip) await flip.save(path.join(options.out, 'flip'), { learner: learner.learner, role: 'flip probability ρ_ui = σ(p_u · q_i)' });
    await model.save(options.out, {
      learner: learner.learner,
      data: data.name,
      seed,
      ...(learner.learner === 'relmf' ? { propensity: learner.propensity, clip: learner.clip } : {}),
      ...(learner.learner === 'wmf' && learner.confidence !== undefined ? { confidence: learner.confidence } : {}),
      ...(isNbpoLearner(learner.learner)
        ? { nbpo: { ...NBPO_TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(learner.nbpo ?? {}).filter(([, v]) => v !== undefined)) }, ...(flip ? { flip: 'flip' } : {}) }
        : { settings }),
      ...(flipRecovered ? { flipRecovery: flipRecovered } : {}),
      bestStep,
      stepsRun,
      bestValidation,
      metrics,
    });
  } finally {
    model.dispose();
    flip?.dispose();
  }
  return {
    data: { name: data.name, clicks: data.clicks.user.length, numUsers: data.numUsers, numItems: data.numItems },
    bestStep,
    stepsRun,
    bestValidation: bestValidation ?? null,
    metrics,
    flipRecovery: flipRecovered,
  };
}

/**
 * Metrics per item subset as a table (subsets as rows, metric@K as columns). A subset with nothing
 * to score (no rare item in a small world's test set) says so instead of showing NaN.
 */
export function formatRecommenderMetrics(subsets: Record<string, RecommenderMetricValue[]>): string {
  const names = Object.keys(subsets);
  const keys = subsets[names[0]].map((m) => `${m.metric}@${m.k}`);
  const empty = names.filter((n) => subsets[n].every((m) => !Number.isFinite(m.value)));
  const table = alignColumns([['items', ...keys], ...names.map((n) => [n, ...subsets[n].map((m) => (Number.isFinite(m.value) ? m.value.toFixed(4) : 'n/a'))])]);
  return empty.length === 0 ? table : `${table}\n(n/a: no test item ${empty.map((n) => `in "${n}"`).join(' or ')} has a relevant pair to score)`;
}
