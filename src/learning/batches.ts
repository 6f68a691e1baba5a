import { ClickLabError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { ClickLog, RankingData } from '../core/types.js';

/**
 * A batch of lists in flat typed arrays, ready to become tensors. Only real documents carry
 * features (so a batch of long and short lists costs what its documents cost); `slotRows` lays
 * them out as lists: slot j of list i is `slotRows[i · listLength + j]`, a row of `features`, or
 * `numDocuments` for padding. For click batches the slot index is the displayed rank (0-based).
 */
export interface ListBatch {
  readonly numLists: number;
  readonly listLength: number;
  readonly numDocuments: number;
  /** numDocuments × numFeatures, row-major. */
  readonly features: Float32Array;
  readonly slotRows: Int32Array;
  /** The inverse of slotRows: the slot of each document row. */
  readonly documentSlots: Int32Array;
  /** 1 for a real slot, 0 for padding (numLists · listLength). */
  readonly mask: Float32Array;
  /** Clicks (click batches) or graded gains 2^y − 1 (label batches), per slot; 0 for padding. */
  readonly labels: Float32Array;
  /** Per-slot inputs some objectives need (doubly robust: expected treatment and regression estimate); 0 for padding. */
  readonly slotValues?: SlotValues<Float32Array>;
}

/** Per-slot values beside the labels, by name (arrays in batches, tensors in objectives). */
export interface SlotValues<T> {
  /** ρ(d): the expected treatment of the slot's document under the logging policy, E_{y∼π0}[α_{k(d)}]. */
  readonly treatment?: T;
  /** r̂(d): a regression model's estimate of the slot's document's relevance probability. */
  readonly regression?: T;
}

/** Draws training batches; each learner reads what it needs from them. */
export interface BatchSource {
  /** The longest list any batch can hold (click batches: the displayed cutoff). */
  readonly listLength: number;
  next(rng: RandomStream): ListBatch;
}

/** One list of a batch: its document rows and the label of each slot. */
export interface PickedList {
  readonly rows: ArrayLike<number>;
  readonly label: (slot: number) => number;
  /** The log rows behind the slots (click batches), for per-row slot values. */
  readonly logStart?: number;
  /** The list's own ρ per slot (streamed sessions), instead of `ClickBatchOptions.treatment` from `logStart`. */
  readonly treatment?: ArrayLike<number>;
}

/** Lay out picked lists, padded to the longest of them. */
export function fillBatch(data: RankingData, lists: PickedList[], extra?: ClickBatchOptions): ListBatch {
  const f = data.numFeatures;
  const numLists = lists.length;
  let listLength = 0;
  let numDocuments = 0;
  for (const list of lists) {
    listLength = Math.max(listLength, list.rows.length);
    numDocuments += list.rows.length;
  }
  const features = new Float32Array(numDocuments * f);
  const slotRows = new Int32Array(numLists * listLength).fill(numDocuments);
  const documentSlots = new Int32Array(numDocuments);
  const mask = new Float32Array(numLists * listLength);
  const labels = new Float32Array(numLists * listLength);
  const treatment = extra?.treatment || lists[0]?.treatment ? new Float32Array(numLists * listLength) : undefined;
  const regression = extra?.regression ? new Float32Array(numLists * listLength) : undefined;
  let row = 0;
  lists.forEach(({ rows, label, logStart, treatment: own }, i) => {
    for (let j = 0; j < rows.length; j++, row++) {
      const slot = i * listLength + j;
      features.set(data.features.subarray(rows[j] * f, rows[j] * f + f), row * f);
      slotRows[slot] = row;
      documentSlots[row] = slot;
      mask[slot] = 1;
      labels[slot] = label(j);
      if (treatment) treatment[slot] = own === undefined ? extra!.treatment![logStart! + j] : own[j];
      if (regression) regression[slot] = extra!.regression![rows[j]];
    }
  });
  const slotValues = treatment || regression ? { treatment, regression } : undefined;
  return { numLists, listLength, numDocuments, features, slotRows, documentSlots, mask, labels, slotValues };
}

export interface ClickBatchOptions {
  /**
   * Draw among all sessions, not only those with a click. Objectives whose labels are not zero
   * for a session without clicks (affine correction, doubly robust, regression EM) need them:
   * conditioning on a click would bias their estimates.
   */
  readonly allSessions?: boolean;
  /** ρ per log row (`expectedTreatment`), copied into `slotValues.treatment`. */
  readonly treatment?: Float32Array;
  /** r̂ per document row of the ranking data, copied into `slotValues.regression`. */
  readonly regression?: Float32Array;
}

/**
 * Sessions of a click log, drawn uniformly with replacement among the sessions that have at least
 * one click (the others carry no signal for a listwise loss: ULTRA discards and redraws them),
 * or among all sessions (`allSessions`).
 */
export function clickBatches(data: RankingData, log: ClickLog, batchSize: number, options: ClickBatchOptions = {}): BatchSource {
  const numSessions = log.sessionQuery.length;
  const withClicks: number[] = [];
  let listLength = 0;
  for (let s = 0; s < numSessions; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    listLength = Math.max(listLength, end - start);
    if (options.allSessions) {
      withClicks.push(s);
      continue;
    }
    for (let r = start; r < end; r++) {
      if (log.click[r]) {
        withClicks.push(s);
        break;
      }
    }
  }
  if (withClicks.length === 0) throw new RangeError(options.allSessions ? 'the click log has no session' : 'the click log has no click: nothing to learn from');
  if (options.treatment && options.treatment.length !== log.document.length) {
    throw new RangeError(`treatment has ${options.treatment.length} values, the log ${log.document.length} rows`);
  }
  if (options.regression && options.regression.length !== data.labels.length) {
    throw new RangeError(`regression has ${options.regression.length} values, the data ${data.labels.length} documents`);
  }
  for (let r = 0; r < log.document.length; r++) {
    if (log.document[r] < 0 || log.document[r] >= data.labels.length) {
      throw new RangeError(`click log row ${r}: document ${log.document[r]} is not a row of ${data.source} (${data.labels.length} documents): was the log made from this split?`);
    }
  }
  return {
    listLength,
    next(rng) {
      const lists = Array.from({ length: batchSize }, (): PickedList => {
        const s = withClicks[rng.int(withClicks.length)];
        const start = log.sessionOffsets[s];
        return {
          rows: log.document.subarray(start, log.sessionOffsets[s + 1]),
          label: (slot) => log.click[start + slot],
          logStart: start,
        };
      });
      return fillBatch(data, lists, options);
    },
  };
}

/**
 * Lists of documents with their true graded gains 2^y − 1 (for the skyline and the logging
 * ranker), or with the given per-row `gains` (soft labels: the click-model baseline), drawn
 * uniformly with replacement among the lists that have a positive gain. `lists` are arrays of
 * document rows, by default every query's full candidate list (`queryLists`); each batch is
 * padded to its longest list.
 */
export function labelBatches(data: RankingData, batchSize: number, lists: readonly Int32Array[] = queryLists(data), gains?: ArrayLike<number>): BatchSource {
  if (gains && gains.length !== data.labels.length) throw new RangeError(`gains has ${gains.length} values, ${data.source} ${data.labels.length} documents`);
  const gain = gains ? (row: number) => gains[row] : (row: number) => Math.pow(2, data.labels[row]) - 1;
  const usable = lists.filter((rows) => rows.some((row) => gain(row) > 0));
  if (usable.length === 0) {
    throw new ClickLabError(
      `${data.source}: no query has a relevant document (a label above 0) to train on: the logging ranker and the skyline learn from relevant documents (simulate --logger file-order needs none)`,
    );
  }
  return {
    listLength: Math.max(...usable.map((rows) => rows.length)),
    next(rng) {
      const picked = Array.from({ length: batchSize }, (): PickedList => {
        const rows = usable[rng.int(usable.length)];
        return { rows, label: (slot) => gain(rows[slot]) };
      });
      return fillBatch(data, picked);
    },
  };
}

/** The rows of each query (all of them, or those of `queries`), as lists. */
export function queryLists(data: RankingData, queries?: ArrayLike<number>): Int32Array[] {
  const chosen = queries ? Array.from(queries) : Array.from({ length: data.queryOffsets.length - 1 }, (_, q) => q);
  return chosen.map((q) => Int32Array.from({ length: data.queryOffsets[q + 1] - data.queryOffsets[q] }, (_, j) => data.queryOffsets[q] + j));
}

/** Sampled document rows grouped by their query, in row order (ULTRA's "1% of training lines"). */
export function groupRowsByQuery(data: RankingData, rows: ArrayLike<number>): Int32Array[] {
  const sorted = Int32Array.from(rows).sort();
  const lists: Int32Array[] = [];
  let q = 0;
  let start = 0;
  for (let i = 0; i < sorted.length; i++) {
    // Close the current group when this row belongs to a later query than the group's first row.
    if (sorted[i] >= data.queryOffsets[q + 1]) {
      if (i > start) lists.push(sorted.slice(start, i));
      start = i;
      while (sorted[i] >= data.queryOffsets[q + 1]) q++;
    }
  }
  if (sorted.length > start) lists.push(sorted.slice(start));
  return lists;
}
