import * as tf from '@tensorflow/tfjs';
import type { SlotValues } from './batches.js';
import { softmaxCrossEntropy, stopGradient } from './losses.js';

/**
 * What a learner minimises, given the ranker's scores of a batch ([lists, slots]), the batch's
 * labels (clicks, or graded gains for full-information training) and its padding mask. The loss is
 * built inside the gradient tape; an objective may own variables of its own (DLA's propensity
 * model), which the trainer updates alongside the ranker, each group with its own gradient clipping.
 */
export interface Objective {
  readonly variables: tf.Variable[];
  /** Learning rate of the objective's own variables (default: the ranker's). */
  readonly learningRate?: number;
  /** `slots` holds the batch's per-slot values (`ListBatch.slotValues`) as [lists, slots] tensors. */
  loss(scores: tf.Tensor2D, labels: tf.Tensor2D, mask: tf.Tensor2D, slots?: SlotValues<tf.Tensor2D>): tf.Scalar;
  /** Estimated examination propensities relative to rank 1, for objectives that learn them. */
  learnedPropensities?(): number[];
  dispose(): void;
}

/**
 * Labels taken at face value: full-information training on true gains (skyline, logging ranker),
 * or the naive learner that treats clicks as relevance labels.
 */
export function listwiseObjective(): Objective {
  return {
    variables: [],
    loss: (scores, labels, mask) => softmaxCrossEntropy(scores, labels, mask),
    dispose() {},
  };
}

/**
 * Inverse propensity scoring (Joachims et al. 2017; Wang et al. 2016): each click at rank k is
 * weighted by w_k = p_1 / p_k (relative propensities, so rank 1 keeps weight 1), which makes the
 * expected weighted click equal relevance up to a constant. Clipped IPS caps the weight,
 * w_k = min(p_1 / p_k, M), trading a bias towards the top ranks for lower variance.
 */
export function ipsObjective(relativePropensities: ArrayLike<number>, maxWeight = Infinity): Objective {
  const weights = Float32Array.from(relativePropensities, (p, k) => {
    if (!(p > 0)) throw new RangeError(`propensity at rank ${k + 1} must be > 0, found ${p}`);
    return Math.min(1 / p, maxWeight);
  });
  const weightTensor = tf.keep(tf.tensor1d(weights));
  return {
    variables: [],
    loss(scores, labels, mask) {
      return tf.tidy(() => {
        const listLength = scores.shape[1];
        const w = tf.slice(weightTensor, [0], [listLength]);
        return softmaxCrossEntropy(scores, tf.mul(labels, w), mask);
      });
    },
    dispose: () => weightTensor.dispose(),
  };
}

/**
 * Dual Learning Algorithm (Ai et al., SIGIR 2018). A propensity model (one logit per rank: the
 * paper's position-only examination tower) is learned jointly with the ranker:
 * - ranker loss: softmax cross-entropy of the ranker's scores on clicks weighted by
 *   w_k = P_1 / P_k, where P = softmax(propensity logits) over the list;
 * - examination loss: softmax cross-entropy of the propensity logits on clicks weighted by
 *   r_1 / r_k, where r = softmax(ranker scores) over the list.
 * Each loss treats the other model's weights as constants (stop-gradient), as in the paper.
 * Weights are optionally capped at `maxWeight` (ULTRA's max_propensity_weight), and the
 * propensity model may have its own learning rate (ULTRA's propensity_learning_rate).
 */
export function dlaObjective(maxListLength: number, options: { maxWeight?: number; maxRelevanceWeight?: number; propensityLearningRate?: number } = {}): Objective {
  const maxWeight = options.maxWeight ?? Infinity;
  const maxRelevanceWeight = options.maxRelevanceWeight ?? maxWeight;
  const logits = tf.tidy(() => tf.variable(tf.zeros([maxListLength]), true, undefined));
  // exp of a score difference: capped in log space so that a diverging ranker cannot make Inf × 0.
  const ratioToFirst = (values: tf.Tensor2D, cap: number) => tf.minimum(tf.exp(tf.clipByValue(tf.sub(tf.slice(values, [0, 0], [-1, 1]), values), -30, 30)), cap);
  return {
    variables: [logits],
    learningRate: options.propensityLearningRate,
    loss(scores, clicks, mask) {
      return tf.tidy(() => {
        const listLength = scores.shape[1];
        // [1, slots]: broadcast against every list of the batch.
        const rankLogits = tf.reshape(tf.slice(logits, [0], [listLength]), [1, listLength]) as tf.Tensor2D;
        const propensityWeights = stopGradient(ratioToFirst(rankLogits, maxWeight));
        const relevanceWeights = stopGradient(ratioToFirst(scores, maxRelevanceWeight));
        const rankerLoss = softmaxCrossEntropy(scores, tf.mul(clicks, propensityWeights) as tf.Tensor2D, mask);
        const examinationLoss = softmaxCrossEntropy(rankLogits, tf.mul(tf.mul(clicks, relevanceWeights), mask) as tf.Tensor2D, mask);
        return tf.add(rankerLoss, examinationLoss) as tf.Scalar;
      });
    },
    learnedPropensities() {
      const l = logits.dataSync();
      return Array.from(l, (v) => Math.exp(v - l[0]));
    },
    dispose: () => logits.dispose(),
  };
}
