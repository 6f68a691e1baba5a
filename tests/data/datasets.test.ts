import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { numDocuments, numQueries, type RankingData } from '../../src/core/types.js';
import { datasetCatalogue, loadLetorSplits, loadRankingDataset } from '../../src/data/datasets.js';
import { dropQueriesWithoutRelevant } from '../../src/data/normalize.js';

describe('MQ2008 (shipped)', () => {
  const folds = [1, 2, 3, 4, 5].map((fold) => loadRankingDataset('mq2008', { fold }));

  it('fold 1 has the published sizes', () => {
    const { train, validation, test } = folds[0];
    expect(folds[0].name).toBe('mq2008-fold1');
    expect(numQueries(train)).toBe(471);
    expect(numDocuments(train)).toBe(2933 + 3635 + 3062);
    expect(numQueries(validation)).toBe(157);
    expect(numDocuments(validation)).toBe(2707);
    expect(numQueries(test)).toBe(156);
    expect(numDocuments(test)).toBe(2874);
    for (const data of [train, validation, test]) {
      expect(data.numFeatures).toBe(46);
      expect(data.features.length).toBe(numDocuments(data) * 46);
      expect(new Set(data.labels)).toEqual(new Set([0, 1, 2]));
      expect(data.docIds).not.toBeNull();
      expect(data.docIds!.length).toBe(numDocuments(data));
      expect(data.docIds![0]).toMatch(/^GX\d{3}-\d{2}-\d{7}$/);
      // QueryLevelNorm features are kept as shipped: within [0, 1].
      expect(data.features.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it('has the S1..S5 label counts (fold 1 test is S5)', () => {
    const counts = [0, 0, 0];
    for (const label of folds[0].test.labels) counts[label]++;
    expect(counts).toEqual([2319, 378, 177]);
  });

  it('every fold splits all 784 queries and 15,211 documents into disjoint parts', () => {
    for (const { train, validation, test } of folds) {
      const qids = [train, validation, test].flatMap((data) => data.qids);
      expect(qids.length).toBe(784);
      expect(new Set(qids).size).toBe(784);
      const docs = [train, validation, test].flatMap(queryDocumentPairs);
      expect(docs.length).toBe(15211);
      expect(new Set(docs).size).toBe(15211);
    }
    // Each S file is the test split of exactly one fold.
    expect(new Set(folds.flatMap((fold) => fold.test.qids)).size).toBe(784);
  });

  it('dropQueriesWithoutRelevant leaves 105 of the 156 S5 queries', () => {
    expect(numQueries(dropQueriesWithoutRelevant(folds[0].test))).toBe(105);
  });

  it('rejects a fold outside 1..5 and an unknown name', () => {
    expect(() => loadRankingDataset('mq2008', { fold: 6 })).toThrow(ConfigError);
    expect(() => loadRankingDataset('mq2008', { fold: 0 })).toThrow('expected one of 1, 2, 3, 4, 5, found 0');
    expect(() => loadRankingDataset('yahoo' as 'mq2008', { fold: 1 })).toThrow(ConfigError);
  });
});

/** `qid/docid` of every document. */
function queryDocumentPairs(data: RankingData): string[] {
  const pairs: string[] = [];
  for (let q = 0; q < numQueries(data); q++) {
    for (let d = data.queryOffsets[q]; d < data.queryOffsets[q + 1]; d++) pairs.push(`${data.qids[q]}/${data.docIds![d]}`);
  }
  return pairs;
}

describe('loadLetorSplits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clicklab-splits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  // The test split uses feature 4, which training never mentions.
  const paths = {
    train: write('train.txt', '0 qid:1 1:0 2:10\n1 qid:1 1:4 2:20\n2 qid:2 1:2 2:30\n'),
    validation: write('vali.txt', '0 qid:3 1:8 2:10\n'),
    test: write('test.txt', '1 qid:4 1:1 2:10 4:9\n0 qid:4 1:3 2:20\n'),
  };

  it('normalises per feature with training statistics by default, to one width', () => {
    const splits = loadLetorSplits(paths, 'toy');
    expect(splits.name).toBe('toy');
    for (const data of [splits.train, splits.validation, splits.test]) expect(data.numFeatures).toBe(4);
    expect(Array.from(splits.train.features)).toEqual([-1, -1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(splits.validation.features)).toEqual([3, -1, 0, 0]);
    expect(Array.from(splits.test.features)).toEqual([-0.5, -1, 0, 0, 0.5, 0, 0, 0]);
  });

  it('normalises per query, or not at all', () => {
    const perQuery = loadLetorSplits(paths, 'toy', { normalization: 'per-query' });
    expect(Array.from(perQuery.test.features)).toEqual([0, 0, 0, 1, 1, 1, 0, 0]);
    const none = loadLetorSplits(paths, 'toy', { normalization: 'none' });
    expect(Array.from(none.test.features)).toEqual([1, 10, 0, 9, 3, 20, 0, 0]);
  });

  it('rejects an unknown normalisation', () => {
    expect(() => loadLetorSplits(paths, 'toy', { normalization: 'z-score' as 'none' })).toThrow(ConfigError);
  });
});

describe('datasetCatalogue', () => {
  it('describes the shipped and the large public sets', () => {
    expect(datasetCatalogue.map((d) => d.name)).toEqual(['mq2008', 'MSLR-WEB10K', 'MSLR-WEB30K', 'Yahoo! LTR Set 1', 'Istella-S']);
    expect(datasetCatalogue[0]).toMatchObject({ features: 46, queries: 784 });
  });
});
