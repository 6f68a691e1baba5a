/**
 * Feature normalisation and query filtering. Every function returns new RankingData and leaves
 * its input untouched.
 */
import { DataFormatError } from '../core/errors.js';
import type { RankingData } from '../core/types.js';

/** Per-feature minimum and maximum, taken on the training data. */
export interface FeatureStats {
  readonly min: Float64Array;
  readonly max: Float64Array;
}

export function featureStats(train: RankingData): FeatureStats {
  const n = train.numFeatures;
  const min = new Float64Array(n).fill(Infinity);
  const max = new Float64Array(n).fill(-Infinity);
  const x = train.features;
  for (let row = 0; row < x.length; row += n) {
    for (let f = 0; f < n; f++) {
      const v = x[row + f];
      if (v < min[f]) min[f] = v;
      if (v > max[f]) max[f] = v;
    }
  }
  return { min, max };
}

/**
 * Maps each feature to [−1, 1] with the training statistics: −1 at the training minimum, 1 at
 * the maximum; a feature constant in training becomes 0. Applied to validation and test data
 * with the same statistics, values outside the training range go beyond ±1 on purpose: clamping
 * would make different documents equal, and a linear or neural scorer copes with them.
 */
export function normalizeFeatures(data: RankingData, stats: FeatureStats): RankingData {
  const n = data.numFeatures;
  if (stats.min.length !== n) {
    throw new DataFormatError(data.source, null, `expected ${stats.min.length} features, as in the data the statistics were taken on, found ${n}`);
  }
  const scale = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    const range = stats.max[f] - stats.min[f];
    scale[f] = range > 0 ? 2 / range : 0;
  }
  const x = data.features;
  const out = new Float32Array(x.length);
  for (let row = 0; row < x.length; row += n) {
    for (let f = 0; f < n; f++) {
      out[row + f] = scale[f] === 0 ? 0 : (x[row + f] - stats.min[f]) * scale[f] - 1;
    }
  }
  return { ...data, features: out };
}

/**
 * Per-query min-max scaling to [0, 1], LETOR 4.0's "QueryLevelNorm": within each query, the
 * document with the smallest value of a feature gets 0 and the largest 1; a feature constant
 * within the query becomes 0.
 */
export function normalizePerQuery(data: RankingData): RankingData {
  const n = data.numFeatures;
  const x = data.features;
  const out = new Float32Array(x.length);
  const offsets = data.queryOffsets;
  for (let q = 0; q + 1 < offsets.length; q++) {
    const first = offsets[q] * n;
    const end = offsets[q + 1] * n;
    for (let f = 0; f < n; f++) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = first + f; i < end; i += n) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
      }
      const range = max - min;
      if (!(range > 0)) continue; // constant: stays 0
      for (let i = first + f; i < end; i += n) out[i] = (x[i] - min) / range;
    }
  }
  return { ...data, features: out };
}

/**
 * Drops the queries in which every label is 0: nDCG is undefined for them, so the standard
 * protocol leaves them out of validation and test evaluation.
 */
export function dropQueriesWithoutRelevant(data: RankingData): RankingData {
  const offsets = data.queryOffsets;
  const kept: number[] = [];
  let keptDocs = 0;
  for (let q = 0; q + 1 < offsets.length; q++) {
    for (let d = offsets[q]; d < offsets[q + 1]; d++) {
      if (data.labels[d] > 0) {
        kept.push(q);
        keptDocs += offsets[q + 1] - offsets[q];
        break;
      }
    }
  }
  const n = data.numFeatures;
  const features = new Float32Array(keptDocs * n);
  const labels = new Int32Array(keptDocs);
  const queryOffsets = new Int32Array(kept.length + 1);
  const docIds: string[] | null = data.docIds === null ? null : [];
  let at = 0;
  kept.forEach((q, i) => {
    const start = offsets[q];
    const end = offsets[q + 1];
    features.set(data.features.subarray(start * n, end * n), at * n);
    labels.set(data.labels.subarray(start, end), at);
    docIds?.push(...data.docIds!.slice(start, end));
    at += end - start;
    queryOffsets[i + 1] = at;
  });
  return {
    source: data.source,
    numFeatures: n,
    features,
    labels,
    queryOffsets,
    qids: kept.map((q) => data.qids[q]),
    docIds,
  };
}
