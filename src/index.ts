/** clicklab's public API, assembled in one place from the folder indexes (README "Using it as a library"). */
export * from './core/index.js';
export * from './data/index.js';
export * from './simulation/index.js';
export * from './fitting/index.js';
export * from './policies/index.js';
export * from './learning/index.js';
export * from './evaluation/index.js';
export * from './studies/index.js';
export * from './runner/index.js';
