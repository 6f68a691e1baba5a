import type { RankingData } from '../core/types.js';
import type { DisplayedLists } from '../simulation/sessions.js';

/**
 * Deterministic ranking policy: sort each query's candidates by score (descending; ties keep the
 * file order) and show the top `cutoff` (users see only the top 10 in the standard protocol).
 */
export function rankByScores(data: RankingData, scores: Float32Array, cutoff: number): DisplayedLists {
  const numQueries = data.queryOffsets.length - 1;
  const offsets = new Int32Array(numQueries + 1);
  for (let q = 0; q < numQueries; q++) {
    offsets[q + 1] = offsets[q] + Math.min(cutoff, data.queryOffsets[q + 1] - data.queryOffsets[q]);
  }
  const documents = new Int32Array(offsets[numQueries]);
  for (let q = 0; q < numQueries; q++) {
    const order = sortedByScore(scores, data.queryOffsets[q], data.queryOffsets[q + 1]);
    documents.set(order.subarray(0, offsets[q + 1] - offsets[q]), offsets[q]);
  }
  return { offsets, documents };
}

/** Rows `start .. end − 1` sorted by descending score; equal scores keep their row order. */
export function sortedByScore(scores: ArrayLike<number>, start: number, end: number): Int32Array {
  const rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
  rows.sort((a, b) => scores[b] - scores[a] || a - b);
  return rows;
}
