/**
 * The shared vocabulary. Data is columnar (typed arrays), never one object per document, so that
 * simulation and training loops stay fast and allocation-free.
 */

/**
 * Labelled ranking data (LETOR-style): queries are contiguous runs of documents.
 * Documents of query q are rows `queryOffsets[q] .. queryOffsets[q + 1] - 1`.
 */
export interface RankingData {
  /** Where the data came from (a file path or a data-set name), for messages and reports. */
  readonly source: string;
  readonly numFeatures: number;
  /** Row-major documents × numFeatures. */
  readonly features: Float32Array;
  /** Integer relevance grade per document. */
  readonly labels: Int32Array;
  /** Length numQueries + 1. */
  readonly queryOffsets: Int32Array;
  /** The query id of each query, as written in the file. */
  readonly qids: string[];
  /** Document id per document (from the `#docid = ...` comment), or null when the file has none. */
  readonly docIds: string[] | null;
}

export function numQueries(data: RankingData): number {
  return data.queryOffsets.length - 1;
}

export function numDocuments(data: RankingData): number {
  return data.labels.length;
}

/** A data set split as the protocol uses it. */
export interface RankingSplits {
  readonly name: string;
  readonly train: RankingData;
  readonly validation: RankingData;
  readonly test: RankingData;
}

/** The longest list a session can show: positions are stored in 16 bits. */
export const MAX_LIST_LENGTH = 65_536;

/**
 * A click log of ranked lists (one row per displayed slot), columnar.
 * Session s occupies rows `sessionOffsets[s] .. sessionOffsets[s + 1] - 1`, in rank order.
 * What a learner may see is here; what only the simulator knows is in `ClickLogTruth`.
 */
export interface ClickLog {
  /** Query index (into the RankingData the log was made from) of each session. */
  readonly sessionQuery: Int32Array;
  /** Length numSessions + 1. */
  readonly sessionOffsets: Int32Array;
  /** Document row (into the RankingData) at each slot. */
  readonly document: Int32Array;
  /** 0-based rank of each slot (16 bits: a session shows at most 65,536 results, and a PBM log stays under 16 bytes a slot). */
  readonly position: Uint16Array;
  /** 1 if the slot was clicked. */
  readonly click: Uint8Array;
}

/** Hidden truth of a simulated click log, aligned row by row with it. Learners never receive it. */
export interface ClickLogTruth {
  /** The probability that the slot was examined. */
  readonly examinationProbability: Float32Array;
  /** The probability that the document is relevant (clicked when examined). */
  readonly relevanceProbability: Float32Array;
  /** Whether the slot was examined in this session. */
  readonly examined: Uint8Array;
}

/** The list each query shows (its top-k documents in rank order), columnar like a RankingData. */
export interface DisplayedLists {
  /** Length numQueries + 1: query q shows `documents[offsets[q] .. offsets[q + 1] − 1]`. */
  readonly offsets: Int32Array;
  /** Document rows (into the RankingData) in rank order. */
  readonly documents: Int32Array;
}
