import { describe, expect, it } from 'vitest';
import { dcgAt, errAt, ndcgAt, parseMetric, perQueryMetric } from '../../src/evaluation/metrics.js';
import type { RankingData } from '../../src/core/types.js';

describe('ranking metrics against hand-computed values', () => {
  it('DCG uses gain 2^y − 1 and discount 1/log2(1 + rank)', () => {
    // (3)/1 + (1)/log2(3) + 0 + 7/log2(5)
    expect(dcgAt([2, 1, 0, 3], 4)).toBeCloseTo(3 + 1 / Math.log2(3) + 7 / Math.log2(5), 12);
    expect(dcgAt([2, 1, 0, 3], 2)).toBeCloseTo(3 + 1 / Math.log2(3), 12);
  });

  it('nDCG ranks by descending score and divides by the ideal DCG', () => {
    // ranked labels [0, 2, 1]: DCG = 3/log2 3 + 1/2; ideal [2, 1, 0]: 3 + 1/log2 3
    const expected = (3 / Math.log2(3) + 0.5) / (3 + 1 / Math.log2(3));
    expect(ndcgAt([3, 2, 1], [0, 2, 1], 3)).toBeCloseTo(expected, 12);
    expect(ndcgAt([3, 2, 1], [0, 2, 1], 3)).toBeCloseTo(0.659, 4);
    expect(ndcgAt([1, 2, 3], [0, 1, 2], 3)).toBeCloseTo(1, 12);
    // at k = 1 only the top document counts: label 0 on top gives 0
    expect(ndcgAt([3, 2, 1], [0, 2, 1], 1)).toBe(0);
  });

  it('nDCG is 0 for a list without relevant documents, and ties keep list order', () => {
    expect(ndcgAt([1, 2], [0, 0], 10)).toBe(0);
    // equal scores: the first document stays on top
    expect(ndcgAt([0, 0], [0, 1], 1)).toBe(0);
    expect(ndcgAt([0, 0], [1, 0], 1)).toBe(1);
  });

  it('ERR follows the cascade formula with R = (2^y − 1)/2^ymax', () => {
    // ymax = 2: R(2) = 3/4, R(1) = 1/4. Ranked [1, 2]: 1/4 + (3/4)(3/4)/2
    expect(errAt([2, 1], [1, 2], 10, 2)).toBeCloseTo(0.25 + (0.75 * 0.75) / 2, 12);
    expect(errAt([2, 1], [2, 1], 1, 2)).toBeCloseTo(0.75, 12);
    expect(errAt([1, 2], [0, 0], 10, 2)).toBe(0);
  });

  it('computes per-query values over a RankingData and parses metric names', () => {
    const data: RankingData = {
      source: 'inline',
      numFeatures: 1,
      features: new Float32Array(5),
      labels: Int32Array.from([0, 2, 1, 1, 0]),
      queryOffsets: Int32Array.from([0, 3, 5]),
      qids: ['a', 'b'],
      docIds: null,
    };
    const scores = Float32Array.from([3, 2, 1, 0, 1]);
    const values = perQueryMetric(data, scores, parseMetric('ndcg@3'), 2);
    expect(values[0]).toBeCloseTo(0.659, 3);
    expect(values[1]).toBeCloseTo(1 / Math.log2(3), 12);
    expect(() => parseMetric('ndcg10')).toThrow(/expected a metric such as "ndcg@10"/);
    expect(parseMetric('err@10')).toEqual({ name: 'err@10', kind: 'err', k: 10 });
  });
});
