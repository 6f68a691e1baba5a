import * as tf from '@tensorflow/tfjs';
import type { ClickLog } from '../core/types.js';
import { sigmoidCrossEntropy, softmaxCrossEntropyPerList, stopGradient } from './losses.js';
import type { Objective } from './objectives.js';

/**
 * Debiasing objectives beyond IPS and DLA. Click batches lay slot k out at displayed rank k, so
 * per-rank parameters broadcast as [1, slots] rows.
 */

/** A per-rank array as a [1, listLength] row; ranks past its end reuse its last value. */
function rankRow(values: ArrayLike<number>, listLength: number): tf.Tensor2D {
  return tf.tensor2d(
    Float32Array.from({ length: listLength }, (_, k) => values[Math.min(k, values.length - 1)]),
    [1, listLength],
  );
}

function checkAffine(alpha: ArrayLike<number>, beta: ArrayLike<number>): void {
  if (alpha.length === 0 || alpha.length !== beta.length) throw new RangeError(`alpha and beta need one value per rank (found ${alpha.length} and ${beta.length})`);
  for (let k = 0; k < alpha.length; k++) {
    if (!(alpha[k] > 0)) throw new RangeError(`alpha at rank ${k + 1} must be > 0, found ${alpha[k]}`);
    if (!(beta[k] >= 0)) throw new RangeError(`beta at rank ${k + 1} must be ≥ 0, found ${beta[k]}`);
  }
}

/**
 * Regression EM (Wang et al., WSDM 2018), with the neural ranker as the relevance model as in
 * ULTRA's `regression_EM.py`, and online EM over batches (Cappé & Moulines 2009). Under the PBM
 * P(C = 1) = θ_k γ_d with γ_d = σ(s_d):
 * - E-step, for an unclicked slot at rank k:
 *     P(E = 1, R = 0 | C = 0) = θ_k (1 − γ) / (1 − θ_k γ),   P(E = 0, R = 1 | C = 0) = (1 − θ_k) γ / (1 − θ_k γ);
 * - M-step for θ: θ_k ← (1 − η) θ_k + η · mean_lists[c + (1 − c) P(E = 1, R = 0 | C = 0)];
 * - M-step for γ: sigmoid cross-entropy of s against P(R = 1 | c) = c + (1 − c) P(E = 0, R = 1 | C = 0).
 * ULTRA fits the ranker to Bernoulli samples of P(R = 1 | c) (the paper's regression trees need
 * binary labels); the cross-entropy is linear in the label, so fitting the probability itself is
 * that loss's expectation: the same gradient in expectation, without the sampling noise.
 * Needs all sessions (`clickBatches(..., { allSessions: true })`): θ is an examination
 * probability, which sessions with a click overstate. θ starts at 0.9 as in ULTRA.
 */
export function regressionEmObjective(maxListLength: number, options: { stepSize?: number; initialPropensity?: number } = {}): Objective {
  const stepSize = options.stepSize ?? 0.05;
  const theta = tf.tidy(() => tf.variable(tf.fill([maxListLength], options.initialPropensity ?? 0.9), false));
  return {
    variables: [],
    loss(scores, clicks, mask) {
      return tf.tidy(() => {
        const listLength = scores.shape[1];
        const t = tf.reshape(tf.slice(theta, [0], [listLength]), [1, listLength]);
        const gamma = stopGradient(tf.sigmoid(scores));
        const denominator = tf.maximum(tf.sub(1, tf.mul(t, gamma)), 1e-6);
        const examinedNotRelevant = tf.div(tf.mul(t, tf.sub(1, gamma)), denominator);
        const relevantNotExamined = tf.div(tf.mul(tf.sub(1, t), gamma), denominator);
        const unclicked = tf.sub(1, clicks);
        const relevance = tf.add(clicks, tf.mul(unclicked, relevantNotExamined)) as tf.Tensor2D;
        // M-step for θ, over the lists that reach each rank; ranks no list reaches keep their value.
        const reached = tf.sum(mask, 0);
        const examined = tf.div(tf.sum(tf.mul(mask, tf.add(clicks, tf.mul(unclicked, examinedNotRelevant))), 0), tf.maximum(reached, 1));
        const current = tf.reshape(t, [listLength]);
        const updated = tf.where(tf.greater(reached, 0), tf.add(tf.mul(1 - stepSize, current), tf.mul(stepSize, examined)), current);
        theta.assign(listLength < maxListLength ? tf.concat([updated, tf.slice(theta, [listLength], [maxListLength - listLength])]) : updated);
        return sigmoidCrossEntropy(scores, relevance, mask);
      });
    },
    learnedPropensities() {
      const t = theta.dataSync();
      return Array.from(t, (v) => v / t[0]);
    },
    dispose: () => theta.dispose(),
  };
}

/**
 * Pairwise debiasing, the neural form of Unbiased LambdaMART (Hu et al., WWW 2019; ULTRA's
 * `pairwise_debias.py`): the click bias of a clicked document at rank i, t⁺_i, and of an unclicked
 * one at rank j, t⁻_j, divide the pairwise logistic loss of every (clicked i, unclicked j) pair:
 *   L = Σ_{i,j} L_ij / (t⁺_i t⁻_j),   L_ij = Σ_lists c_i (1 − c_j) log(1 + e^{−(s_i − s_j)}),
 * and are re-estimated from the same pair losses (the paper's closed form, normalised at rank 1,
 * with regularisation p), smoothed over batches with step η:
 *   t⁺_i ∝ (Σ_j L_ij / t⁻_j)^{1/(p+1)},   t⁻_j ∝ (Σ_i L_ij / t⁺_i)^{1/(p+1)},   t⁺_1 = t⁻_1 = 1.
 * The sums run over all j (resp. i), as in the paper (ULTRA_pytorch assigns instead of adding, and
 * so keeps only the last term). A rank with no pair in a batch keeps its value. Defaults are
 * ULTRA's: η = 0.05, p = 1. Hu et al. also weight pairs by |ΔNDCG| (LambdaMART); ULTRA's neural
 * version, followed here, does not.
 */
export function pairwiseDebiasObjective(maxListLength: number, options: { stepSize?: number; regularization?: number } = {}): Objective {
  const stepSize = options.stepSize ?? 0.05;
  const exponent = 1 / ((options.regularization ?? 1) + 1);
  const [tPlus, tMinus] = tf.tidy(() => [tf.variable(tf.ones([maxListLength]), false), tf.variable(tf.ones([maxListLength]), false)]);
  const update = (t: tf.Variable, evidence: tf.Tensor1D, listLength: number) => {
    const current = tf.slice(t, [0], [listLength]);
    const ratio = tf.pow(tf.div(evidence, tf.maximum(tf.slice(evidence, [0], [1]), 1e-30)), exponent);
    const usable = tf.logicalAnd(tf.greater(evidence, 0), tf.greater(tf.slice(evidence, [0], [1]), 0));
    const next = tf.where(usable, tf.add(tf.mul(1 - stepSize, current), tf.mul(stepSize, ratio)), current);
    t.assign(listLength < maxListLength ? tf.concat([next, tf.slice(t, [listLength], [maxListLength - listLength])]) : next);
  };
  return {
    variables: [],
    loss(scores, clicks, mask) {
      return tf.tidy(() => {
        const [numLists, listLength] = scores.shape;
        const clicked = tf.mul(clicks, mask);
        const unclicked = tf.mul(tf.sub(1, clicks), mask);
        // [lists, i, j]: clicked i above-or-below unclicked j.
        const valid = tf.mul(tf.expandDims(clicked, 2), tf.expandDims(unclicked, 1));
        const margin = tf.sub(tf.expandDims(scores, 2), tf.expandDims(scores, 1));
        const pairLoss = tf.sum(tf.mul(valid, tf.softplus(tf.neg(margin))), 0) as tf.Tensor2D; // [i, j]
        const plus = tf.reshape(tf.slice(tPlus, [0], [listLength]), [listLength, 1]);
        const minus = tf.reshape(tf.slice(tMinus, [0], [listLength]), [1, listLength]);
        const loss = tf.div(tf.sum(tf.div(pairLoss, tf.mul(plus, minus))), numLists) as tf.Scalar;
        const fixed = stopGradient(pairLoss) as tf.Tensor2D;
        const plusEvidence = tf.sum(tf.div(fixed, minus), 1) as tf.Tensor1D;
        const minusEvidence = tf.sum(tf.div(fixed, plus), 0) as tf.Tensor1D;
        update(tPlus, plusEvidence, listLength);
        update(tMinus, minusEvidence, listLength);
        return loss;
      });
    },
    /** t⁺ relative to rank 1: under the PBM, the examination ratio p_k / p_1. */
    learnedPropensities() {
      const t = tPlus.dataSync();
      return Array.from(t, (v) => v / t[0]);
    },
    dispose: () => tf.dispose([tPlus, tMinus]),
  };
}

/**
 * Affine correction for trust bias (Vardasbi et al., CIKM 2020): when P(C_k = 1) = α_k P(R = 1) + β_k,
 * the click at rank k gives the unbiased relevance estimate
 *   R̂ = (c − β_k) / α_k,
 * which the listwise softmax cross-entropy takes as its label (normalised per list: R̂ can be
 * negative). Under the PBM (β = 0) it is IPS. α, β are absolute, per rank (`TrustBiasModel.affine`).
 * Needs all sessions: a session without a click has labels −β_k/α_k.
 */
export function affineObjective(alpha: ArrayLike<number>, beta: ArrayLike<number>): Objective {
  return affineLabelObjective(alpha, beta, softmaxCrossEntropyPerList);
}

/** R̂ = (c − β_k)/α_k per slot: clicks [lists, slots] with α, β per rank. */
function affineLabels(clicks: tf.Tensor2D, alpha: ArrayLike<number>, beta: ArrayLike<number>): tf.Tensor2D {
  const listLength = clicks.shape[1];
  return tf.div(tf.sub(clicks, rankRow(beta, listLength)), rankRow(alpha, listLength)) as tf.Tensor2D;
}

/**
 * The regression model of the doubly robust learner: σ(s) fitted by sigmoid cross-entropy to the
 * affine-corrected clicks R̂ = (c − β_k) / α_k, an unbiased target at every rank with α_k > 0, so
 * that σ(s_d) estimates P(R_d = 1) itself (not only its order). Needs all sessions.
 */
export function affineRegressionObjective(alpha: ArrayLike<number>, beta: ArrayLike<number>): Objective {
  return affineLabelObjective(alpha, beta, sigmoidCrossEntropy);
}

/** An objective that scores the affine-corrected labels R̂ with `loss` (a loss over [lists, slots] and a mask). */
function affineLabelObjective(alpha: ArrayLike<number>, beta: ArrayLike<number>, loss: (scores: tf.Tensor2D, labels: tf.Tensor2D, mask: tf.Tensor2D) => tf.Scalar): Objective {
  checkAffine(alpha, beta);
  return {
    variables: [],
    loss: (scores, clicks, mask) => tf.tidy(() => loss(scores, affineLabels(clicks, alpha, beta), mask)),
    dispose() {},
  };
}

/**
 * Doubly robust estimation (Oosterhuis, TOIS 2023). With the affine click model
 * P(C = 1 | d at rank k) = α_k R_d + β_k, a regression estimate r̂_d, and the expected treatment of
 * d under the logging policy, ρ_d = E_{y∼π0}[α_{k(d)}] (α averaged over where π0 places d, 0 where
 * it does not show it), each observation of d at rank k gives
 *   R̂_DR(d) = r̂_d + (c − α_k r̂_d − β_k) / ρ_d:
 * the regression estimate (direct method) plus an IPS-corrected residual. Its expectation is R_d
 * when ρ_d > 0 for every relevant d, or when r̂ is correct; and its residual has less variance
 * than the affine IPS label when r̂ is close. The listwise softmax cross-entropy takes R̂_DR as its
 * label (normalised per list). ρ and r̂ come with the batch (`clickBatches` with `treatment` from
 * `expectedTreatment` and `regression`); needs all sessions.
 */
export function doublyRobustObjective(alpha: ArrayLike<number>, beta: ArrayLike<number>): Objective {
  checkAffine(alpha, beta);
  return {
    variables: [],
    loss(scores, clicks, mask, slots) {
      if (!slots?.treatment || !slots.regression) throw new RangeError('the doubly robust objective needs batches with treatment and regression values (clickBatches options)');
      const { treatment, regression } = slots;
      return tf.tidy(() => {
        const listLength = scores.shape[1];
        const a = rankRow(alpha, listLength);
        const residual = tf.sub(tf.sub(clicks, tf.mul(a, regression)), rankRow(beta, listLength));
        // Padding slots have ρ = 0: divide by 1 there (their mask removes them anyway).
        const labels = tf.add(regression, tf.div(residual, tf.add(treatment, tf.sub(1, mask)))) as tf.Tensor2D;
        return softmaxCrossEntropyPerList(scores, labels, mask);
      });
    },
    dispose() {},
  };
}

/**
 * ρ per log row: the expected treatment E_{y∼π0}[α_{k(d)}] of the row's document under the logging
 * policy, estimated from the log as the mean of α at d's rank over all sessions of its query
 * (0 in sessions that do not show d). For a deterministic logger it is α at d's rank.
 */
export function expectedTreatment(log: ClickLog, alpha: ArrayLike<number>, numDocuments: number): Float32Array {
  const numSessions = log.sessionQuery.length;
  let numQueriesSeen = 0;
  for (let s = 0; s < numSessions; s++) numQueriesSeen = Math.max(numQueriesSeen, log.sessionQuery[s] + 1);
  const sessionsOfQuery = new Float64Array(numQueriesSeen);
  const alphaSum = new Float64Array(numDocuments);
  for (let s = 0; s < numSessions; s++) {
    sessionsOfQuery[log.sessionQuery[s]]++;
    for (let r = log.sessionOffsets[s]; r < log.sessionOffsets[s + 1]; r++) {
      alphaSum[log.document[r]] += alpha[Math.min(log.position[r], alpha.length - 1)];
    }
  }
  const rho = new Float32Array(log.document.length);
  for (let s = 0; s < numSessions; s++) {
    const n = sessionsOfQuery[log.sessionQuery[s]];
    for (let r = log.sessionOffsets[s]; r < log.sessionOffsets[s + 1]; r++) rho[r] = alphaSum[log.document[r]] / n;
  }
  return rho;
}
