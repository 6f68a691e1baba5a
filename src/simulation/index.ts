/** Worlds and click models, and the simulators that turn them into logs. */
export * from './bandit-world.js';
export * from './click-model.js';
export * from './click-models/index.js';
export * from './examination.js';
export * from './recommender/index.js';
export * from './recommender/simulate-log.js';
export * from './relevance.js';
export { fileOrderLists, SESSIONS_PER_CHUNK, simulateSearchLog, type SearchLogSpec, type SimulateSearchOptions } from './search-log/simulate.js';
export * from './sessions.js';
export * from './slate-world.js';
export * from './slates/gru-slate-world.js';
