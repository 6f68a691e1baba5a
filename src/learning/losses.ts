import * as tf from '@tensorflow/tfjs';

/**
 * Losses over lists. Every loss takes `(scores, labels, mask)` shaped [lists, slots]; `mask` is 1
 * for a real document and 0 for padding, and `labels` are non-negative per-document weights
 * (clicks, clicks × inverse propensities, or graded gains).
 */

/** Scores with padded slots pushed to −1e9 so that they take no probability mass in a softmax. */
export function maskScores(scores: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(scores, tf.mul(tf.sub(mask, 1), 1e9)));
}

/**
 * Listwise softmax cross-entropy (ListNet/ULTRA's softmax loss), normalised by the total label
 * mass of the batch:
 *   L = −Σ_lists Σ_k y_k · log softmax(s)_k  /  Σ_lists Σ_k y_k
 * This equals ULTRA's per-list cross-entropy against y / Σ y weighted by Σ y. Lists without any
 * label mass contribute nothing.
 */
export function softmaxCrossEntropy(scores: tf.Tensor2D, labels: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(maskScores(scores, mask));
    const total = tf.maximum(tf.sum(labels), 1e-12);
    return tf.div(tf.neg(tf.sum(tf.mul(labels, logProbabilities))), total) as tf.Scalar;
  });
}

/** Identity whose gradient is zero: weights computed from a model's own outputs stay constants. */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * Listwise softmax cross-entropy normalised by the number of lists rather than the label mass:
 *   L = −Σ_lists Σ_k y_k · log softmax(s)_k  /  #lists.
 * For labels that may be negative (affine and doubly robust corrections), whose sum can be near
 * zero: the loss stays linear in the labels, so an unbiased label gives an unbiased loss.
 */
export function softmaxCrossEntropyPerList(scores: tf.Tensor2D, labels: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(maskScores(scores, mask));
    return tf.div(tf.neg(tf.sum(tf.mul(tf.mul(labels, mask), logProbabilities))), scores.shape[0]) as tf.Scalar;
  });
}

/**
 * Pointwise sigmoid cross-entropy summed over each list's real slots, averaged over lists
 * (ULTRA's `sigmoid_loss_on_list`):
 *   L = Σ_lists Σ_k m_k · (softplus(s_k) − y_k s_k)  /  #lists,
 * which is −y log σ(s) − (1 − y) log(1 − σ(s)) per slot: linear in y and convex in s for any y.
 */
export function sigmoidCrossEntropy(scores: tf.Tensor2D, labels: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(mask, tf.sub(tf.softplus(scores), tf.mul(labels, scores)))), scores.shape[0]) as tf.Scalar);
}
