/**
 * The studies as library functions (what `clicklab run` runs for one seed of a cell, and the
 * commands run directly), and the `StudyKind` interface a new kind implements. The kinds a
 * scenario can name are registered in ./registry.ts.
 */
export * from './bandit/run.js';
export * from './fitting/run.js';
export * from './ope/estimator-comparison.js';
export * from './ope/open-bandit-protocol.js';
export * from './recommender/comparison.js';
export * from './slates/run.js';
export * from './slates/train.js';
export type { CellOutcomes, ChartRequest, SeedContext, SeedOutcome, StudyKind, TableRequest } from './study-kind.js';
export * from './ultr/prepare-data.js';
export * from './ultr/run.js';
export * from './ultr/scenario.js';
export * from './ultr/train-model.js';
