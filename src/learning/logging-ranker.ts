import type { RandomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import { rankByScores } from '../policies/ranking.js';
import type { DisplayedLists } from '../simulation/sessions.js';
import { groupRowsByQuery, labelBatches, queryLists } from './batches.js';
import { ScoringModel } from './model.js';
import { listwiseObjective } from './objectives.js';
import { train } from './trainer.js';

/**
 * The logging ranker of the semi-synthetic ULTR protocol: linear, trained on the true labels of a
 * random `trainFraction` of the training `queries` (their full lists) or `lines` (single
 * documents, grouped by query: ULTRA's protocol).
 */
export interface LoggingRankerSpec {
  readonly trainFraction: number;
  readonly sample: 'queries' | 'lines';
  readonly steps: number;
}

/** The optimiser settings the logging ranker shares with the learners. */
export interface LoggingRankerTraining {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly clipNorm: number;
}

/** Trains the logging ranker (listwise softmax on the sampled true labels). */
export function trainLoggingRanker(data: RankingData, spec: LoggingRankerSpec, training: LoggingRankerTraining, rng: RandomStream): ScoringModel {
  const sampleRng = rng.derive('sample');
  let lists: Int32Array[];
  if (spec.sample === 'queries') {
    const numQueries = data.queryOffsets.length - 1;
    lists = queryLists(data, sampleRng.sampleWithoutReplacement(numQueries, Math.max(1, Math.round(spec.trainFraction * numQueries))));
  } else {
    const numDocuments = data.labels.length;
    lists = groupRowsByQuery(data, sampleRng.sampleWithoutReplacement(numDocuments, Math.max(1, Math.round(spec.trainFraction * numDocuments))));
  }
  const logger = new ScoringModel({ type: 'linear' }, data.numFeatures, rng.derive('init'));
  train(logger, listwiseObjective(), labelBatches(data, Math.min(training.batchSize, lists.length), lists), {
    steps: spec.steps,
    learningRate: training.learningRate,
    clipNorm: training.clipNorm,
    evalEvery: spec.steps,
    rng: rng.derive('batches'),
  });
  return logger;
}

/** The logging ranker's top `cutoff` for every query (the ranker is trained, used and disposed here). */
export function loggingRankerLists(data: RankingData, spec: LoggingRankerSpec, training: LoggingRankerTraining, cutoff: number, rng: RandomStream): DisplayedLists {
  const logger = trainLoggingRanker(data, spec, training, rng);
  const lists = rankByScores(data, logger.scoreArray(data.features), cutoff);
  logger.dispose();
  return lists;
}
