/**
 * Bandit and baseline slate policies. Every one implements `SlatePolicy` (../slate-policy.ts):
 * `choose` a slate, `update` from observed clicks, and report `positionPropensities` — exact where
 * there is a closed form (random, greedy, ε-greedy, the UCB policies, Plackett–Luce's first
 * position), Monte Carlo over the policy's own choices otherwise. Build them from JSON with
 * `createPolicy`.
 */
export { sampleBeta, sampleGamma, standardNormal } from './beta.js';
export {
  allObserved,
  cascadeObserved,
  deterministicPropensities,
  type FeedbackSemantics,
  monteCarloPropensities,
  selectTopK,
} from './common.js';
export { BernoulliTS, type BernoulliTSOptions, type BetaPriorOptions } from './bernoulli-ts.js';
export { InSlateTS } from './in-slate-ts.js';
export { PbmPosterior, PbmTS, type PbmTSOptions } from './pbm-ts.js';
export { PbmUCB, type PbmOptions, type PbmUCBOptions } from './pbm-ucb.js';
export { CascadeTS } from './cascade-ts.js';
export { bernoulliKL, CascadeKLUCB, type CascadeKLUCBOptions, klUpperBound } from './cascade-kl-ucb.js';
export { TSCascade, type TSCascadeOptions } from './ts-cascade.js';
export { LIN_TS_MAX_DIM, LinTS, type LinTSFeatures, type LinTSOptions } from './lin-ts.js';
export {
  EpsilonGreedyPolicy,
  type EpsilonGreedyOptions,
  GreedyPolicy,
  type GreedyOptions,
  PlackettLucePolicy,
  type PlackettLuceOptions,
  type PlackettLuceScores,
  UniformRandomPolicy,
} from './baselines.js';
export { createPolicy, POLICY_FEEDBACK, POLICY_TYPES, type PolicyEnvironment, type PolicySpec, type PolicyType } from './factory.js';
