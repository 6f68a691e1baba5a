/** Ranking and recommender metrics, off-policy estimators (one registry), intervals and tests. */
export * from './estimators.js';
export * from './metrics.js';
export * from './off-policy.js';
export * from './recommender-metrics.js';
export * from './slate-sequence-metrics.js';
export * from './registry.js';
export * from './reward-model.js';
export * from './slate-estimators.js';
export * from './statistics.js';
export * from './gru-slate-quality.js';
