export { parseLetor, readLetorFile, readLetorFileSync, readLetorFiles, readLetorFilesSync, type LetorOptions } from './letor.js';
export { dropQueriesWithoutRelevant, featureStats, normalizeFeatures, normalizePerQuery, type FeatureStats } from './normalize.js';
export {
  datasetCatalogue,
  loadLetorSplits,
  loadRankingDataset,
  type DatasetInfo,
  type LetorSplitsOptions,
  type Normalization,
} from './datasets.js';
