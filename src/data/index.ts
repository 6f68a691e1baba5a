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
export {
  CLICK_LOG_COLUMNS,
  clickLogFromTable,
  clickLogToTable,
  type ClickLogFromTableOptions,
  type ClickLogTableOptions,
  type LoggedClicks,
} from './click-log-table.js';
export {
  ClickLogWriter,
  clickLogFormatOf,
  readClickLog,
  writeClickLog,
  type ClickLogFormat,
  type ClickLogReadOptions,
  type ClickLogWriteOptions,
} from './click-log-io.js';
