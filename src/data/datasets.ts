/**
 * The data-set catalogue: MQ2008 ships with clicklab (datasets/mq2008, gzip), the large public
 * LETOR-format sets load from wherever the user put them.
 */
import { ConfigError } from '../core/errors.js';
import type { RankingData, RankingSplits } from '../core/types.js';
import { readLetorFilesSync } from './letor.js';
import { featureStats, normalizeFeatures, normalizePerQuery } from './normalize.js';
import { shippedDataPath } from './shipped.js';

export interface DatasetInfo {
  readonly name: string;
  readonly description: string;
  readonly howToGet: string;
  readonly features: number;
  readonly queries: number;
}

export const datasetCatalogue: readonly DatasetInfo[] = [
  {
    name: 'mq2008',
    description: 'LETOR 4.0 MQ2008 (TREC 2008 Million Query track on Gov2): 15,211 documents, labels 0-2, five folds of S1-S5.',
    howToGet: "Shipped in datasets/mq2008 (see its PROVENANCE.md); load with loadRankingDataset('mq2008', { fold }).",
    features: 46,
    queries: 784,
  },
  {
    name: 'MSLR-WEB10K',
    description: 'Microsoft Learning to Rank, 10,000 Bing queries, about 1.2M documents, labels 0-4, five folds.',
    howToGet: 'Published by Microsoft Research (the "Microsoft Learning to Rank Datasets" / LETOR pages); download, then loadLetorSplits with the paths of FoldN/train.txt, vali.txt, test.txt.',
    features: 136,
    queries: 10_000,
  },
  {
    name: 'MSLR-WEB30K',
    description: 'Microsoft Learning to Rank, 30,000 Bing queries, about 3.77M documents, labels 0-4, five folds.',
    howToGet: 'Published by Microsoft Research (the "Microsoft Learning to Rank Datasets" / LETOR pages); download, then loadLetorSplits with the paths of FoldN/train.txt, vali.txt, test.txt.',
    features: 136,
    queries: 31_531,
  },
  {
    name: 'Yahoo! LTR Set 1',
    description: 'Yahoo! Learning to Rank Challenge (2010), set 1: about 710k documents, sparse features (indices up to 700), labels 0-4, one train/validation/test split.',
    howToGet: 'Published on Yahoo Webscope (Learning to Rank Challenge data, after accepting its terms); load with loadLetorSplits from the paths of its train/valid/test files.',
    features: 700,
    queries: 29_921,
  },
  {
    name: 'Istella-S',
    description: 'Istella-S LETOR set (a sample of the full Istella set): about 3.4M documents, labels 0-4, one train/validation/test split.',
    howToGet: 'Published by istella.ai (the Istella LETOR data sets, after accepting its license); load with loadLetorSplits from the paths of its train/vali/test files.',
    features: 220,
    queries: 33_018,
  },
];

/** LETOR's MQ2008 folds: training is three S files joined in this order (datasets/mq2008/PROVENANCE.md). */
const MQ2008_FOLDS: Record<number, { train: string[]; validation: string; test: string }> = {
  1: { train: ['S1', 'S2', 'S3'], validation: 'S4', test: 'S5' },
  2: { train: ['S2', 'S3', 'S4'], validation: 'S5', test: 'S1' },
  3: { train: ['S3', 'S4', 'S5'], validation: 'S1', test: 'S2' },
  4: { train: ['S4', 'S5', 'S1'], validation: 'S2', test: 'S3' },
  5: { train: ['S5', 'S1', 'S2'], validation: 'S3', test: 'S4' },
};

/**
 * Loads a shipped data set. MQ2008's files are LETOR's QueryLevelNorm version (features already
 * min-max normalised to [0, 1] within each query), so they are used as they are.
 */
export function loadRankingDataset(name: 'mq2008', options: { fold: number }): RankingSplits {
  if (name !== 'mq2008') {
    throw new ConfigError('dataset.name', `expected 'mq2008' (the shipped data set; other sets load with loadLetorSplits), found '${name}'`);
  }
  const fold = MQ2008_FOLDS[options.fold];
  if (fold === undefined) {
    throw new ConfigError('dataset.fold', `expected one of 1, 2, 3, 4, 5, found ${JSON.stringify(options.fold)}`);
  }
  const path = (part: string) => shippedDataPath(`mq2008/${part}.txt.gz`);
  const read = (parts: string[], split: string) => readLetorFilesSync(parts.map(path), `mq2008 fold ${options.fold} ${split} (${parts.join('+')})`, { numFeatures: 46 });
  return {
    name: `mq2008-fold${options.fold}`,
    train: read(fold.train, 'train'),
    validation: read([fold.validation], 'validation'),
    test: read([fold.test], 'test'),
  };
}

export type Normalization = 'per-feature' | 'per-query' | 'none';

export interface LetorSplitsOptions {
  /**
   * 'per-feature' (the default, as ULTRA does): each feature to [−1, 1] with the training split's
   * min and max, applied to all three splits. 'per-query': min-max to [0, 1] within each query.
   * 'none': as in the files (for sets that are normalised already).
   */
  readonly normalization?: Normalization;
  /** Passed to the reader; without it, the largest feature index in any of the three splits. */
  readonly numFeatures?: number;
}

/** Loads a LETOR-format set (MSLR-WEB10K/30K, Yahoo!, Istella, ...) from its three files (plain or gzip). */
export function loadLetorSplits(paths: { readonly train: string; readonly validation: string; readonly test: string }, name: string, options: LetorSplitsOptions = {}): RankingSplits {
  const normalization = options.normalization ?? 'per-feature';
  if (!['per-feature', 'per-query', 'none'].includes(normalization)) {
    throw new ConfigError('dataset.normalization', `expected 'per-feature', 'per-query' or 'none', found '${normalization}'`);
  }
  const read = (path: string) => readLetorFilesSync([path], path, { numFeatures: options.numFeatures });
  let train = read(paths.train);
  let validation = read(paths.validation);
  let test = read(paths.test);
  // Sparse sets (Yahoo!) may not use the highest feature index in every split.
  const width = Math.max(train.numFeatures, validation.numFeatures, test.numFeatures);
  [train, validation, test] = [train, validation, test].map((data) => widen(data, width));
  if (normalization === 'per-feature') {
    const stats = featureStats(train);
    [train, validation, test] = [train, validation, test].map((data) => normalizeFeatures(data, stats));
  } else if (normalization === 'per-query') {
    [train, validation, test] = [train, validation, test].map(normalizePerQuery);
  }
  return { name, train, validation, test };
}

/** The same data with `width` features, the missing ones 0 (as absent SVMlight features are). */
function widen(data: RankingData, width: number): RankingData {
  const n = data.numFeatures;
  if (n === width) return data;
  const features = new Float32Array(data.labels.length * width);
  for (let row = 0; row < data.labels.length; row++) {
    features.set(data.features.subarray(row * n, (row + 1) * n), row * width);
  }
  return { ...data, numFeatures: width, features };
}
