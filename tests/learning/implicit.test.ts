import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import { estimateItemExposure, ExposurePropensity, type ImplicitFeedback } from '../../src/learning/implicit/feedback.js';
import { tinyFeedback } from '../helpers/synthetic.js';
import { idealPointwiseLoss, pairWeights, weightedSquareLoss, type ImplicitLossSpec } from '../../src/learning/implicit/losses.js';
import { MatrixFactorization } from '../../src/learning/implicit/model.js';
import { trainImplicit } from '../../src/learning/implicit/trainer.js';

await initBackend('wasm');

function lossOf(spec: ImplicitLossSpec, logits: number[], clicks: number[], theta: number[]): number {
  const w = pairWeights(spec, clicks, theta);
  return tf.tidy(() => weightedSquareLoss(tf.tensor1d(logits), tf.tensor1d(w.positive), tf.tensor1d(w.negative), w.normaliser).dataSync()[0]);
}

describe('pointwise losses on a hand-computed batch', () => {
  // ŷ = σ(logits) = 0.5, 0.75, 0.25; Y = 1, 0, 1; θ = 0.5, 0.2, 0.25.
  const logits = [0, Math.log(3), -Math.log(3)];
  const clicks = [1, 0, 1];
  const theta = [0.5, 0.2, 0.25];

  it('MF: [0.25 + 0.5625 + 0.5625] / 3', () => {
    expect(lossOf({ learner: 'mf' }, logits, clicks, theta)).toBeCloseTo(1.375 / 3, 6);
  });

  it('WMF (α = 1): c = 2, 1, 2; [2·0.25 + 0.5625 + 2·0.5625] / 5', () => {
    expect(lossOf({ learner: 'wmf', confidence: 1 }, logits, clicks, theta)).toBeCloseTo(2.1875 / 5, 6);
  });

  it('Rel-MF: Y/θ = 2, 0, 4 → [(2·0.25 − 0.25) + 0.5625 + (4·0.5625 − 3·0.0625)] / 3', () => {
    expect(lossOf({ learner: 'relmf', clip: 0 }, logits, clicks, theta)).toBeCloseTo(2.875 / 3, 6);
  });

  it("clipped Rel-MF (M = 0.4): θ' = 0.5, 0.4, 0.4 → [0.25 + 0.5625 + (2.5·0.5625 − 1.5·0.0625)] / 3", () => {
    expect(lossOf({ learner: 'relmf', clip: 0.4 }, logits, clicks, theta)).toBeCloseTo(2.125 / 3, 6);
  });

  it('Rel-MF refuses a click on an item with θ = 0 unless clipped', () => {
    expect(() => pairWeights({ learner: 'relmf', clip: 0 }, [1], [0])).toThrow(ConfigError);
    expect(pairWeights({ learner: 'relmf', clip: 0.1 }, [1], [0]).positive[0]).toBeCloseTo(10, 5);
    // An unclicked pair with θ = 0 is fine: Y/θ = 0.
    expect(pairWeights({ learner: 'relmf', clip: 0 }, [0], [0]).negative[0]).toBe(1);
  });
});

describe('Rel-MF estimator over simulated exposure', () => {
  // Fixed predictions, relevance and propensities; exposure O ~ Bernoulli(θ) redrawn per replicate,
  // Y = O·R; each replicate's loss goes through the same weights and tensor loss as training.
  const n = 40;
  const rng = randomStream('relmf-unbiased');
  const relevance = Array.from({ length: n }, () => (rng.uniform() < 0.4 ? 1 : 0));
  const theta = Array.from({ length: n }, () => 0.05 + 0.95 * rng.uniform());
  const predicted = Array.from({ length: n }, () => 0.05 + 0.9 * rng.uniform());
  const logits = predicted.map((p) => Math.log(p / (1 - p)));
  const ideal = idealPointwiseLoss(relevance, predicted);
  const replicates = 3000;

  function replicateLosses(spec: ImplicitLossSpec): { mean: number; standardError: number } {
    const exposure = randomStream('exposure').derive(spec.learner, spec.learner === 'relmf' ? spec.clip : 0);
    const values: number[] = [];
    for (let r = 0; r < replicates; r++) {
      const clicks = relevance.map((rel, j) => (exposure.uniform() < theta[j] ? rel : 0));
      values.push(lossOf(spec, logits, clicks, theta));
    }
    const mean = values.reduce((s, v) => s + v, 0) / replicates;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (replicates - 1);
    return { mean, standardError: Math.sqrt(variance / replicates) };
  }

  it('unclipped: the mean loss equals the ideal loss within 4 standard errors', () => {
    const { mean, standardError } = replicateLosses({ learner: 'relmf', clip: 0 });
    expect(Math.abs(mean - ideal)).toBeLessThan(4 * standardError);
  });

  it("clipped: the mean matches its closed form Σ[(Rθ/θ')(1 − ŷ)² + (1 − Rθ/θ')ŷ²]/n, which is biased", () => {
    const M = 0.5;
    let expected = 0;
    for (let j = 0; j < n; j++) {
      const ratio = (relevance[j] * theta[j]) / Math.max(theta[j], M);
      expected += ratio * (1 - predicted[j]) ** 2 + (1 - ratio) * predicted[j] ** 2;
    }
    expected /= n;
    const { mean, standardError } = replicateLosses({ learner: 'relmf', clip: M });
    expect(Math.abs(mean - expected)).toBeLessThan(4 * standardError);
    expect(Math.abs(expected - ideal)).toBeGreaterThan(10 * standardError);
  });

  it('naive MF on clicks is biased for the ideal loss (the test has the power to see a bias)', () => {
    const { mean, standardError } = replicateLosses({ learner: 'mf' });
    expect(Math.abs(mean - ideal)).toBeGreaterThan(10 * standardError);
  });
});

describe('exposure propensities', () => {
  it('θ_i = (n_i / max n)^0.5 from click counts; 0 for an item nobody clicked', () => {
    const feedback: ImplicitFeedback = { numUsers: 4, numItems: 3, user: Int32Array.from([0, 1, 2, 3, 0]), item: Int32Array.from([0, 0, 0, 0, 1]) };
    const theta = estimateItemExposure(feedback);
    expect(Array.from(theta)).toEqual([1, 0.5, 0]);
    expect(Array.from(estimateItemExposure(feedback, 1))).toEqual([1, 0.25, 0]);
  });

  it('per item or per pair, checked to be probabilities', () => {
    expect(ExposurePropensity.perItem(Float32Array.from([0.5, 0.25])).at(7, 1)).toBe(0.25);
    expect(ExposurePropensity.perPair(Float32Array.from([0.1, 0.2, 0.3, 0.5]), 2, 2).at(1, 0)).toBeCloseTo(0.3, 6);
    expect(() => ExposurePropensity.perItem(Float32Array.from([1.5]))).toThrow(/propensity\[0\]/);
    expect(() => ExposurePropensity.perPair(Float32Array.from([0.1]), 2, 2)).toThrow(ConfigError);
  });
});

describe('training', () => {
  it('tf.memory().numTensors does not grow with the number of steps', () => {
    const feedback = tinyFeedback();
    const counts: number[] = [];
    for (const maxSteps of [2, 20]) {
      const before = tf.memory().numTensors;
      const { model } = trainImplicit(feedback, {
        loss: { learner: 'relmf', clip: 0.1 },
        propensity: ExposurePropensity.perItem(estimateItemExposure(feedback)),
        maxSteps,
        evalEvery: 5,
        batchSize: 64,
        dimension: 4,
        validate: () => 0,
        rng: randomStream(3),
      });
      counts.push(tf.memory().numTensors - before);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    // The model's two variables and nothing else survive training, however long.
    expect(counts).toEqual([2, 2]);
  });

  it('keeps the best validation step and stops after `patience` looks without improvement', () => {
    const scores = [0.1, 0.5, 0.3, 0.2, 0.4, 0.45, 0.9];
    let looks = 0;
    let atBest: number[] = [];
    const { model, bestStep, stepsRun, bestValidation } = trainImplicit(tinyFeedback(), {
      loss: { learner: 'mf' },
      maxSteps: 500,
      evalEvery: 4,
      patience: 4,
      batchSize: 32,
      dimension: 3,
      rng: randomStream(5),
      validate: (f) => {
        const s = scores[looks++];
        if (s === 0.5) atBest = [f.score(0, 0), f.score(3, 7)];
        return s;
      },
    });
    expect(bestStep).toBe(8);
    expect(bestValidation).toBe(0.5);
    expect(stepsRun).toBe(24); // looks at 12, 16, 20, 24 do not beat 0.5
    const f = model.factors();
    expect([f.score(0, 0), f.score(3, 7)]).toEqual(atBest);
    model.dispose();
  });

  it('MF learns the clicks: clicked pairs score above unclicked ones', () => {
    const feedback = tinyFeedback();
    const { model } = trainImplicit(feedback, { loss: { learner: 'mf' }, maxSteps: 300, batchSize: 128, dimension: 8, learningRate: 0.05, rng: randomStream(1) });
    const f = model.factors();
    let clicked = 0;
    let other = 0;
    const set = new Set(Array.from(feedback.user, (u, j) => u * 20 + feedback.item[j]));
    for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) set.has(u * 20 + i) ? (clicked += f.score(u, i) / 90) : (other += f.score(u, i) / 510);
    expect(clicked).toBeGreaterThan(other + 1);
    model.dispose();
  });

  it('the same seed gives the same weights', () => {
    const run = () => {
      const { model } = trainImplicit(tinyFeedback(), { loss: { learner: 'wmf', confidence: 2 }, maxSteps: 10, batchSize: 32, dimension: 3, rng: randomStream(9) });
      const weights = model.snapshot();
      model.dispose();
      return weights;
    };
    expect(run()).toEqual(run());
  });
});

describe('saving and loading a model', () => {
  it('round trip: identical scores and the description', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'clicklab-mf-'));
    try {
      const { model } = trainImplicit(tinyFeedback(), { loss: { learner: 'mf' }, maxSteps: 20, batchSize: 32, dimension: 5, rng: randomStream(2) });
      await model.save(folder, { learner: 'mf', note: 'test' });
      const loaded = await MatrixFactorization.load(folder);
      expect(loaded.description).toMatchObject({ learner: 'mf', note: 'test', numUsers: 30, numItems: 20, dimension: 5 });
      const [a, b] = [model.factors(), loaded.model.factors()];
      for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) expect(b.score(u, i)).toBe(a.score(u, i));
      expect(Array.from(b.topItems(4, 5))).toEqual(Array.from(a.topItems(4, 5)));
      model.dispose();
      loaded.model.dispose();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not a saved model, naming the file', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'clicklab-mf-'));
    try {
      await expect(MatrixFactorization.load(folder)).rejects.toThrow(/model\.json/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
