import type { FittedModelType } from '../../fitting/registry.js';
import { ConfigError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { randomStream } from '../../core/random.js';
import type { ClickLog, RankingData } from '../../core/types.js';
import { readClickLog, readClickLogOrigin } from '../../data/click-log-io.js';
import { checkLogOrigin, letorOrigin } from '../../data/log-format.js';
import { readLetorFileSync } from '../../data/letor.js';
import { dropQueriesWithoutRelevant, featureStats, normalizeFeatures } from '../../data/normalize.js';
import { parseMetric } from '../../evaluation/metrics.js';
import { mean } from '../../evaluation/statistics.js';
import { trainFromClicks, type ClickLearnerSpec, type ClickLearnerType } from '../../learning/click-learners.js';
import { ScoringModel, type ModelSpec } from '../../learning/model.js';
import { applyNormalization, saveModel, type FeatureNormalization, type ModelDescription } from '../../learning/model-io.js';
import type { TrainingHistory } from '../../learning/trainer.js';
import { clickModelBias, createClickModel, type ClickModelSpec } from '../../simulation/click-models/index.js';
import { prepareData } from './prepare-data.js';
import type { Scenario } from './scenario.js';
import { evaluateModel, simulateSeedLog, type PreparedData } from './run.js';

/** Where the clicks come from: a click-log file over a data set's training split, or a scenario's simulated log. */
export type ClickSource =
  | {
      readonly log: string;
      /** The training and validation data the log's documents index: a shipped set, or LETOR files. */
      readonly data: { readonly dataset: 'mq2008'; readonly fold: number } | { readonly train: string; readonly validation: string; readonly normalization: 'per-feature' | 'none' };
      /** The click model, when known: IPS takes its examination, the affine and doubly robust learners its α, β. */
      readonly clickModel?: ClickModelSpec;
    }
  | {
      /** A ULTR scenario (one cell, as `loadSingleCell` gives it), the file it came from, and the seed whose log to simulate. */
      readonly scenario: Scenario;
      readonly file: string;
      readonly seed: number;
    };

export interface TrainModelOptions {
  readonly learner: {
    readonly type: ClickLearnerType;
    readonly maxWeight?: number;
    readonly maxRelevanceWeight?: number;
    readonly propensityLearningRate?: number;
    readonly propensities?: readonly number[];
    readonly fitModel?: FittedModelType;
    readonly emIterations?: number;
  };
  readonly clicks: ClickSource;
  readonly model: ModelSpec;
  readonly training: { readonly steps: number; readonly batchSize: number; readonly learningRate: number; readonly clipNorm: number; readonly evalEvery: number; readonly patience?: number };
  readonly seed: number;
  /** The model folder to write. */
  readonly out: string;
  readonly progress?: Progress;
}

export interface TrainModelResult {
  readonly description: ModelDescription;
  readonly history: TrainingHistory;
  /** Best validation nDCG@10. */
  readonly validation: number | null;
}

interface LoadedClicks {
  readonly train: RankingData;
  readonly validation: RankingData;
  readonly maxGrade: number;
  readonly normalization: FeatureNormalization;
  readonly log: ClickLog;
  readonly known: { propensities?: number[]; alpha?: number[]; beta?: number[] };
  readonly origin: Record<string, unknown>;
}

/**
 * Train a ranker from clicks with one learner, keep the checkpoint with the best validation
 * nDCG@10 (stopping early after `patience` validations without improvement), and save it as a
 * model folder (`saveModel`) that `clicklab score` reads.
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const loaded = await loadClicks(options.clicks);
  const spec: ClickLearnerSpec = {
    type: options.learner.type,
    propensities: options.learner.propensities ?? loaded.known.propensities,
    maxWeight: options.learner.maxWeight,
    maxRelevanceWeight: options.learner.maxRelevanceWeight,
    propensityLearningRate: options.learner.propensityLearningRate,
    clickModel: options.learner.fitModel,
    emIterations: options.learner.emIterations,
    alpha: loaded.known.alpha,
    beta: loaded.known.beta,
  };
  const rng = randomStream(options.seed);
  const model = new ScoringModel(options.model, loaded.train.numFeatures, rng.derive('model', 'init'));
  const ndcg = parseMetric('ndcg@10');
  const validation = dropQueriesWithoutRelevant(loaded.validation);
  const result = trainFromClicks(model, spec, loaded.train, loaded.log, {
    ...options.training,
    rng: rng.derive('learner', spec.type, 'batches'),
    // The trainer passes the model it trains (the doubly robust learner's regression model, then its ranker).
    validate: (m) => mean(evaluateModel(m as ScoringModel, validation, [ndcg], loaded.maxGrade)[ndcg.name]),
    progress: options.progress,
    label: spec.type,
    source: 'scenario' in options.clicks ? `the log simulated from ${options.clicks.file}` : options.clicks.log,
  });
  // Record the click-model knowledge the learner used, and only that.
  const usesPropensities = (spec.type === 'ips' || spec.type === 'clipped-ips') && spec.propensities !== undefined;
  const usesAffine = (spec.type === 'affine' || spec.type === 'doubly-robust') && spec.alpha !== undefined;
  const description = saveModel(options.out, model, {
    normalization: loaded.normalization,
    maxGrade: loaded.maxGrade,
    learner: {
      ...options.learner,
      ...(usesPropensities ? { propensities: Array.from(spec.propensities!) } : {}),
      ...(usesAffine ? { alpha: Array.from(spec.alpha!), beta: Array.from(spec.beta!) } : {}),
    },
    training: {
      ...options.training,
      seed: options.seed,
      clicks: loaded.origin,
      sessions: loaded.log.sessionQuery.length,
      bestStep: result.history.bestStep,
      stoppedAt: result.history.stoppedAt,
      bestValidationNdcg10: result.history.bestValidation,
      learnedPropensities: result.propensities ?? null,
      curve: result.history.curve,
    },
  });
  model.dispose();
  return { description, history: result.history, validation: result.history.bestValidation };
}

async function loadClicks(source: ClickSource): Promise<LoadedClicks> {
  if ('scenario' in source) {
    const scenario = source.scenario;
    const data: PreparedData = prepareData(scenario);
    const world = simulateSeedLog(scenario, data, source.seed);
    world.logger.dispose();
    return {
      train: data.train,
      validation: data.validation,
      maxGrade: data.maxGrade,
      normalization: scenario.dataset.name === 'letor' && scenario.dataset.normalization !== 'none' ? unsupportedNormalization(scenario.dataset.normalization) : { type: 'none' },
      log: world.log,
      known: { propensities: world.truePropensities, alpha: world.alpha, beta: world.beta },
      origin: { scenario: source.file, seed: source.seed, dataset: scenario.dataset, clickModel: scenario.clickModel },
    };
  }
  let train: RankingData;
  let validation: RankingData;
  let normalization: FeatureNormalization = { type: 'none' };
  // The log's ids must index these rows: a log that records other data is refused before any loading.
  const expected = 'dataset' in source.data ? { dataset: source.data.dataset, fold: source.data.fold, split: 'train' } : { dataset: letorOrigin(source.data.train) };
  checkLogOrigin(source.log, await readClickLogOrigin(source.log), expected);
  if ('dataset' in source.data) {
    const { loadRankingDataset } = await import('../../data/datasets.js');
    const splits = loadRankingDataset('mq2008', { fold: source.data.fold });
    train = splits.train;
    validation = splits.validation;
  } else {
    train = readLetorFileSync(source.data.train);
    validation = readLetorFileSync(source.data.validation, { numFeatures: train.numFeatures });
    if (source.data.normalization === 'per-feature') {
      const stats = featureStats(train);
      normalization = { type: 'per-feature', min: Array.from(stats.min), max: Array.from(stats.max) };
      train = normalizeFeatures(train, stats);
      validation = applyNormalization(validation, normalization);
    }
  }
  const { log } = await readClickLog(source.log);
  let longest = 0;
  for (let s = 0; s + 1 < log.sessionOffsets.length; s++) longest = Math.max(longest, log.sessionOffsets[s + 1] - log.sessionOffsets[s]);
  const known: LoadedClicks['known'] = {};
  if (source.clickModel) {
    const { propensities, alpha, beta } = clickModelBias(createClickModel(source.clickModel, longest, 'click-model'), longest, 'click-model');
    Object.assign(known, { propensities, alpha, beta });
  }
  let maxGrade = 1;
  for (const d of [train, validation]) for (const y of d.labels) maxGrade = Math.max(maxGrade, y);
  return { train, validation, maxGrade, normalization, log, known, origin: { log: source.log, data: source.data, clickModel: source.clickModel ?? null } };
}

function unsupportedNormalization(type: string): never {
  throw new ConfigError(
    'dataset.normalization',
    `a model trained from a scenario on LETOR files normalised "${type}" cannot record the training statistics yet: use --log with --train/--validation instead`,
  );
}
