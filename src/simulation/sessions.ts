import type { RandomStream } from '../core/random.js';
import { MAX_LIST_LENGTH, type ClickLog, type ClickLogTruth } from '../core/types.js';
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
   * click rate per rank is proportional to its examination probability. `swap` (RandPair,
   * Joachims et al. 2017) swaps, in half of the sessions, the result at rank 1 with the result at a
   * uniformly drawn rank k ≥ 2, and leaves the other half as logged.
   */
  readonly intervention?: 'none' | 'shuffle' | 'swap';
  /**
   * Keep the hidden truth (default true). Without it a log costs 7 bytes per displayed result plus
   * 8 per session (document, 16-bit position, click; query and offset per session); the truth adds 9.
   */
  readonly truth?: boolean;
}

export interface SimulatedLog {
  readonly log: ClickLog;
  /** Present unless the options asked for no truth. */
  readonly truth?: ClickLogTruth;
}

/**
 * Simulate sessions: each draws a query uniformly (among those that show at least one document),
 * displays its list (shuffled under the `shuffle` intervention) and lets the click model click.
 * Sessions without a click are kept: they are part of the log.
 */
export function simulateSessions(lists: DisplayedLists, options: SessionOptions & { readonly truth?: true }): Required<SimulatedLog>;
export function simulateSessions(lists: DisplayedLists, options: SessionOptions): SimulatedLog;
export function simulateSessions(lists: DisplayedLists, options: SessionOptions): SimulatedLog {
  const { numSessions, clickModel, relevance, rng } = options;
  const shuffle = options.intervention === 'shuffle';
  const swap = options.intervention === 'swap';
  const numQueries = lists.offsets.length - 1;
  const eligible: number[] = [];
  for (let q = 0; q < numQueries; q++) if (lists.offsets[q + 1] > lists.offsets[q]) eligible.push(q);
  if (eligible.length === 0) throw new RangeError('no query has a document to display');
  for (const q of eligible) {
    if (lists.offsets[q + 1] - lists.offsets[q] > MAX_LIST_LENGTH) throw new RangeError(`query ${q} shows more than ${MAX_LIST_LENGTH} results: positions are 16-bit`);
  }

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
  const position = new Uint16Array(rows);
  const click = new Uint8Array(rows);
  // With truth, the click model writes straight into the log's truth columns; without, into
  // per-session scratch buffers (at offset 0) whose clicks are copied out.
  const keepTruth = options.truth !== false;
  let longest = 0;
  for (const q of eligible) longest = Math.max(longest, lists.offsets[q + 1] - lists.offsets[q]);
  const slotRelevance = new Float32Array(keepTruth ? rows : longest);
  const out = keepTruth
    ? { click, examined: new Uint8Array(rows), examinationProbability: new Float32Array(rows) }
    : { click: new Uint8Array(longest), examined: new Uint8Array(longest), examinationProbability: new Float32Array(longest) };
  for (let s = 0; s < numSessions; s++) {
    const q = sessionQuery[s];
    const start = sessionOffsets[s];
    const length = sessionOffsets[s + 1] - start;
    const from = lists.offsets[q];
    // Plain loops rather than set(subarray(...)): no view object per session in the hot loop.
    for (let k = 0; k < length; k++) document[start + k] = lists.documents[from + k];
    if (shuffle) shuffleRange(document, start, length, orderRng);
    if (swap && length > 1 && orderRng.uniform() < 0.5) {
      const k = start + 1 + orderRng.int(length - 1);
      const first = document[start];
      document[start] = document[k];
      document[k] = first;
    }
    const base = keepTruth ? start : 0;
    for (let k = 0; k < length; k++) {
      position[start + k] = k;
      slotRelevance[base + k] = relevance[document[start + k]];
    }
    clickModel.simulate(slotRelevance, base, length, clickRng, out);
    if (!keepTruth) for (let k = 0; k < length; k++) click[start + k] = out.click[k];
  }
  const log = { sessionQuery, sessionOffsets, document, position, click };
  if (!keepTruth) return { log };
  return {
    log,
    truth: { examinationProbability: out.examinationProbability, relevanceProbability: slotRelevance, examined: out.examined },
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
