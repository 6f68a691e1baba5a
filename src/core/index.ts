/** The shared vocabulary: types, seeded random streams, errors, progress, text tables, JSON validation. */
export * from './errors.js';
export * from './progress.js';
export * from './random.js';
export * from './suggest.js';
export * from './text-table.js';
export * from './types.js';
export * from './validate.js';
