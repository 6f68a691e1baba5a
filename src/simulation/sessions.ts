import type { RandomStream } from '../core/random.js';
import type { ClickLog, ClickLogTruth } from '../core/types.js';
import type { ClickModel } from './click-model.js';

/** The list each query shows (its top-k documents in rank order), columnar like a RankingData. */
export interface DisplayedLists {
  /** Length numQueries + 1: query q shows `documents[offsets[q] .. offsets[q + 1] − 1]`. */
  readonly offsets: Int32Array;
  /** Document rows (into the RankingData) in rank order. */
  readonly documents: Int32Array;
}

export interface SessionOptions {
  readonly numSessions: number;
  readonly clickModel: ClickModel;
  /** P(click | examined) for every document row of the data set. */
  readonly relevance: Float32Array;
  readonly rng: RandomStream;
  /**
   * `shuffle` randomises the order of each displayed list per session (the RandTop-k intervention
   * of Joachims et al. 2017), which makes every document equally likely at every rank so that the
   * click rate per rank is proportional to its examination probability.
   */
  readonly intervention?: 'none' | 'shuffle';
}

export interface SimulatedLog {
  readonly log: ClickLog;
  readonly truth: ClickLogTruth;
}

/**
 * Simulate sessions: each draws a query uniformly (among those that show at least one document),
 * displays its list (shuffled under the `shuffle` intervention) and lets the click model click.
 * Sessions without a click are kept: they are part of the log.
 */
export function simulateSessions(lists: DisplayedLists, options: SessionOptions): SimulatedLog {
  const { numSessions, clickModel, relevance, rng } = options;
  const shuffle = options.intervention === 'shuffle';
  const numQueries = lists.offsets.length - 1;
  const eligible: number[] = [];
  for (let q = 0; q < numQueries; q++) if (lists.offsets[q + 1] > lists.offsets[q]) eligible.push(q);
  if (eligible.length === 0) throw new RangeError('no query has a document to display');

  const queryRng = rng.derive('queries');
  const orderRng = rng.derive('order');
  const clickRng = rng.derive('clicks');
  const sessionQuery = new Int32Array(numSessions);
  const sessionOffsets = new Int32Array(numSessions + 1);
  for (let s = 0; s < numSessions; s++) {
    const q = eligible[queryRng.int(eligible.length)];
    sessionQuery[s] = q;
    sessionOffsets[s + 1] = sessionOffsets[s] + lists.offsets[q + 1] - lists.offsets[q];
  }

  const rows = sessionOffsets[numSessions];
  const document = new Int32Array(rows);
  const position = new Int32Array(rows);
  const slotRelevance = new Float32Array(rows);
  const out = {
    click: new Uint8Array(rows),
    examined: new Uint8Array(rows),
    examinationProbability: new Float32Array(rows),
  };
  for (let s = 0; s < numSessions; s++) {
    const q = sessionQuery[s];
    const start = sessionOffsets[s];
    const length = sessionOffsets[s + 1] - start;
    const from = lists.offsets[q];
    // Plain loops rather than set(subarray(...)): no view object per session in the hot loop.
    for (let k = 0; k < length; k++) document[start + k] = lists.documents[from + k];
    if (shuffle) shuffleRange(document, start, length, orderRng);
    for (let k = 0; k < length; k++) {
      position[start + k] = k;
      slotRelevance[start + k] = relevance[document[start + k]];
    }
    clickModel.simulate(slotRelevance, start, length, clickRng, out);
  }
  return {
    log: { sessionQuery, sessionOffsets, document, position, click: out.click },
    truth: {
      examinationProbability: out.examinationProbability,
      relevanceProbability: slotRelevance,
      examined: out.examined,
    },
  };
}

/** Fisher–Yates shuffle of `values[start .. start + length − 1]` in place. */
function shuffleRange(values: Int32Array, start: number, length: number, rng: RandomStream): void {
  for (let i = length - 1; i > 0; i--) {
    const j = start + rng.int(i + 1);
    const tmp = values[start + i];
    values[start + i] = values[j];
    values[j] = tmp;
  }
}
