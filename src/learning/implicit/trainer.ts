import * as tf from '@tensorflow/tfjs';
import { ClickLabError, ConfigError } from '../../core/errors.js';
import { silentProgress } from '../../core/progress.js';
import type { RandomStream } from '../../core/random.js';
import { clickedMatrix, type ExposurePropensity, type ImplicitFeedback } from './feedback.js';
import { pairWeights, weightedSquareLoss, type ImplicitLossSpec } from './losses.js';
import { MatrixFactorization, type ValidatedTraining } from './model.js';

/**
 * Training of matrix factorisation on implicit feedback, as the Rel-MF authors' `pointwise_trainer`:
 * every step draws B/2 clicked pairs and B/2 unlabeled (unclicked) pairs, each uniformly with
 * replacement, and takes one Adam step on
 *     L = Σ_j [a_j (1 − ŷ_j)² + b_j ŷ_j²] / N  +  λ (½‖U‖² + ½‖V‖²)
 * (the learner's weights a, b, N: losses.ts; the L2 term is tf.nn.l2_loss of both whole embedding
 * matrices, as in their code). Unlabeled pairs are drawn by rejection from all users × items: the
 * same law as their explicit list of unclicked pairs, without materialising it.
 *
 * Defaults are the authors': d = 30 (their tuned WMF), Adam η = 0.005, λ = 10⁻⁴ (config.yaml),
 * B = 2^12 and at most 1000 steps (pointwise_trainer), a look at the metrics every 25 steps.
 * Here that look is a validation score; the best step's weights are kept and training stops after
 * `patience` looks without improvement.
 */
export interface ImplicitTrainOptions extends ValidatedTraining {
  readonly loss: ImplicitLossSpec;
  /** θ of every pair (Rel-MF only). */
  readonly propensity?: ExposurePropensity;
  readonly dimension?: number;
  readonly learningRate?: number;
  readonly l2?: number;
  readonly batchSize?: number;
  readonly maxSteps?: number;
}

export interface ImplicitTrainResult {
  readonly model: MatrixFactorization;
  /** (step, mean training loss since the previous look, validation score or null). */
  readonly curve: { step: number; loss: number; validation: number | null }[];
  readonly bestStep: number;
  readonly bestValidation: number | null;
  readonly stepsRun: number;
}

export const IMPLICIT_TRAIN_DEFAULTS = Object.freeze({ dimension: 30, learningRate: 0.005, l2: 1e-4, batchSize: 4096, maxSteps: 1000, evalEvery: 25, patience: 6 });

export function trainImplicit(feedback: ImplicitFeedback, options: ImplicitTrainOptions): ImplicitTrainResult {
  const o = { ...IMPLICIT_TRAIN_DEFAULTS, ...definedOnly(options), loss: options.loss };
  for (const key of ['dimension', 'batchSize', 'maxSteps', 'evalEvery'] as const) {
    if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new ConfigError(`train.${key}`, `expected an integer ≥ 1, found ${o[key]}`);
  }
  if (!(Number.isInteger(o.patience) && o.patience >= 0)) throw new ConfigError('train.patience', `expected an integer ≥ 0, found ${o.patience}`);
  if (!(o.learningRate > 0)) throw new ConfigError('train.learningRate', `expected a number > 0, found ${o.learningRate}`);
  if (!(o.l2 >= 0)) throw new ConfigError('train.l2', `expected a number ≥ 0, found ${o.l2}`);
  if (o.loss.learner === 'relmf' && !options.propensity) throw new ConfigError('train.propensity', 'Rel-MF needs exposure propensities θ (given or estimated)');
  const progress = options.progress ?? silentProgress;
  const sampler = new PairSampler(feedback, options.propensity, o.batchSize);
  const model = MatrixFactorization.create(feedback.numUsers, feedback.numItems, o.dimension, options.rng.derive('init'));
  const optimizer = tf.train.adam(o.learningRate);
  const batchRng = options.rng.derive('batches');
  const curve: ImplicitTrainResult['curve'] = [];
  let best: { step: number; score: number; weights: [Float32Array, Float32Array] } | null = null;
  let looksSinceBest = 0;
  let lossSum = 0;
  let lossCount = 0;
  let step = 0;

  progress.start(options.label ?? o.loss.learner, o.maxSteps);
  try {
    while (step < o.maxSteps) {
      step++;
      const batch = sampler.next(batchRng);
      const weights = pairWeights(o.loss, batch.click, batch.propensity);
      const lossValue = tf.tidy(() => {
        const users = tf.tensor1d(batch.user, 'int32');
        const items = tf.tensor1d(batch.item, 'int32');
        const positive = tf.tensor1d(weights.positive);
        const negative = tf.tensor1d(weights.negative);
        const { value, grads } = tf.variableGrads(() => {
          const fit = weightedSquareLoss(model.logits(users, items), positive, negative, weights.normaliser);
          // λ · (½‖U‖² + ½‖V‖²): tf.nn.l2_loss of each matrix.
          const penalty = tf.mul(0.5 * o.l2, tf.add(tf.sum(tf.square(model.userEmbedding)), tf.sum(tf.square(model.itemEmbedding))));
          return tf.add(fit, penalty) as tf.Scalar;
        }, model.variables);
        // applyGradients only reads the map by variable name; its declared type asks for variables.
        optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      });
      const loss = lossValue.dataSync()[0];
      lossValue.dispose();
      if (!Number.isFinite(loss)) throw new ClickLabError(`${options.label ?? o.loss.learner}: the loss became ${loss} at step ${step}; lower the learning rate or clip θ`);
      lossSum += loss;
      lossCount++;
      if (step % o.evalEvery !== 0 && step !== o.maxSteps) continue;
      const score = options.validate ? options.validate(model.factors()) : null;
      curve.push({ step, loss: lossSum / lossCount, validation: score });
      lossSum = 0;
      lossCount = 0;
      progress.update(step, `loss ${curve[curve.length - 1].loss.toFixed(4)}${score === null ? '' : `  valid ${score.toFixed(4)}`}`);
      if (score === null) continue;
      if (best === null || score > best.score) {
        best = { step, score, weights: model.snapshot() };
        looksSinceBest = 0;
      } else if (o.patience > 0 && ++looksSinceBest >= o.patience) {
        break;
      }
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  const chosen = best as { step: number; score: number; weights: [Float32Array, Float32Array] } | null;
  if (chosen) model.restore(chosen.weights);
  progress.finish(chosen ? `best valid ${chosen.score.toFixed(4)} at step ${chosen.step} of ${step}` : undefined);
  return { model, curve, bestStep: chosen ? chosen.step : step, bestValidation: chosen ? chosen.score : null, stepsRun: step };
}

/** A training batch: B/2 clicked pairs, then B/2 unlabeled pairs, with their θ (1 when none given). */
export interface PairBatch {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly click: Float32Array;
  readonly propensity: Float32Array;
}

/** Draws Rel-MF's balanced batches (see trainImplicit). */
export class PairSampler {
  private readonly clicked: Uint8Array;
  private readonly batch: PairBatch;

  constructor(
    private readonly feedback: ImplicitFeedback,
    private readonly propensity: ExposurePropensity | undefined,
    batchSize: number,
  ) {
    this.clicked = clickedMatrix(feedback);
    if (feedback.user.length === 0) throw new ConfigError('feedback', 'expected at least one click to train on, found none');
    if (feedback.user.length === feedback.numUsers * feedback.numItems) throw new ConfigError('feedback', 'every pair is clicked: no unlabeled pair to train on');
    if (batchSize < 2 || batchSize % 2 !== 0) throw new ConfigError('train.batchSize', `expected an even integer ≥ 2 (half clicked, half unlabeled), found ${batchSize}`);
    this.batch = { user: new Int32Array(batchSize), item: new Int32Array(batchSize), click: new Float32Array(batchSize), propensity: new Float32Array(batchSize) };
  }

  /** Fills and returns the (reused) batch. */
  next(rng: RandomStream): PairBatch {
    const { user, item, click, propensity } = this.batch;
    const { numUsers, numItems } = this.feedback;
    const half = user.length / 2;
    const positives = this.feedback.user.length;
    for (let j = 0; j < half; j++) {
      const k = rng.int(positives);
      user[j] = this.feedback.user[k];
      item[j] = this.feedback.item[k];
      click[j] = 1;
    }
    for (let j = half; j < user.length; j++) {
      let u: number;
      let i: number;
      do {
        u = rng.int(numUsers);
        i = rng.int(numItems);
      } while (this.clicked[u * numItems + i]);
      user[j] = u;
      item[j] = i;
      click[j] = 0;
    }
    for (let j = 0; j < user.length; j++) propensity[j] = this.propensity ? this.propensity.at(user[j], item[j]) : 1;
    return this.batch;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
