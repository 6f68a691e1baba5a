import type { RandomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import type { LoggedClicks } from '../data/click-log-table.js';
import { rankByScores } from '../policies/ranking.js';
import type { ClickModel } from '../simulation/click-model.js';
import { relevanceProbabilities } from '../simulation/relevance.js';
import { simulateSessions, type DisplayedLists } from '../simulation/sessions.js';
import type { Scenario } from './scenario.js';
import { trainLoggingRanker } from './ultr-run.js';

/** Sessions per chunk: chunks draw from their own derived streams, so a log is the same whether it is held in memory or streamed. */
export const SESSIONS_PER_CHUNK = 1 << 20;

export interface SearchLogSpec {
  /** `linear`: the protocol's logging ranker (a linear model on 1% of the training queries); `file-order`: the data set's own order. */
  readonly logger: 'linear' | 'file-order';
  readonly loggingRanker: Scenario['loggingRanker'];
  /** Users see the top `cutoff` results. */
  readonly cutoff: number;
  /** `shuffle`: each session shows the logger's top `cutoff` in a uniformly random order (RandTop-n). */
  readonly intervention: 'none' | 'shuffle';
  /** P(click | examined) per grade (`relevanceTable`). */
  readonly relevance: Float64Array;
  readonly clickModel: ClickModel;
  readonly sessions: number;
}

/** The displayed lists of a search world: the logger's top `cutoff` for every query. */
export function displayedLists(data: RankingData, spec: SearchLogSpec, rng: RandomStream): DisplayedLists {
  if (spec.logger === 'file-order') return rankByScores(data, new Float32Array(data.labels.length), spec.cutoff);
  const logger = trainLoggingRanker(data, spec.loggingRanker, { batchSize: 256, learningRate: 0.05, clipNorm: 5 }, rng.derive('logging'));
  const lists = rankByScores(data, logger.scoreArray(data.features), spec.cutoff);
  logger.dispose();
  return lists;
}

/**
 * Simulate a search click log chunk by chunk (each at most SESSIONS_PER_CHUNK sessions) and hand
 * every chunk to `sink`, e.g. a ClickLogWriter: memory stays bounded by one chunk. The logging
 * propensity of each row is the probability that the logger shows that document at that position:
 * 1 for a deterministic ranking, 1/n for a shuffled list of n.
 */
export async function simulateSearchLog(data: RankingData, spec: SearchLogSpec, rng: RandomStream, sink: (chunk: LoggedClicks) => Promise<void> | void): Promise<void> {
  const lists = displayedLists(data, spec, rng);
  const relevance = relevanceProbabilities(data.labels, spec.relevance);
  for (let chunk = 0, done = 0; done < spec.sessions; chunk++) {
    const numSessions = Math.min(SESSIONS_PER_CHUNK, spec.sessions - done);
    const { log, truth } = simulateSessions(lists, {
      numSessions,
      clickModel: spec.clickModel,
      relevance,
      rng: rng.derive('sessions', chunk),
      intervention: spec.intervention,
    });
    const propensity = new Float32Array(log.document.length);
    for (let s = 0; s < numSessions; s++) {
      const start = log.sessionOffsets[s];
      const end = log.sessionOffsets[s + 1];
      propensity.fill(spec.intervention === 'shuffle' ? 1 / (end - start) : 1, start, end);
    }
    await sink({ log, propensity, truth });
    done += numSessions;
  }
}
