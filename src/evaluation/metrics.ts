import { ConfigError } from '../core/errors.js';
import type { RankingData } from '../core/types.js';
import { sortedByScore } from '../policies/ranking.js';

/**
 * Ranking metrics against true relevance grades. Every metric has the same shape:
 * `(scores, labels, k)` over one list, where documents are ranked by descending score
 * (equal scores keep list order) and `labels` are integer grades.
 *
 * Gain is 2^y − 1 and the discount 1 / log2(1 + rank) (rank 1-based):
 *   DCG@k  = Σ_{r ≤ k} (2^{y_r} − 1) / log2(1 + r)
 *   nDCG@k = DCG@k / DCG@k of the ideal order (0 when the list has no relevant document).
 * ERR (Chapelle et al. 2009) with R_y = (2^y − 1) / 2^{ymax}:
 *   ERR@k  = Σ_{r ≤ k} (1/r) · R_r · Π_{i < r} (1 − R_i).
 *
 * Example: scores [3, 2, 1], labels [0, 2, 1]: DCG@3 = 0 + 3/log2 3 + 1/2 = 2.393,
 * ideal 3 + 1/log2 3 = 3.631, nDCG@3 = 0.659.
 */
export function dcgAt(labelsInRankOrder: ArrayLike<number>, k: number): number {
  let dcg = 0;
  const n = Math.min(k, labelsInRankOrder.length);
  for (let r = 0; r < n; r++) dcg += (Math.pow(2, labelsInRankOrder[r]) - 1) / Math.log2(r + 2);
  return dcg;
}

export function ndcgAt(scores: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  const ideal = dcgAt(
    Array.from(labels).sort((a, b) => b - a),
    k,
  );
  if (ideal === 0) return 0;
  return dcgAt(inRankOrder(scores, labels), k) / ideal;
}

export function errAt(scores: ArrayLike<number>, labels: ArrayLike<number>, k: number, maxGrade: number): number {
  const ranked = inRankOrder(scores, labels);
  const norm = Math.pow(2, maxGrade);
  let err = 0;
  let notStopped = 1;
  for (let r = 0; r < Math.min(k, ranked.length); r++) {
    const R = (Math.pow(2, ranked[r]) - 1) / norm;
    err += (notStopped * R) / (r + 1);
    notStopped *= 1 - R;
  }
  return err;
}

function inRankOrder(scores: ArrayLike<number>, labels: ArrayLike<number>): number[] {
  return Array.from(sortedByScore(scores, 0, scores.length), (i) => labels[i]);
}

/** A metric by name: `ndcg@K` or `err@K`. */
export interface MetricSpec {
  readonly name: string;
  readonly kind: 'ndcg' | 'err';
  readonly k: number;
}

export function parseMetric(name: string, path = 'metrics'): MetricSpec {
  const match = /^(ndcg|err)@([1-9][0-9]*)$/.exec(name);
  if (!match) throw new ConfigError(path, `expected a metric such as "ndcg@10" or "err@10", found "${name}"`);
  return { name, kind: match[1] as 'ndcg' | 'err', k: Number(match[2]) };
}

/** The metric of every query of `data` under per-document `scores`. */
export function perQueryMetric(data: RankingData, scores: Float32Array, metric: MetricSpec, maxGrade: number): Float64Array {
  const numQueries = data.queryOffsets.length - 1;
  const out = new Float64Array(numQueries);
  for (let q = 0; q < numQueries; q++) {
    const start = data.queryOffsets[q];
    const end = data.queryOffsets[q + 1];
    const s = scores.subarray(start, end);
    const y = data.labels.subarray(start, end);
    out[q] = metric.kind === 'ndcg' ? ndcgAt(s, y, metric.k) : errAt(s, y, metric.k, maxGrade);
  }
  return out;
}
