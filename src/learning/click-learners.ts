import { ConfigError } from '../core/errors.js';
import type { ClickLog, RankingData } from '../core/types.js';
import type { FittedModelType } from '../fitting/registry.js';
import { clickBatches, labelBatches } from './batches.js';
import { clickModelLabels } from './click-model-labels.js';
import { affineObjective, affineRegressionObjective, doublyRobustObjective, expectedTreatment, pairwiseDebiasObjective, regressionEmObjective } from './debiasing.js';
import type { ScoringModel } from './model.js';
import { dlaObjective, ipsObjective, listwiseObjective, type Objective } from './objectives.js';
import { streamedClickBatches, type StreamedBatchOptions } from './streamed-batches.js';
import { train, trainFromAsyncSource, type TrainingHistory, type TrainOptions } from './trainer.js';

/** Every learner that trains a ranker from a click log. */
export const CLICK_LEARNER_TYPES = ['naive', 'ips', 'clipped-ips', 'dla', 'regression-em', 'pairwise-debias', 'affine', 'doubly-robust', 'click-model'] as const;
export type ClickLearnerType = (typeof CLICK_LEARNER_TYPES)[number];

/** A learner and what it needs to know about the click model. */
export interface ClickLearnerSpec {
  readonly type: ClickLearnerType;
  /** IPS, clipped IPS: examination propensities relative to rank 1 (p_k / p_1). */
  readonly propensities?: ArrayLike<number>;
  /** Clipped IPS (required), DLA (optional): weight cap M. */
  readonly maxWeight?: number;
  /** DLA: cap on the relevance weights of its examination loss. */
  readonly maxRelevanceWeight?: number;
  /** DLA: learning rate of its propensity model. */
  readonly propensityLearningRate?: number;
  /** Affine, doubly robust: the click model's P(C_k = 1) = α_k P(R = 1) + β_k, absolute, per rank (PBM: α = κ, β = 0). */
  readonly alpha?: ArrayLike<number>;
  readonly beta?: ArrayLike<number>;
  /** Click-model baseline: the click model fitted to the log (default PBM) and its EM iterations (default 50). */
  readonly clickModel?: FittedModelType;
  readonly emIterations?: number;
}

export interface ClickTrainOptions extends Omit<TrainOptions, 'label'> {
  readonly batchSize: number;
  readonly label?: string;
  /** What the log is, for error messages (a file name; default "log"). */
  readonly source?: string;
}

/** Learners whose loss compares the documents of a session (listwise or pairwise): a one-document session teaches them nothing. */
const COMPARES_WITHIN_SESSIONS: ReadonlySet<ClickLearnerType> = new Set(['naive', 'ips', 'clipped-ips', 'dla', 'pairwise-debias']);

/**
 * Refuses, before any training, a log that carries no signal for `spec`'s learner (training would
 * run, report a loss of 0 or NaN, and save an untrained model): documents or queries that are not
 * rows of `data`, no click at all, only one-document sessions for a learner that compares the
 * documents of a session, and propensities that are not finite and > 0 for every rank shown.
 */
export function checkClickSignal(spec: ClickLearnerSpec, data: RankingData, log: ClickLog, source = 'log'): void {
  const numDocuments = data.labels.length;
  const numQueries = data.queryOffsets.length - 1;
  const sessions = log.sessionOffsets.length - 1;
  if (sessions < 1) throw new ConfigError(source, 'expected at least one session, found none');
  for (let s = 0; s < sessions; s++) {
    const q = log.sessionQuery[s];
    if (!(q >= 0 && q < numQueries)) throw new ConfigError(source, `session ${s + 1} has query ${q}, but the data set has ${numQueries} queries (is the log from another data set, fold or split?)`);
  }
  let clicks = 0;
  for (let r = 0; r < log.document.length; r++) {
    const d = log.document[r];
    if (!(d >= 0 && d < numDocuments)) throw new ConfigError(source, `row ${r + 1} has item ${d}, but the data set has ${numDocuments} documents (is the log from another data set, fold or split?)`);
    clicks += log.click[r];
  }
  if (clicks === 0) throw new ConfigError(source, `no click in ${sessions} sessions: learner ${spec.type} learns from clicks, so there is nothing to train on`);
  let listLength = 0;
  let contrasted = 0;
  for (let s = 0; s < sessions; s++) {
    const from = log.sessionOffsets[s];
    const length = log.sessionOffsets[s + 1] - from;
    listLength = Math.max(listLength, length);
    if (length < 2) continue;
    let clicked = 0;
    for (let r = from; r < from + length; r++) clicked += log.click[r];
    if (clicked > 0 && clicked < length) contrasted++;
  }
  checkSignalCounts(spec, { sessions, clicks, listLength, contrasted }, source);
}

/**
 * The checks of `checkClickSignal` that need only counts (a streamed log's `LogEngine.clickSummary`):
 * some click, a session to contrast for the learners that compare within sessions, propensities.
 */
export function checkSignalCounts(
  spec: ClickLearnerSpec,
  counts: { readonly sessions: number; readonly clicks: number; readonly listLength: number; readonly contrasted: number },
  source = 'log',
): void {
  const { sessions, clicks, listLength, contrasted } = counts;
  if (sessions < 1) throw new ConfigError(source, 'expected at least one session, found none');
  if (clicks === 0) throw new ConfigError(source, `no click in ${sessions} sessions: learner ${spec.type} learns from clicks, so there is nothing to train on`);
  if (COMPARES_WITHIN_SESSIONS.has(spec.type) && contrasted === 0) {
    throw new ConfigError(
      source,
      listLength < 2
        ? `every session shows one document: learner ${spec.type} compares the documents of a session (no pairs, no position contrast), so there is nothing to train on`
        : `no session shows both a clicked and an unclicked document: learner ${spec.type} compares them within a session, so there is nothing to train on`,
    );
  }
  if ((spec.type === 'ips' || spec.type === 'clipped-ips') && spec.propensities !== undefined) {
    const p = spec.propensities;
    for (let k = 0; k < Math.min(p.length, listLength); k++) {
      if (!(Number.isFinite(p[k]) && p[k] > 0)) throw new ConfigError('propensities', `rank ${k + 1} has propensity ${p[k]}: IPS divides by it, so every rank shown needs a propensity > 0`);
    }
    if (p.length < listLength) throw new ConfigError('propensities', `expected one propensity per rank shown (${listLength}), found ${p.length}`);
  }
}

export interface ClickTrainResult {
  readonly history: TrainingHistory;
  /** Propensities relative to rank 1 that the learner used or learned. */
  readonly propensities?: number[];
  /** Doubly robust: the regression model's training history. */
  readonly regressionHistory?: TrainingHistory;
}

/** Which learners draw batches among all sessions (their labels are not 0 without a click). */
export function usesAllSessions(type: ClickLearnerType): boolean {
  return type === 'regression-em' || type === 'affine' || type === 'doubly-robust';
}

/**
 * Train `model` from a click log on `data` (the ranking data whose document rows the log's
 * documents index, for their features) with the learner `spec`. The doubly robust learner first
 * fits its regression model (a copy of `model`'s architecture from the same initial weights) on
 * the same log, then the ranker; `options.validate` receives the model being trained, so each
 * stage keeps its own best checkpoint.
 */
export function trainFromClicks(model: ScoringModel, spec: ClickLearnerSpec, data: RankingData, log: ClickLog, options: ClickTrainOptions): ClickTrainResult {
  let listLength = 0;
  for (let s = 0; s + 1 < log.sessionOffsets.length; s++) listLength = Math.max(listLength, log.sessionOffsets[s + 1] - log.sessionOffsets[s]);
  checkClickSignal(spec, data, log, options.source);
  const allSessions = usesAllSessions(spec.type);
  const label = options.label ?? spec.type;
  if (spec.type === 'click-model') {
    // Relevance estimated by a fitted click model, trained on listwise like the skyline on true gains.
    const estimated = clickModelLabels(log, data.labels.length, { model: spec.clickModel ?? 'pbm', iterations: spec.emIterations });
    const history = train(model, listwiseObjective(), labelBatches(data, options.batchSize, estimated.lists, estimated.labels), { ...options, label });
    return { history };
  }
  if (spec.type !== 'doubly-robust') {
    const objective = makeClickObjective(spec, listLength);
    try {
      const history = train(model, objective, clickBatches(data, log, options.batchSize, { allSessions }), { ...options, label });
      return { history, propensities: propensitiesOf(spec, objective) };
    } finally {
      objective.dispose();
    }
  }
  const { alpha, beta } = affineParameters(spec);
  const regressionModel = model.copy();
  const regressionObjective = affineRegressionObjective(alpha, beta);
  let regressionHistory: TrainingHistory;
  let regression: Float32Array;
  try {
    regressionHistory = train(regressionModel, regressionObjective, clickBatches(data, log, options.batchSize, { allSessions: true }), {
      ...options,
      rng: options.rng.derive('regression'),
      label: `${label} (regression model)`,
    });
    regression = clickProbabilities(regressionModel, data);
  } finally {
    regressionObjective.dispose();
    regressionModel.dispose();
  }
  const treatment = expectedTreatment(log, alpha, data.labels.length);
  const objective = doublyRobustObjective(alpha, beta);
  const history = train(model, objective, clickBatches(data, log, options.batchSize, { allSessions: true, treatment, regression }), { ...options, label });
  objective.dispose();
  return { history, regressionHistory };
}

/** A click log too large for memory, as the streaming learners read it (the engine's, or any source of blocks of whole sessions). */
export interface ClickStream {
  /** Sessions, clicks, the longest session and the sessions to contrast (`LogEngine.clickSummary`). */
  readonly summary: { readonly sessions: number; readonly clicks: number; readonly longest: number; readonly contrasted: number; readonly maxQuery: number };
  /** Epoch `epoch`'s blocks of whole sessions, in that epoch's (seeded) order. */
  epoch(epoch: number): AsyncIterable<ClickLog>;
}

export interface StreamTrainOptions extends ClickTrainOptions {
  /** Sessions in the shuffle buffer (default DEFAULT_SHUFFLE_BUFFER). */
  readonly bufferSessions?: number;
}

/**
 * `trainFromClicks` on a log streamed through a shuffle buffer (learning/streamed-batches.ts, which
 * says what the buffer does to the independence of batches): memory holds the buffer, a block and
 * what the learner keeps per document, never the log. Every learner but the click-model baseline
 * (whose EM fit needs the sessions in memory: fit the click model with `clicklab fit --engine duckdb`).
 * The doubly robust learner reads the log once more, first, for its expected treatment ρ (per
 * document and query, not per row).
 */
export async function trainFromClickStream(model: ScoringModel, spec: ClickLearnerSpec, data: RankingData, stream: ClickStream, options: StreamTrainOptions): Promise<ClickTrainResult> {
  const source = options.source ?? 'log';
  if (spec.type === 'click-model') {
    throw new ConfigError(source, 'learner click-model fits its click model on the sessions in memory, so it does not stream: give it a log that fits in memory (one file)');
  }
  const { summary } = stream;
  const listLength = summary.longest;
  checkSignalCounts(spec, { sessions: summary.sessions, clicks: summary.clicks, listLength, contrasted: summary.contrasted }, source);
  const label = options.label ?? spec.type;
  const batches = (extra: Omit<StreamedBatchOptions, 'listLength' | 'bufferSessions' | 'source'>) =>
    streamedClickBatches(data, (e) => stream.epoch(e), options.batchSize, { ...extra, listLength, bufferSessions: options.bufferSessions, source });
  if (spec.type !== 'doubly-robust') {
    const objective = makeClickObjective(spec, listLength);
    try {
      const history = await trainFromAsyncSource(model, objective, batches({ allSessions: usesAllSessions(spec.type) }), { ...options, label });
      return { history, propensities: propensitiesOf(spec, objective) };
    } finally {
      objective.dispose();
    }
  }
  const { alpha, beta } = affineParameters(spec);
  const regressionModel = model.copy();
  const regressionObjective = affineRegressionObjective(alpha, beta);
  let regressionHistory: TrainingHistory;
  let regression: Float32Array;
  try {
    regressionHistory = await trainFromAsyncSource(regressionModel, regressionObjective, batches({ allSessions: true }), {
      ...options,
      rng: options.rng.derive('regression'),
      label: `${label} (regression model)`,
    });
    regression = clickProbabilities(regressionModel, data);
  } finally {
    regressionObjective.dispose();
    regressionModel.dispose();
  }
  // ρ(d) = Σ over the sessions showing d of α at its rank / sessions of d's query: as expectedTreatment, in one pass.
  const alphaSum = new Float64Array(data.labels.length);
  const sessionsOfQuery = new Float64Array(summary.maxQuery + 1);
  for await (const block of stream.epoch(-1)) {
    for (let s = 0; s < block.sessionQuery.length; s++) {
      sessionsOfQuery[block.sessionQuery[s]]++;
      for (let r = block.sessionOffsets[s]; r < block.sessionOffsets[s + 1]; r++) alphaSum[block.document[r]] += alpha[Math.min(block.position[r], alpha.length - 1)];
    }
  }
  const treatment = (query: number, documents: Int32Array) => Float32Array.from(documents, (d) => alphaSum[d] / sessionsOfQuery[query]);
  const objective = doublyRobustObjective(alpha, beta);
  try {
    const history = await trainFromAsyncSource(model, objective, batches({ allSessions: true, treatment, regression }), { ...options, label });
    return { history, regressionHistory };
  } finally {
    objective.dispose();
  }
}

/** The propensities a single-stage learner used: the given ones (IPS), or those it learned (DLA and kin). */
function propensitiesOf(spec: ClickLearnerSpec, objective: Objective): number[] | undefined {
  return spec.type === 'ips' || spec.type === 'clipped-ips' ? Array.from(spec.propensities!) : objective.learnedPropensities?.();
}

/** The doubly robust learner's regression model as P(R = 1) per document: σ(score). */
function clickProbabilities(regressionModel: ScoringModel, data: RankingData): Float32Array {
  return Float32Array.from(regressionModel.scoreArray(data.features), (s) => 1 / (1 + Math.exp(-s)));
}

function affineParameters(spec: ClickLearnerSpec): { alpha: ArrayLike<number>; beta: ArrayLike<number> } {
  if (!spec.alpha || !spec.beta) throw new ConfigError(`learner ${spec.type}`, 'needs the affine click parameters alpha and beta (P(C_k = 1) = alpha_k P(R = 1) + beta_k)');
  return { alpha: spec.alpha, beta: spec.beta };
}

/** The objective of every single-stage learner (the doubly robust learner has two stages: `trainFromClicks`). */
export function makeClickObjective(spec: ClickLearnerSpec, listLength: number): Objective {
  switch (spec.type) {
    case 'naive':
      return listwiseObjective();
    case 'ips':
    case 'clipped-ips': {
      if (!spec.propensities) throw new ConfigError(`learner ${spec.type}`, 'needs propensities relative to rank 1');
      if (spec.type === 'clipped-ips' && spec.maxWeight === undefined) throw new ConfigError('learner clipped-ips', 'needs a weight cap M (maxWeight)');
      return ipsObjective(spec.propensities, spec.maxWeight);
    }
    case 'dla':
      return dlaObjective(listLength, { maxWeight: spec.maxWeight, maxRelevanceWeight: spec.maxRelevanceWeight, propensityLearningRate: spec.propensityLearningRate });
    case 'regression-em':
      return regressionEmObjective(listLength);
    case 'pairwise-debias':
      return pairwiseDebiasObjective(listLength);
    case 'affine': {
      const { alpha, beta } = affineParameters(spec);
      return affineObjective(alpha, beta);
    }
    case 'doubly-robust':
      throw new ConfigError('learner doubly-robust', 'has two stages: train it with trainFromClicks');
    case 'click-model':
      throw new ConfigError('learner click-model', 'fits a click model first: train it with trainFromClicks');
  }
}
