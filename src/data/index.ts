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
  type ClickLogColumnMapping,
  type ClickLogFromTableOptions,
  type IdEncoders,
  type ClickLogTableOptions,
  type LoggedClicks,
} from './click-log-table.js';
export {
  ClickLogWriter,
  clickLogFormatOf,
  readClickLog,
  readClickLogOrigin,
  readGenericClickLog,
  writeClickLog,
  type ClickLogFormat,
  type ClickLogReadOptions,
  type GenericClickLogReadOptions,
  type ClickLogWriteOptions,
} from './click-log-io.js';
export { checkLogOrigin, letorOrigin, type LogOrigin } from './log-format.js';
export {
  INTERACTION_LOG_COLUMNS,
  interactionLogFromTable,
  interactionLogToTable,
  type InteractionLogFromTableOptions,
  type InteractionLogTableOptions,
  type LoggedInteractions,
} from './interaction-log-table.js';
export {
  InteractionLogWriter,
  interactionLogFormatOf,
  readInteractionLog,
  writeInteractionLog,
  type InteractionLogFormat,
  type InteractionLogReadOptions,
  type InteractionLogWriteOptions,
} from './interaction-log-io.js';
export { ARROW_MAX_SESSIONS, openClickLogSink, openInteractionLogSink, type LogSink } from './log-sink.js';
export { concatChunks, concatInteractions } from './log-concat.js';
export * from './baidu-ultr.js';
export * from './baidu-ultr-input.js';
export { baiduUltrParquetBatches, readBaiduUltrParquet, type BaiduUltrParquetOptions } from './baidu-ultr-parquet.js';
export { baiduUltrRawBatches, baiduUltrRawFiles, readBaiduUltrRaw } from './baidu-ultr-raw.js';
export { collectBaiduUltrBatches, newVocabularies, type BaiduUltrBatch, type BaiduUltrBatchOptions, type BaiduUltrVocabularies } from './baidu-ultr-sessions.js';
export * from './coat.js';
export * from './convert.js';
export * from './finn-slates.js';
export * from './finn-sequences.js';
export * from './finn-split.js';
export * from './action-dist.js';
export * from './npz.js';
export * from './open-bandit.js';
export * from './replayed-log.js';
export { shippedDataPath } from './shipped.js';
export * from './yandex-relpred.js';
export * from './pyclick-sample.js';
export * from './log-input.js';
export * from './id-vocabulary.js';
export * from './slate-sequences.js';
