import * as tf from '@tensorflow/tfjs';
import { ClickLabError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { silentProgress } from '../core/progress.js';
import type { RandomStream } from '../core/random.js';
import type { BatchSource, ListBatch } from './batches.js';
import type { Scorer } from './model.js';
import type { Objective } from './objectives.js';

export interface TrainOptions {
  readonly steps: number;
  /** Adagrad learning rate (ULTRA's default 0.05). */
  readonly learningRate: number;
  /** Global-norm gradient clipping per variable group (ranker, objective's own); 0 disables. */
  readonly clipNorm: number;
  /** Validate every this many steps (and at the end). */
  readonly evalEvery: number;
  /**
   * Validation score of the current model (higher is better). When given, the weights of the
   * best validation score are restored at the end (ULTRA's best checkpoint).
   */
  readonly validate?: (model: Scorer) => number;
  /**
   * Early stopping: stop after this many validations in a row without a better score than the
   * best so far (the best checkpoint is restored). Needs `validate`; default: never stop early.
   */
  readonly patience?: number;
  readonly rng: RandomStream;
  readonly progress?: Progress;
  readonly label?: string;
}

export interface TrainingHistory {
  /** (step, mean training loss since the previous entry, validation score or null). */
  readonly curve: { step: number; loss: number; validation: number | null }[];
  readonly bestStep: number;
  readonly bestValidation: number | null;
  /** The step training stopped at (fewer than `steps` when it stopped early). */
  readonly stoppedAt: number;
}

/** Minibatch training of `model` under `objective` on batches from `source`, with Adagrad. */
export function train(model: Scorer, objective: Objective, source: BatchSource, options: TrainOptions): TrainingHistory {
  const loop = trainingLoop(model, objective, options);
  try {
    let state = loop.next();
    while (!state.done) state = loop.next(source.next(options.rng));
    return state.value;
  } finally {
    loop.return(undefined as never);
  }
}

/**
 * `train` on batches that arrive asynchronously (a click log streamed from disk through a shuffle
 * buffer, learning/streamed-batches.ts): the same loop, step for step, so the same batches give the same model.
 */
export async function trainFromAsyncSource(model: Scorer, objective: Objective, source: AsyncBatchSource, options: TrainOptions): Promise<TrainingHistory> {
  const loop = trainingLoop(model, objective, options);
  try {
    let state = loop.next();
    while (!state.done) state = loop.next(await source.next(options.rng));
    return state.value;
  } finally {
    loop.return(undefined as never);
  }
}

/** Draws training batches asynchronously (see `BatchSource`). */
export interface AsyncBatchSource {
  readonly listLength: number;
  next(rng: RandomStream): Promise<ListBatch>;
}

/** The training loop, which asks for each step's batch by yielding (so that sync and async sources drive the same code). */
function* trainingLoop(model: Scorer, objective: Objective, options: TrainOptions): Generator<void, TrainingHistory, ListBatch> {
  const { steps, evalEvery, validate } = options;
  const progress = options.progress ?? silentProgress;
  if (tf.getBackend() === 'webgpu') {
    // Checkpoints and validation read tensors synchronously, which WebGPU in Node cannot do.
    throw new ClickLabError('training with validation needs synchronous reads, which the webgpu backend lacks in Node; use --backend tensorflow, wasm or cpu (webgpu serves `clicklab bench-gpu`)');
  }
  const trainingStep = createTrainingStep(model, objective, options);
  const curve: TrainingHistory['curve'] = [];
  let best: { step: number; score: number; weights: Float32Array[] } | null = null;
  let lossSum = 0;
  let lossCount = 0;

  const checkpoint = (step: number) => {
    const score = validate ? validate(model) : null;
    curve.push({ step, loss: lossCount > 0 ? lossSum / lossCount : Number.NaN, validation: score });
    lossSum = 0;
    lossCount = 0;
    if (score !== null && (best === null || score > best.score)) best = { step, score, weights: model.snapshot() };
    return score;
  };

  progress.start(options.label ?? 'training', steps);
  let stoppedAt = steps;
  let sinceBest = 0;
  for (let step = 1; step <= steps; step++) {
    const batch: ListBatch = yield;
    const lossValue = trainingStep.run(batch);
    const loss = lossValue.dataSync()[0];
    lossValue.dispose();
    if (!Number.isFinite(loss)) {
      throw new ClickLabError(`${options.label ?? 'training'}: the loss became ${loss} at step ${step}; lower the learning rate or cap the weights`);
    }
    lossSum += loss;
    lossCount++;
    if (step % evalEvery === 0 || step === steps) {
      const bestBefore = (best as { score: number } | null)?.score ?? -Infinity;
      const score = checkpoint(step);
      progress.update(step, `loss ${curve[curve.length - 1].loss.toFixed(4)}${score === null ? '' : `  valid ${score.toFixed(4)}`}`);
      sinceBest = score !== null && score > bestBefore ? 0 : sinceBest + 1;
      if (options.patience !== undefined && score !== null && sinceBest >= options.patience && step < steps) {
        stoppedAt = step;
        progress.log(`${options.label ?? 'training'}: stopped early at step ${step} (no better validation score in ${options.patience} evaluations)`);
        break;
      }
    } else if (step % 25 === 0) {
      progress.update(step);
    }
  }
  trainingStep.dispose();
  const chosen = best as { step: number; score: number; weights: Float32Array[] } | null;
  if (chosen) model.restore(chosen.weights);
  progress.finish(chosen ? `best valid ${chosen.score.toFixed(4)} at step ${chosen.step}` : undefined);
  return { curve, bestStep: chosen ? chosen.step : stoppedAt, bestValidation: chosen ? chosen.score : null, stoppedAt };
}

/** One optimisation step: forward, gradients, clipping and the Adagrad updates. */
export interface TrainingStep {
  /** Apply one step on `batch`; returns the batch's loss (before the update), for the caller to read and dispose. */
  run(batch: ListBatch): tf.Scalar;
  /** Release the optimizers' accumulators. */
  dispose(): void;
}

/**
 * The step that `train` repeats. It never reads a tensor back, so a loop that reads the loss
 * asynchronously (`await loss.data()`) can drive it on backends without synchronous reads (WebGPU
 * in Node: its dataSync needs OffscreenCanvas).
 */
export function createTrainingStep(model: Scorer, objective: Objective, options: { learningRate: number; clipNorm: number }): TrainingStep {
  // Two variable groups, as ULTRA's DLA: the ranker and the objective's own (e.g. the propensity
  // model), each with its own Adagrad optimizer, learning rate and gradient clipping.
  const groups = [
    { variables: model.variables, optimizer: tf.train.adagrad(options.learningRate) },
    ...(objective.variables.length > 0 ? [{ variables: objective.variables, optimizer: tf.train.adagrad(objective.learningRate ?? options.learningRate) }] : []),
  ];
  const allVariables = groups.flatMap((g) => g.variables);
  return {
    run: (batch) =>
      tf.tidy(() => {
        const { numLists, listLength } = batch;
        const features = tf.tensor2d(batch.features, [batch.numDocuments, model.numFeatures]);
        const labels = tf.tensor2d(batch.labels, [numLists, listLength]);
        const mask = tf.tensor2d(batch.mask, [numLists, listLength]);
        const slots = batch.slotValues && {
          treatment: batch.slotValues.treatment && tf.tensor2d(batch.slotValues.treatment, [numLists, listLength]),
          regression: batch.slotValues.regression && tf.tensor2d(batch.slotValues.regression, [numLists, listLength]),
        };
        const asLists = listLayout(batch);
        const { value, grads } = tf.variableGrads(() => objective.loss(asLists(model.score(features)), labels, mask, slots), allVariables);
        for (const { variables, optimizer } of groups) {
          // applyGradients only reads the map by variable name; its declared type asks for variables.
          optimizer.applyGradients(clipGroup(grads, variables, options.clipNorm) as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        }
        return value;
      }),
    dispose: () => {
      for (const { optimizer } of groups) optimizer.dispose();
    },
  };
}

/**
 * Lay per-document scores out as [lists, slots] (padding slots score 0; the loss masks them).
 * Each document fills exactly one slot, so the gradient is a gather through the inverse index:
 * TF.js's generic gather gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 */
function listLayout(batch: ListBatch): (documentScores: tf.Tensor1D) => tf.Tensor2D {
  const slotRows = tf.tensor1d(batch.slotRows, 'int32');
  const documentSlots = tf.tensor1d(batch.documentSlots, 'int32');
  return tf.customGrad(((documentScores: tf.Tensor1D) => ({
    value: tf.reshape(tf.gather(tf.concat([documentScores, tf.zeros([1])]), slotRows), [batch.numLists, batch.listLength]),
    gradFunc: (dy: tf.Tensor) => tf.gather(tf.reshape(dy, [-1]), documentSlots),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (documentScores: tf.Tensor1D) => tf.Tensor2D;
}

/** The gradients of `variables`, scaled so that their global L2 norm is at most `clipNorm`. */
function clipGroup(grads: tf.NamedTensorMap, variables: tf.Variable[], clipNorm: number): tf.NamedTensorMap {
  const present = variables.filter((v) => grads[v.name] !== undefined);
  if (present.length === 0) return {};
  if (!(clipNorm > 0)) return Object.fromEntries(present.map((v) => [v.name, grads[v.name]]));
  // A chain of adds rather than addN: WebGPU's addN binds every input as a storage buffer, and an
  // MLP with three hidden layers has 8 variables, past the default limit of 8 buffers per stage.
  const norm = tf.sqrt(present.map((v) => tf.sum(tf.square(grads[v.name]))).reduce((sum, term) => tf.add(sum, term)));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  return Object.fromEntries(present.map((v) => [v.name, tf.mul(grads[v.name], scale)]));
}
