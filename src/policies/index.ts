/** Ranking and slate policies that log the probability of what they chose, and the online loop. */
export * from './bandits/index.js';
export * from './online.js';
export * from './ranking.js';
export * from './slate-policy.js';
export * from './interleave.js';
