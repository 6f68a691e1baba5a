import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { parseLetor } from '../../src/data/letor.js';
import { dropQueriesWithoutRelevant, featureStats, normalizeFeatures, normalizePerQuery } from '../../src/data/normalize.js';

// Feature 1 ranges over 0..4 in training, feature 2 is constant 7, feature 3 ranges -1..1.
const train = parseLetor(['0 qid:1 1:0 2:7 3:-1', '1 qid:1 1:4 2:7 3:0', '2 qid:2 1:2 2:7 3:1 #'].join('\n'), 'train.txt');
const test = parseLetor('0 qid:9 1:6 2:3 3:0.5\n1 qid:9 1:-2 2:7 3:-1\n', 'test.txt');

function close(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i], 6);
  });
}

describe('featureStats / normalizeFeatures', () => {
  it('takes min and max per feature', () => {
    const stats = featureStats(train);
    expect(Array.from(stats.min)).toEqual([0, 7, -1]);
    expect(Array.from(stats.max)).toEqual([4, 7, 1]);
  });

  it('maps training data to [-1, 1], constant features to 0', () => {
    const out = normalizeFeatures(train, featureStats(train));
    close(out.features, [-1, 0, -1, 1, 0, 0, 0, 0, 1]);
    expect(out.labels).toBe(train.labels);
    expect(Array.from(train.features.subarray(0, 3))).toEqual([0, 7, -1]); // input untouched
  });

  it('applies training statistics to other splits without clamping', () => {
    const out = normalizeFeatures(test, featureStats(train));
    // feature 1: (6 - 0) / 4 * 2 - 1 = 2 and (-2 - 0) / 4 * 2 - 1 = -2
    close(out.features, [2, 0, 0.5, -2, 0, -1]);
  });

  it('rejects statistics of another width', () => {
    const narrow = parseLetor('0 qid:1 1:1\n', 'narrow.txt');
    expect(() => normalizeFeatures(narrow, featureStats(train))).toThrow(DataFormatError);
  });
});

describe('normalizePerQuery', () => {
  it('min-max scales each feature within each query to [0, 1]', () => {
    const out = normalizePerQuery(train);
    // query 1: feature 1 in {0, 4}, feature 2 constant, feature 3 in {-1, 0}; query 2 has one document.
    close(out.features, [0, 0, 0, 1, 0, 1, 0, 0, 0]);
    const three = parseLetor('0 qid:a 1:2 2:5\n0 qid:a 1:3 2:5\n0 qid:a 1:6 2:5\n', 'q.txt');
    close(normalizePerQuery(three).features, [0, 0, 0.25, 0, 1, 0]);
  });
});

describe('dropQueriesWithoutRelevant', () => {
  it('keeps only queries with a label above 0, with qids and doc ids aligned', () => {
    const data = parseLetor(
      ['0 qid:a 1:1 #docid = a1', '0 qid:a 1:2 #docid = a2', '0 qid:b 1:3 #docid = b1', '2 qid:b 1:4 #docid = b2', '0 qid:c 1:5 #docid = c1', '1 qid:d 1:6 #docid = d1'].join('\n'),
      'd.txt',
    );
    const out = dropQueriesWithoutRelevant(data);
    expect(out.qids).toEqual(['b', 'd']);
    expect(Array.from(out.queryOffsets)).toEqual([0, 2, 3]);
    expect(Array.from(out.labels)).toEqual([0, 2, 1]);
    expect(Array.from(out.features)).toEqual([3, 4, 6]);
    expect(out.docIds).toEqual(['b1', 'b2', 'd1']);
    expect(out.numFeatures).toBe(1);
  });

  it('keeps docIds null', () => {
    expect(dropQueriesWithoutRelevant(train).docIds).toBeNull();
    expect(dropQueriesWithoutRelevant(train).qids).toEqual(['1', '2']);
  });
});
