import type { FittedModelType } from '../../fitting/registry.js';
import { ConfigError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { randomStream } from '../../core/random.js';
import type { ClickLog, RankingData } from '../../core/types.js';
import { clickLogFormatOf, readClickLog, readClickLogOrigin } from '../../data/click-log-io.js';
import { isPartitionedLog, LogEngine } from '../../data/engine.js';
import { checkLogOrigin, letorOrigin, type LogOrigin } from '../../data/log-format.js';
import { readLetorFileSync } from '../../data/letor.js';
import { dropQueriesWithoutRelevant, featureStats, normalizeFeatures } from '../../data/normalize.js';
import { parseMetric } from '../../evaluation/metrics.js';
import { mean } from '../../evaluation/statistics.js';
import { trainFromClickStream, trainFromClicks, type ClickLearnerSpec, type ClickLearnerType, type ClickStream } from '../../learning/click-learners.js';
import { DEFAULT_SHUFFLE_BUFFER } from '../../learning/streamed-batches.js';
import { ScoringModel, type ModelSpec } from '../../learning/model.js';
import { applyNormalization, saveModel, type FeatureNormalization, type ModelDescription } from '../../learning/model-io.js';
import type { TrainingHistory } from '../../learning/trainer.js';
import type { Scorer } from '../../learning/model.js';
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
      /**
       * How a streamed log is read: through the engine and a shuffle buffer (learning/streamed-batches.ts)
       * instead of into memory. A folder of partitions or a glob always streams; a single file only with `always`.
       */
      readonly stream?: { readonly always?: boolean; readonly bufferSessions?: number; readonly memoryLimit?: string; readonly batchRows?: number };
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
  /** The log in memory, or streamed (then `log` is null). */
  readonly log: ClickLog | null;
  readonly stream: (ClickStream & { readonly close: () => void; readonly bufferSessions?: number }) | null;
  readonly sessions: number;
  readonly known: { propensities?: number[]; alpha?: number[]; beta?: number[] };
  readonly origin: Record<string, unknown>;
}

/**
 * Train a ranker from clicks with one learner, keep the checkpoint with the best validation
 * nDCG@10 (stopping early after `patience` validations without improvement), and save it as a
 * model folder (`saveModel`) that `clicklab score` reads.
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const loaded = await loadClicks(options.clicks, options.seed);
  try {
    return await trainLoaded(options, loaded);
  } finally {
    loaded.stream?.close();
  }
}

async function trainLoaded(options: TrainModelOptions, loaded: LoadedClicks): Promise<TrainModelResult> {
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
  const trainOptions = {
    ...options.training,
    rng: rng.derive('learner', spec.type, 'batches'),
    // The trainer passes the model it trains (the doubly robust learner's regression model, then its ranker).
    validate: (m: Scorer) => mean(evaluateModel(m as ScoringModel, validation, [ndcg], loaded.maxGrade)[ndcg.name]),
    progress: options.progress,
    label: spec.type,
    source: 'scenario' in options.clicks ? `the log simulated from ${options.clicks.file}` : options.clicks.log,
  };
  const result =
    loaded.stream === null
      ? trainFromClicks(model, spec, loaded.train, loaded.log!, trainOptions)
      : await trainFromClickStream(model, spec, loaded.train, loaded.stream, { ...trainOptions, bufferSessions: loaded.stream.bufferSessions });
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
      sessions: loaded.sessions,
      ...(loaded.stream === null ? {} : { streamed: { shuffleBufferSessions: loaded.stream.bufferSessions ?? DEFAULT_SHUFFLE_BUFFER } }),
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

async function loadClicks(source: ClickSource, seed: number): Promise<LoadedClicks> {
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
      stream: null,
      sessions: world.log.sessionQuery.length,
      known: { propensities: world.truePropensities, alpha: world.alpha, beta: world.beta },
      origin: { scenario: source.file, seed: source.seed, dataset: scenario.dataset, clickModel: scenario.clickModel },
    };
  }
  // The log's ids must index these rows: a log that records other data is refused before any loading.
  const expected = 'dataset' in source.data ? { dataset: source.data.dataset, fold: source.data.fold, split: 'train' } : { dataset: letorOrigin(source.data.train) };
  const streamed = source.stream?.always === true || isPartitionedLog(source.log) ? (source.stream ?? {}) : null;
  let engine: LogEngine | null = null;
  let files: string[] = [source.log];
  if (streamed !== null) {
    engine = await LogEngine.open({ memoryLimit: streamed.memoryLimit });
    files = await engine.files(source.log);
  }
  try {
    return await loadLogClicks(source, expected, files, engine, streamed, seed);
  } catch (error) {
    engine?.close();
    throw error;
  }
}

async function loadLogClicks(
  source: Extract<ClickSource, { log: string }>,
  expected: LogOrigin,
  files: readonly string[],
  engine: LogEngine | null,
  streamed: { readonly bufferSessions?: number; readonly batchRows?: number } | null,
  seed: number,
): Promise<LoadedClicks> {
  let train: RankingData;
  let validation: RankingData;
  let normalization: FeatureNormalization = { type: 'none' };
  for (const file of files) checkLogOrigin(file, await originOf(file), expected);
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
  let log: ClickLog | null = null;
  let stream: LoadedClicks['stream'] = null;
  let longest = 0;
  let sessions: number;
  if (engine === null) {
    log = (await readClickLog(source.log)).log;
    for (let s = 0; s + 1 < log.sessionOffsets.length; s++) longest = Math.max(longest, log.sessionOffsets[s + 1] - log.sessionOffsets[s]);
    sessions = log.sessionQuery.length;
  } else {
    const summary = await engine.clickSummary(files);
    const numQueries = train.queryOffsets.length - 1;
    const outside = await engine.firstRowOutside(source.log, numQueries, train.labels.length);
    if (outside !== null) {
      const what =
        outside.query < 0 || outside.query >= numQueries
          ? `query ${outside.query}, but the data set has ${numQueries} queries`
          : `item ${outside.item}, but the data set has ${train.labels.length} documents`;
      throw new ConfigError(outside.file, `session ${outside.session} has ${what} (is the log from another data set, fold or split?)`);
    }
    longest = summary.longest;
    sessions = summary.sessions;
    const open = engine;
    stream = {
      summary,
      epoch: (e) => open.shuffledBatches(files, e, `${seed}:stream`, { batchRows: streamed?.batchRows }),
      close: () => open.close(),
      bufferSessions: streamed?.bufferSessions,
    };
  }
  const known: LoadedClicks['known'] = {};
  if (source.clickModel) {
    const { propensities, alpha, beta } = clickModelBias(createClickModel(source.clickModel, longest, 'click-model'), longest, 'click-model');
    Object.assign(known, { propensities, alpha, beta });
  }
  let maxGrade = 1;
  for (const d of [train, validation]) for (const y of d.labels) maxGrade = Math.max(maxGrade, y);
  return { train, validation, maxGrade, normalization, log, stream, sessions, known, origin: { log: source.log, data: source.data, clickModel: source.clickModel ?? null } };
}

/** A file's recorded origin; null for a file no click-log reader knows by its name (a gzipped CSV partition), as for another tool's. */
async function originOf(file: string): Promise<LogOrigin | null> {
  try {
    clickLogFormatOf(file);
  } catch {
    return null;
  }
  return readClickLogOrigin(file);
}

function unsupportedNormalization(type: string): never {
  throw new ConfigError(
    'dataset.normalization',
    `a model trained from a scenario on LETOR files normalised "${type}" cannot record the training statistics yet: use --log with --train/--validation instead`,
  );
}
