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
}

/** Draws training batches; each learner reads what it needs from them. */
export interface BatchSource {
  /** The longest list any batch can hold (click batches: the displayed cutoff). */
  readonly listLength: number;
  next(rng: RandomStream): ListBatch;
}

interface PickedList {
  readonly rows: ArrayLike<number>;
  readonly label: (slot: number) => number;
}

/** Lay out picked lists, padded to the longest of them. */
function fillBatch(data: RankingData, lists: PickedList[]): ListBatch {
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
  let row = 0;
  lists.forEach(({ rows, label }, i) => {
    for (let j = 0; j < rows.length; j++, row++) {
      const slot = i * listLength + j;
      features.set(data.features.subarray(rows[j] * f, rows[j] * f + f), row * f);
      slotRows[slot] = row;
      documentSlots[row] = slot;
      mask[slot] = 1;
      labels[slot] = label(j);
    }
  });
  return { numLists, listLength, numDocuments, features, slotRows, documentSlots, mask, labels };
}

/**
 * Sessions of a click log, drawn uniformly with replacement among the sessions that have at least
 * one click (the others carry no signal for a listwise loss: ULTRA discards and redraws them).
 */
export function clickBatches(data: RankingData, log: ClickLog, batchSize: number): BatchSource {
  const numSessions = log.sessionQuery.length;
  const withClicks: number[] = [];
  let listLength = 0;
  for (let s = 0; s < numSessions; s++) {
    const start = log.sessionOffsets[s];
    const end = log.sessionOffsets[s + 1];
    listLength = Math.max(listLength, end - start);
    for (let r = start; r < end; r++) {
      if (log.click[r]) {
        withClicks.push(s);
        break;
      }
    }
  }
  if (withClicks.length === 0) throw new RangeError('the click log has no click: nothing to learn from');
  return {
    listLength,
    next(rng) {
      const lists = Array.from({ length: batchSize }, (): PickedList => {
        const s = withClicks[rng.int(withClicks.length)];
        const start = log.sessionOffsets[s];
        return {
          rows: log.document.subarray(start, log.sessionOffsets[s + 1]),
          label: (slot) => log.click[start + slot],
        };
      });
      return fillBatch(data, lists);
    },
  };
}

/**
 * Whole candidate lists with their true graded gains 2^y − 1 (for the skyline and for the
 * logging ranker), drawn uniformly with replacement among `queries` that have a relevant document.
 * Each batch is padded to its longest list.
 */
export function labelBatches(data: RankingData, batchSize: number, queries?: ArrayLike<number>): BatchSource {
  const candidates = queries ? Array.from(queries) : Array.from({ length: data.queryOffsets.length - 1 }, (_, q) => q);
  const usable: number[] = [];
  let listLength = 0;
  for (const q of candidates) {
    const start = data.queryOffsets[q];
    const end = data.queryOffsets[q + 1];
    let relevant = false;
    for (let r = start; r < end; r++) relevant ||= data.labels[r] > 0;
    if (relevant) {
      usable.push(q);
      listLength = Math.max(listLength, end - start);
    }
  }
  if (usable.length === 0) throw new RangeError(`${data.source}: no query with a relevant document to train on`);
  return {
    listLength,
    next(rng) {
      const lists = Array.from({ length: batchSize }, (): PickedList => {
        const q = usable[rng.int(usable.length)];
        const start = data.queryOffsets[q];
        const end = data.queryOffsets[q + 1];
        return {
          rows: Int32Array.from({ length: end - start }, (_, j) => start + j),
          label: (slot) => Math.pow(2, data.labels[start + slot]) - 1,
        };
      });
      return fillBatch(data, lists);
    },
  };
}
