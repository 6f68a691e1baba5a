import * as tf from '@tensorflow/tfjs';
import { ClickLabError, ConfigError } from '../../core/errors.js';
import { silentProgress } from '../../core/progress.js';
import type { RandomStream } from '../../core/random.js';
import { clickedMatrix, type ImplicitFeedback } from './feedback.js';
import { MatrixFactorization, type FactorScores, type ValidatedTraining } from './model.js';

/**
 * NBPO, NBPOo and BPO (Yu & Qin, "Sampler Design for Implicit Feedback Data by Noisy-label Robust
 * Learning", SIGIR 2020; the authors' `_NBPO.py`, `_NBPOo.py`, `_BPO.py` as issue 15 transcribes them).
 *
 * Preference R_ui = u_u · v_i, P(y = 1) = σ(R). Only true positives are flipped: a true positive is
 * unobserved with probability ρ_ui = σ(γ_ui), γ_ui = p_u · q_i (a second factorisation). Observed
 * likelihood: P(ỹ = 1) = σ(R)(1 − ρ), P(ỹ = 0) = σ(−R) + σ(R)ρ.
 *
 * Objectives (maximised; summed over a batch of observed pairs i and sampled unobserved pairs j):
 * - bpo:   Σ_i log σ(R_ui) + Σ_j log σ(−R_uj)
 * - nbpoo: Σ_i log σ(R)(1 − ρ) + Σ_j log(σ(−R) + σ(R)ρ)
 * - nbpo:  the surrogate whose gradient is the paper's surrogate gradient,
 *          Σ_i [(1 − ρ)‾ log σ(R) + σ(R)‾ log(1 − ρ)] + Σ_j [ρ‾ log σ(R) + log σ(−R) + σ(R)‾ log ρ],
 *          x‾ = stopGradient(x). Per pair: observed ∂R = σ(−γ)σ(−R), ∂γ = −σ(γ)σ(R);
 *          unobserved ∂R = σ(γ)σ(−R) − σ(R), ∂γ = σ(−γ)σ(R) (`nbpoSurrogateGradient`).
 */
export const NBPO_LEARNERS = ['nbpo', 'nbpoo', 'bpo'] as const;
export type NbpoLearner = (typeof NBPO_LEARNERS)[number];

export function isNbpoLearner(learner: string): learner is NbpoLearner {
  return (NBPO_LEARNERS as readonly string[]).includes(learner);
}

/** x with a zero gradient: tf.stop_gradient, which TF.js lacks. */
const stopGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  void save;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor1D) => tf.Tensor1D;

/** The paper's per-pair surrogate gradient of NBPO (ascent direction) in R and γ; plain JS. */
export function nbpoSurrogateGradient(R: number, gamma: number, observed: boolean): { dR: number; dGamma: number } {
  const s = (x: number) => 1 / (1 + Math.exp(-x));
  return observed ? { dR: s(-gamma) * s(-R), dGamma: -s(gamma) * s(R) } : { dR: s(gamma) * s(-R) - s(R), dGamma: s(-gamma) * s(R) };
}

/**
 * The learner's objective (to maximise, summed) from the preference logits R and flip logits γ of the
 * observed pairs (`rPos`, `gPos`) and of the sampled unobserved pairs (`rNeg`, `gNeg`), the observed
 * terms weighted by `positiveWeight` (training: the number of negatives per observed pair); BPO ignores γ.
 */
export function nbpoObjective(learner: NbpoLearner, rPos: tf.Tensor1D, gPos: tf.Tensor1D, rNeg: tf.Tensor1D, gNeg: tf.Tensor1D, positiveWeight = 1): tf.Scalar {
  return tf.tidy(() => {
    const total = (pos: tf.Tensor, neg: tf.Tensor) => tf.add(tf.mul(positiveWeight, tf.sum(pos)), tf.sum(neg)) as tf.Scalar;
    // log σ(x) = −softplus(−x) (tf.logSigmoid's own gradient fails on the wasm backend).
    const logSig = (x: tf.Tensor) => tf.neg(tf.softplus(tf.neg(x)));
    switch (learner) {
      case 'bpo':
        return total(logSig(rPos), logSig(tf.neg(rNeg)));
      case 'nbpoo': {
        // log P(ỹ=1) = log σ(R) + log σ(−γ); log P(ỹ=0) = log(1 + e^R σ(γ)) − log(1 + e^R)
        //            = softplus(R + log σ(γ)) − softplus(R), stable for every R and γ.
        const pos = tf.add(logSig(rPos), logSig(tf.neg(gPos)));
        const neg = tf.sub(tf.softplus(tf.add(rNeg, logSig(gNeg))), tf.softplus(rNeg));
        return total(pos, neg);
      }
      case 'nbpo': {
        const rhoPos = stopGradient(tf.sigmoid(gPos));
        const sigRPos = stopGradient(tf.sigmoid(rPos));
        const pos = tf.add(tf.mul(tf.sub(1, rhoPos), logSig(rPos)), tf.mul(sigRPos, logSig(tf.neg(gPos))));
        const rhoNeg = stopGradient(tf.sigmoid(gNeg));
        const sigRNeg = stopGradient(tf.sigmoid(rNeg));
        const neg = tf.addN([tf.mul(rhoNeg, logSig(rNeg)), logSig(tf.neg(rNeg)), tf.mul(sigRNeg, logSig(gNeg))]);
        return total(pos, neg);
      }
    }
  });
}

/**
 * Training as the authors' code (`train_Model` of `_NBPO.py`, `_NBPOo.py`, `_BPO.py`): each epoch
 * walks the observed pairs in their stored order, in batches of `batchSize` observed pairs; each
 * observed pair (u, i) gets `negatives` items j drawn uniformly from all items, rejecting u's observed
 * ones, and — as their loop does — its own term is added once per drawn j. One plain SGD ascent step
 * per batch on the batch sum, with the L2 terms on the whole matrices, as their update
 * U += η(dU − λ_r U), V += η(dV − λ_r V), P += η(dP − λ_φ P), Q += η(dQ − λ_φ Q):
 *     maximise  negatives·Σ_i f⁺(u, i) + Σ_j f⁻(u, j) − (λ_r/2)(‖U‖² + ‖V‖²) − (λ_φ/2)(‖P‖² + ‖Q‖²).
 * The learning rate of epoch e (0-based) is η · decay^(e+1) (their loop multiplies before the
 * epoch). Init U, V ~ U(0, 1)/√K, P = 5·U(0, 1)/√K₁, Q = −5·U(0, 1)/√K₁ (γ starts near −25/4, so
 * ρ ≈ 0.002). Differences: σ is exact here (theirs saturates to 0/1 beyond |x| > 10), and a
 * validation look every `evalEvery` epochs keeps the best epoch's weights and stops after `patience`
 * looks without improvement (they run 200 epochs and report every epoch).
 */
export interface NbpoTrainOptions extends ValidatedTraining {
  readonly learner: NbpoLearner;
  /** K: preference dimension (default 50). */
  readonly dimension?: number;
  /** K₁: flip dimension (default 50). */
  readonly flipDimension?: number;
  /** η (default 0.05, the authors' Amazon setting; MovieLens 0.02). */
  readonly learningRate?: number;
  /** η ← η · decay per epoch (default 0.99). */
  readonly decay?: number;
  /** λ_r (default 1). */
  readonly l2?: number;
  /** λ_φ (default 5). */
  readonly flipL2?: number;
  /** Observed pairs per batch (default 5000; each comes with `negatives` unobserved ones). */
  readonly batchSize?: number;
  /** Unobserved items drawn per observed pair (default 4). */
  readonly negatives?: number;
  readonly maxEpochs?: number;
}

export const NBPO_TRAIN_DEFAULTS = Object.freeze({
  dimension: 50,
  flipDimension: 50,
  learningRate: 0.05,
  decay: 0.99,
  l2: 1,
  flipL2: 5,
  batchSize: 5000,
  negatives: 4,
  maxEpochs: 100,
  evalEvery: 1,
  patience: 6,
});

export interface NbpoTrainResult {
  /** The preference factorisation (U, V): what ranks. */
  readonly model: MatrixFactorization;
  /** The flip factorisation (P, Q), ρ_ui = σ(p_u · q_i); null for BPO. */
  readonly flip: MatrixFactorization | null;
  /** (epoch, mean objective per observed pair since the previous look, validation score or null). */
  readonly curve: { step: number; loss: number; validation: number | null }[];
  readonly bestStep: number;
  readonly bestValidation: number | null;
  readonly stepsRun: number;
}

export function trainNbpo(feedback: ImplicitFeedback, options: NbpoTrainOptions): NbpoTrainResult {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<NbpoTrainOptions>;
  const o = { ...NBPO_TRAIN_DEFAULTS, ...defined, learner: options.learner };
  for (const key of ['dimension', 'flipDimension', 'batchSize', 'negatives', 'maxEpochs', 'evalEvery'] as const) {
    if (!(Number.isInteger(o[key]) && o[key] >= 1)) throw new ConfigError(`train.${key}`, `expected an integer ≥ 1, found ${o[key]}`);
  }
  if (!(Number.isInteger(o.patience) && o.patience >= 0)) throw new ConfigError('train.patience', `expected an integer ≥ 0, found ${o.patience}`);
  if (!(o.learningRate > 0)) throw new ConfigError('train.learningRate', `expected a number > 0, found ${o.learningRate}`);
  if (!(o.decay > 0 && o.decay <= 1)) throw new ConfigError('train.decay', `expected a number in (0, 1], found ${o.decay}`);
  for (const key of ['l2', 'flipL2'] as const) if (!(o[key] >= 0)) throw new ConfigError(`train.${key}`, `expected a number ≥ 0, found ${o[key]}`);
  const { numUsers, numItems } = feedback;
  const observed = clickedMatrix(feedback);
  const positives = feedback.user.length;
  if (positives === 0) throw new ConfigError('feedback', 'expected at least one click to train on, found none');
  const perUser = new Int32Array(numUsers);
  for (let j = 0; j < positives; j++) perUser[feedback.user[j]]++;
  const full = perUser.indexOf(numItems);
  if (full >= 0) throw new ConfigError('feedback', `user ${full} clicked every item: no unobserved item to sample`);

  const progress = options.progress ?? silentProgress;
  const init = options.rng.derive('init');
  const uniform = (rows: number, dim: number, scale: number, stream: RandomStream) => Float32Array.from({ length: rows * dim }, () => (scale * stream.uniform()) / Math.sqrt(dim));
  const model = MatrixFactorization.fromWeights(numUsers, numItems, o.dimension, uniform(numUsers, o.dimension, 1, init.derive('U')), uniform(numItems, o.dimension, 1, init.derive('V')));
  const flip =
    o.learner === 'bpo'
      ? null
      : MatrixFactorization.fromWeights(numUsers, numItems, o.flipDimension, uniform(numUsers, o.flipDimension, 5, init.derive('P')), uniform(numItems, o.flipDimension, -5, init.derive('Q')));
  const variables = flip ? [...model.variables, ...flip.variables] : model.variables;
  const optimizer = tf.train.sgd(o.learningRate);
  const curve: NbpoTrainResult['curve'] = [];
  type Snapshot = { step: number; score: number; weights: [Float32Array, Float32Array]; flip: [Float32Array, Float32Array] | null };
  let best: Snapshot | null = null;
  let looksSinceBest = 0;
  let objectiveSum = 0;
  let pairsSeen = 0;
  let epoch = 0;
  const B = Math.min(o.batchSize, positives);
  const posUser = new Int32Array(B);
  const posItem = new Int32Array(B);
  const negUser = new Int32Array(B * o.negatives);
  const negItem = new Int32Array(B * o.negatives);

  progress.start(options.label ?? o.learner, o.maxEpochs);
  try {
    while (epoch < o.maxEpochs) {
      const stream = options.rng.derive('epoch', epoch);
      epoch++;
      optimizer.setLearningRate(o.learningRate * o.decay ** epoch);
      for (let start = 0; start < positives; start += B) {
        const n = Math.min(B, positives - start);
        for (let b = 0; b < n; b++) {
          const k = start + b;
          const u = feedback.user[k];
          posUser[b] = u;
          posItem[b] = feedback.item[k];
          for (let s = 0; s < o.negatives; s++) {
            let j: number;
            do j = stream.int(numItems);
            while (observed[u * numItems + j]);
            negUser[b * o.negatives + s] = u;
            negItem[b * o.negatives + s] = j;
          }
        }
        const value = tf.tidy(() => {
          const pu = tf.tensor1d(posUser.subarray(0, n), 'int32');
          const pi = tf.tensor1d(posItem.subarray(0, n), 'int32');
          const nu = tf.tensor1d(negUser.subarray(0, n * o.negatives), 'int32');
          const ni = tf.tensor1d(negItem.subarray(0, n * o.negatives), 'int32');
          const { value, grads } = tf.variableGrads(() => {
            const users = tf.concat([pu, nu]);
            const items = tf.concat([pi, ni]);
            const [U, V] = model.rows(users, items);
            const R = tf.sum(tf.mul(U, V), 1) as tf.Tensor1D;
            const squares = (m: MatrixFactorization) => tf.add(tf.sum(tf.square(m.userEmbedding)), tf.sum(tf.square(m.itemEmbedding)));
            let penalty = tf.mul(o.l2 / 2, squares(model));
            let G: tf.Tensor1D = tf.zerosLike(R);
            if (flip) {
              const [P, Q] = flip.rows(users, items);
              G = tf.sum(tf.mul(P, Q), 1) as tf.Tensor1D;
              penalty = tf.add(penalty, tf.mul(o.flipL2 / 2, squares(flip)));
            }
            const [rPos, rNeg] = tf.split(R, [n, n * o.negatives]) as tf.Tensor1D[];
            const [gPos, gNeg] = tf.split(G, [n, n * o.negatives]) as tf.Tensor1D[];
            return tf.sub(penalty, nbpoObjective(o.learner, rPos, gPos, rNeg, gNeg, o.negatives)) as tf.Scalar;
          }, variables);
          optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
          return value;
        });
        const loss = value.dataSync()[0];
        value.dispose();
        if (!Number.isFinite(loss)) throw new ClickLabError(`${options.label ?? o.learner}: the objective became ${loss} in epoch ${epoch}; lower the learning rate or the batch size`);
        objectiveSum -= loss;
        pairsSeen += n;
      }
      if (epoch % o.evalEvery !== 0 && epoch !== o.maxEpochs) continue;
      const score = options.validate ? options.validate(model.factors()) : null;
      curve.push({ step: epoch, loss: objectiveSum / pairsSeen, validation: score });
      objectiveSum = 0;
      pairsSeen = 0;
      progress.update(epoch, `objective ${curve[curve.length - 1].loss.toFixed(4)}${score === null ? '' : `  valid ${score.toFixed(4)}`}`);
      if (score === null) continue;
      if (best === null || score > best.score) {
        best = { step: epoch, score, weights: model.snapshot(), flip: flip ? flip.snapshot() : null };
        looksSinceBest = 0;
      } else if (o.patience > 0 && ++looksSinceBest >= o.patience) {
        break;
      }
    }
  } catch (error) {
    model.dispose();
    flip?.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  const chosen = best as Snapshot | null;
  if (chosen) {
    model.restore(chosen.weights);
    if (flip && chosen.flip) flip.restore(chosen.flip);
  }
  progress.finish(chosen ? `best valid ${chosen.score.toFixed(4)} at epoch ${chosen.step} of ${epoch}` : undefined);
  return { model, flip, curve, bestStep: chosen ? chosen.step : epoch, bestValidation: chosen ? chosen.score : null, stepsRun: epoch };
}

/**
 * ρ recovery on a world where flips are known: over the given true-positive pairs (R_ui = 1), the
 * learned ρ_ui = σ(p_u · q_i) against the true flip probability 1 − θ_i (a true positive is
 * unobserved exactly when it is not exposed; exposure is independent of preference). Returns the
 * Pearson correlation, the RMSE and both means.
 */
export function flipRecovery(
  flip: FactorScores,
  pairs: { readonly user: Int32Array; readonly item: Int32Array },
  trueFlip: (user: number, item: number) => number,
): { correlation: number; rmse: number; meanLearned: number; meanTrue: number } {
  const n = pairs.user.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let se = 0;
  for (let j = 0; j < n; j++) {
    const x = 1 / (1 + Math.exp(-flip.score(pairs.user[j], pairs.item[j])));
    const y = trueFlip(pairs.user[j], pairs.item[j]);
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
    se += (x - y) ** 2;
  }
  const cov = sxy / n - (sx / n) * (sy / n);
  const vx = sxx / n - (sx / n) ** 2;
  const vy = syy / n - (sy / n) ** 2;
  return { correlation: vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : Number.NaN, rmse: Math.sqrt(se / n), meanLearned: sx / n, meanTrue: sy / n };
}
