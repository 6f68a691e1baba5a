/** Recommender worlds with exposure bias (missing-not-at-random implicit feedback). */
export {
  RecommenderWorld,
  type RecommenderWorldParams,
  type RecommenderWorldSpec,
  type TopItems,
} from './world.js';
export { ExposureModel, PopularityExposure, type PopularityExposureParams, type PopularityExposureSpec } from './exposure.js';
export {
  simulateInteractions,
  truePreference,
  uniformTestSet,
  type InteractionLog,
  type InteractionTruth,
  type SimulateInteractionsOptions,
  type UniformTestSet,
  type UniformTestSetOptions,
} from './interactions.js';
