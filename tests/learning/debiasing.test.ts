import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { initBackend } from '../../src/learning/backend.js';
import { clickBatches } from '../../src/learning/batches.js';
import { trainFromClicks, type ClickLearnerSpec } from '../../src/learning/click-learners.js';
import { affineObjective, doublyRobustObjective, expectedTreatment, pairwiseDebiasObjective, regressionEmObjective } from '../../src/learning/debiasing.js';
import { sigmoidCrossEntropy } from '../../src/learning/losses.js';
import { ScoringModel } from '../../src/learning/model.js';
import { train } from '../../src/learning/trainer.js';
import { rankByScores } from '../../src/policies/ranking.js';
import { TrustBiasModel, defaultTrustParameters } from '../../src/simulation/click-models/trust-bias.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities } from '../../src/simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../../src/simulation/relevance.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { featureColumn, syntheticWorld } from '../helpers/synthetic.js';

await initBackend('wasm');

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const t2 = (rows: number[][]) => tf.tensor2d(rows);

// Every expected value below is worked out by hand from the formula in the objective's comment;
// log softmax([1, 0]) = [1 − ln(1 + e), −ln(1 + e)] = [−0.3132617, −1.3132617].
describe('debiasing losses on a tiny batch', () => {
  it('sigmoid cross-entropy: Σ softplus(s) − y s over real slots, per list', () => {
    // softplus(0.5) − 0.3·0.5 + softplus(−1) = 0.9740770 − 0.15 + 0.3132617 = 1.1373387; the padded slot adds nothing.
    expect(value(sigmoidCrossEntropy(t2([[0.5, -1, 7]]), t2([[0.3, 0, 1]]), t2([[1, 1, 0]])))).toBeCloseTo(1.1373387, 5);
  });

  it('affine correction: labels (c − β_k)/α_k under the listwise softmax', () => {
    // α = (0.5, 0.25), β = (0.1, 0.05), clicks (1, 0): labels (1.8, −0.2);
    // loss = −(1.8 · −0.3132617 − 0.2 · −1.3132617) = 0.3012187.
    const objective = affineObjective([0.5, 0.25], [0.1, 0.05]);
    expect(value(objective.loss(t2([[1, 0]]), t2([[1, 0]]), t2([[1, 1]])))).toBeCloseTo(0.3012187, 5);
  });

  it('doubly robust: labels r̂ + (c − α_k r̂ − β_k)/ρ', () => {
    // r̂ = (0.6, 0.2), ρ = (0.4, 0.3): labels 0.6 + (1 − 0.3 − 0.1)/0.4 = 2.1 and
    // 0.2 + (0 − 0.05 − 0.05)/0.3 = −0.1333333; loss = −(2.1 · −0.3132617 − 0.1333333 · −1.3132617) = 0.4827480.
    const objective = doublyRobustObjective([0.5, 0.25], [0.1, 0.05]);
    const loss = objective.loss(t2([[1, 0]]), t2([[1, 0]]), t2([[1, 1]]), { treatment: t2([[0.4, 0.3]]), regression: t2([[0.6, 0.2]]) });
    expect(value(loss)).toBeCloseTo(0.482748, 5);
    expect(() => objective.loss(t2([[1, 0]]), t2([[1, 0]]), t2([[1, 1]]))).toThrow(/treatment and regression/);
  });

  it('regression EM: E-step labels, sigmoid loss, and the online M-step of θ', () => {
    // θ = 0.9, γ = σ(0, ln 3) = (0.5, 0.75), clicks (1, 0). Unclicked slot: P(E=0,R=1|C=0) = 0.1·0.75/0.325
    // = 0.2307692, so loss = softplus(0) + softplus(ln 3) − 0.2307692 · ln 3 = 1.8259156. M-step (η = 0.05):
    // θ_1 = 0.95·0.9 + 0.05·1 = 0.905; θ_2 = 0.95·0.9 + 0.05·(0.9·0.25/0.325) = 0.8896154; θ_2/θ_1 = 0.9830004.
    const objective = regressionEmObjective(2);
    expect(value(objective.loss(t2([[0, Math.log(3)]]), t2([[1, 0]]), t2([[1, 1]])))).toBeCloseTo(1.8259156, 5);
    expect(objective.learnedPropensities!()[1]).toBeCloseTo(0.9830004, 5);
    objective.dispose();
  });

  it('pairwise debiasing: pair losses over t⁺_i t⁻_j, then the closed-form update of t⁻', () => {
    // Scores (2, 0, 1), a click at rank 2 only: pairs (2, 1) and (2, 3) with losses softplus(2) = 2.1269280
    // and softplus(1) = 1.3132617; t = 1, so the loss is their sum, 3.4401897. No pair has a click at rank 1,
    // so t⁺ keeps its value; t⁻ evidence per rank (2.1269280, 0, 1.3132617): t⁻_3 = 0.95 + 0.05·√(1.3132617/2.1269280)
    // = 0.9892888, t⁻_2 keeps 1. The same batch again: 2.1269280 + 1.3132617/0.9892888 = 3.4544086.
    const objective = pairwiseDebiasObjective(3);
    const step = () => value(objective.loss(t2([[2, 0, 1]]), t2([[0, 1, 0]]), t2([[1, 1, 1]])));
    expect(step()).toBeCloseTo(3.4401897, 5);
    expect(step()).toBeCloseTo(3.4544086, 5);
    expect(objective.learnedPropensities!()).toEqual([1, 1, 1]);
    objective.dispose();
  });

  it('expected treatment: α averaged over where the log shows each document, 0 where it does not', () => {
    // Query 0 shown twice: document 0 at ranks 1 and 2 (ρ = (0.5 + 0.25)/2), document 1 at rank 2 then
    // absent (ρ = 0.25/2), document 2 absent then at rank 1 (ρ = 0.5/2).
    const log: ClickLog = {
      sessionQuery: Int32Array.of(0, 0),
      sessionOffsets: Int32Array.of(0, 2, 4),
      document: Int32Array.of(0, 1, 2, 0),
      position: Uint16Array.of(0, 1, 0, 1),
      click: Uint8Array.of(0, 0, 0, 0),
    };
    expect(Array.from(expectedTreatment(log, [0.5, 0.25], 3))).toEqual([0.375, 0.125, 0.25, 0.375]);
  });
});

describe('learning from clicks with the new learners', () => {
  const world = syntheticWorld(300, 10, 1);
  const relevance = relevanceProbabilities(world.labels, gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 }));
  const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const displayed = rankByScores(world, featureColumn(world, 1), 10);
  const { log } = simulateSessions(displayed, { numSessions: 20_000, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(3), truth: false });
  const alpha = Array.from(examination);
  const beta = alpha.map(() => 0);

  it('training leaks no tensors: tf.memory().numTensors stays flat across steps, for every new objective', () => {
    const treatment = expectedTreatment(log, alpha, world.labels.length);
    const regression = new Float32Array(world.labels.length).fill(0.3);
    const cases = [
      { objective: regressionEmObjective(10), options: { allSessions: true } },
      { objective: pairwiseDebiasObjective(10), options: {} },
      { objective: affineObjective(alpha, beta), options: { allSessions: true } },
      { objective: doublyRobustObjective(alpha, beta), options: { allSessions: true, treatment, regression } },
    ];
    for (const { objective, options } of cases) {
      const model = new ScoringModel({ type: 'mlp', hidden: [8, 4] }, world.numFeatures, randomStream('init'));
      const source = clickBatches(world, log, 32, options);
      const rng = randomStream('batches');
      const run = (steps: number) => train(model, objective, source, { steps, learningRate: 0.05, clipNorm: 5, evalEvery: 5, rng, validate: () => 0 });
      run(5);
      const before = tf.memory().numTensors;
      run(30);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      objective.dispose();
    }
  });

  it('the doubly robust learner trains its regression model and leaves no tensor behind', () => {
    const model = new ScoringModel({ type: 'linear' }, world.numFeatures, randomStream('init'));
    const spec: ClickLearnerSpec = { type: 'doubly-robust', alpha, beta };
    const run = (steps: number) => trainFromClicks(model, spec, world, log, { steps, batchSize: 32, learningRate: 0.05, clipNorm: 5, evalEvery: 10, rng: randomStream('b') });
    run(5); // TF.js caches a few constants on first use
    const before = tf.memory().numTensors;
    const result = run(20);
    expect(result.regressionHistory?.curve.length).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    // Validation sees the model each stage trains: the regression model first, then the ranker.
    const validated: unknown[] = [];
    trainFromClicks(model, spec, world, log, { steps: 10, batchSize: 32, learningRate: 0.05, clipNorm: 5, evalEvery: 10, rng: randomStream('b'), validate: (m) => (validated.push(m), 0) });
    expect(validated).toHaveLength(2);
    expect(validated[0]).not.toBe(model);
    expect(validated[1]).toBe(model);
    model.dispose();
  });

  it('under trust bias, the affine correction removes the logger feature that naive learning absorbs', () => {
    // The logger sorts by feature 1, independent of relevance (feature 0); clicks follow the trust-bias model.
    const { epsilonPlus, epsilonMinus } = defaultTrustParameters(10);
    const trust = new TrustBiasModel(examination, epsilonPlus, epsilonMinus);
    const binary = relevanceProbabilities(world.labels, gradedRelevanceTable({ epsilon: 0, maxGrade: 2 }));
    const trustLog = simulateSessions(displayed, { numSessions: 60_000, clickModel: trust, relevance: binary, rng: randomStream(4), truth: false }).log;
    const affine = trust.affine(10);
    const bias = (spec: ClickLearnerSpec) => {
      const model = new ScoringModel({ type: 'linear' }, world.numFeatures, randomStream('init'));
      trainFromClicks(model, spec, world, trustLog, { steps: 800, batchSize: 128, learningRate: 0.05, clipNorm: 5, evalEvery: 800, rng: randomStream('b') });
      const w = model.variables[0].dataSync();
      model.dispose();
      return w[1] / w[0];
    };
    const naive = bias({ type: 'naive' });
    const corrected = bias({ type: 'affine', alpha: affine.alpha, beta: affine.beta });
    expect(naive).toBeGreaterThan(0.3);
    expect(Math.abs(corrected)).toBeLessThan(0.1);
  });
});
