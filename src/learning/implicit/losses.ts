import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import { NBPO_LEARNERS } from './nbpo.js';

/**
 * Pointwise losses for implicit feedback. Every learner is one choice of per-pair weights in
 *     L = Σ_j [ a_j · (1 − ŷ_j)² + b_j · ŷ_j² ] / N,
 * ŷ_j = σ(u·v) the predicted probability of the pair, a_j the weight on "relevant", b_j the weight
 * on "not relevant" and N a normaliser. The weights depend on the data only, never on the model, so
 * they are computed in JS per batch (`pairWeights`) and the tensor loss is shared
 * (`weightedSquareLoss`); the learners therefore cost the same per step.
 *
 * - mf (naive pointwise): every unclicked pair is a negative. a = Y, b = 1 − Y, N = n.
 * - wmf (Hu, Koren & Volinsky, ICDM 2008): confidence c = 1 + αY on the squared error of the
 *   preference p = Y: a = cY, b = c(1 − Y), N = Σ c. (Rel-MF's code gives unlabeled pairs weight
 *   w and positives 1 with N = Σ(Y + w(1 − Y)); that is the same loss with w = 1 / (1 + α).)
 * - relmf (Saito et al., WSDM 2020, Eq. 9 of the paper, `PointwiseRecommender` of the authors'
 *   code): the unbiased estimator of the ideal loss Σ R(1 − ŷ)² + (1 − R)ŷ² from clicks
 *   Y = O·R with exposure propensity θ:  a = Y/θ', b = 1 − Y/θ', N = n, θ' = max(θ, M) (M = 0: unclipped).
 *   E_O[Y/θ] = R, so E_O[L] equals the ideal loss; b can be negative (a clicked pair with θ < 1).
 */
/** Every recommender learner: the pointwise ones here, and NBPO, NBPOo and BPO (nbpo.ts). */
export const IMPLICIT_LEARNERS = ['mf', 'wmf', 'relmf', ...NBPO_LEARNERS] as const;
export type ImplicitLearner = (typeof IMPLICIT_LEARNERS)[number];

/** A pointwise learner and its loss parameters. */
export type ImplicitLossSpec =
  | { readonly learner: 'mf' }
  /** α ≥ 0: extra confidence on clicked pairs (c = 1 + α). */
  | { readonly learner: 'wmf'; readonly confidence: number }
  /** clip M ∈ [0, 1]: θ' = max(θ, M); 0 leaves θ unclipped. */
  | { readonly learner: 'relmf'; readonly clip: number };

export interface PairWeights {
  readonly positive: Float32Array;
  readonly negative: Float32Array;
  readonly normaliser: number;
}

/**
 * The weights (a, b, N) of a batch of pairs with clicks Y and exposure propensities θ (read only by
 * relmf; pass anything for the others).
 */
export function pairWeights(spec: ImplicitLossSpec, clicks: ArrayLike<number>, propensity: ArrayLike<number>): PairWeights {
  const n = clicks.length;
  const positive = new Float32Array(n);
  const negative = new Float32Array(n);
  let normaliser = 0;
  switch (spec.learner) {
    case 'mf':
      for (let j = 0; j < n; j++) {
        positive[j] = clicks[j];
        negative[j] = 1 - clicks[j];
      }
      normaliser = n;
      break;
    case 'wmf':
      for (let j = 0; j < n; j++) {
        const c = 1 + spec.confidence * clicks[j];
        positive[j] = c * clicks[j];
        negative[j] = c * (1 - clicks[j]);
        normaliser += c;
      }
      break;
    case 'relmf':
      for (let j = 0; j < n; j++) {
        // Y/θ' with Y = 0 is 0 even where θ' = 0 (an item nobody clicked, unclipped).
        const theta = Math.max(propensity[j], spec.clip);
        const ratio = clicks[j] > 0 ? clicks[j] / theta : 0;
        if (!Number.isFinite(ratio)) throw new ConfigError('relmf.propensity', `expected θ > 0 on a clicked pair, found ${propensity[j]} (clip M = ${spec.clip}): use --clip > 0`);
        positive[j] = ratio;
        negative[j] = 1 - ratio;
      }
      normaliser = n;
      break;
  }
  return { positive, negative, normaliser };
}

/** L = Σ_j [a_j (1 − ŷ_j)² + b_j ŷ_j²] / N, with ŷ = σ(logits). */
export function weightedSquareLoss(logits: tf.Tensor1D, positive: tf.Tensor1D, negative: tf.Tensor1D, normaliser: number): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const miss = tf.mul(positive, tf.square(tf.sub(1, p)));
    const falseAlarm = tf.mul(negative, tf.square(p));
    return tf.div(tf.sum(tf.add(miss, falseAlarm)), normaliser) as tf.Scalar;
  });
}

/**
 * The ideal loss of the Rel-MF paper for known relevance R (what the estimator is unbiased for):
 * Σ_j [R_j (1 − ŷ_j)² + (1 − R_j) ŷ_j²] / n. Plain JS, for checks against the truth.
 */
export function idealPointwiseLoss(relevance: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let total = 0;
  for (let j = 0; j < relevance.length; j++) total += relevance[j] * (1 - predicted[j]) ** 2 + (1 - relevance[j]) * predicted[j] ** 2;
  return total / relevance.length;
}
