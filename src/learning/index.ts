/** TF.js: backends, scoring models, losses, the click learners and the recommenders. */
export * from './backend.js';
export * from './batches.js';
export * from './click-learners.js';
export * from './click-model-labels.js';
export * from './debiasing.js';
export * from './implicit/feedback.js';
export * from './implicit/losses.js';
export * from './implicit/model.js';
export * from './implicit/nbpo.js';
export * from './implicit/trainer.js';
export * from './logging-ranker.js';
export * from './losses.js';
export * from './model-io.js';
export * from './model.js';
export * from './objectives.js';
export * from './propensity-estimation.js';
export * from './trainer.js';
export { describeAdapter, probeWebGpu, type WebGpuAdapter, type WebGpuProbe } from './webgpu.js';
