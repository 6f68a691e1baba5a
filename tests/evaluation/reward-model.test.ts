import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { crossFitFold, crossFitRewardModel, fitLogisticRegression, oneHotRewardFeatures } from '../../src/evaluation/reward-model.js';
import { StreamedCrossFit } from '../../src/evaluation/streamed-reward-model.js';

describe('logistic reward model', () => {
  it('recovers the per-(action, position) click rates it was fitted on (tiny penalty)', () => {
    // Saturated model: intercept + action + position + action × position on 3 × 2 cells, each
    // with a known CTR. The penalised MLE of a saturated model is each cell's empirical rate, up to
    // the penalty (λ = 1e-6 here): it must reproduce the counted frequencies.
    const A = 3;
    const K = 2;
    const rates = [0.1, 0.3, 0.5, 0.2, 0.05, 0.6];
    const rng = randomStream(4);
    const n = 12_000;
    const action = new Int32Array(n);
    const position = new Int32Array(n);
    const reward = new Uint8Array(n);
    const clicks = new Float64Array(A * K);
    const shown = new Float64Array(A * K);
    for (let i = 0; i < n; i++) {
      action[i] = rng.int(A);
      position[i] = rng.int(K);
      const cell = action[i] * K + position[i];
      reward[i] = rng.bernoulli(rates[cell]) ? 1 : 0;
      clicks[cell] += reward[i];
      shown[cell] += 1;
    }
    const features = oneHotRewardFeatures({ numActions: A, numPositions: K, actionPosition: true });
    const q = crossFitRewardModel({ reward, action, position }, features, A, K, { folds: 1, l2: 1e-6 });
    for (let cell = 0; cell < A * K; cell++) {
      expect(q.values[cell]).toBeCloseTo(clicks[cell] / shown[cell], 4);
    }
    // And the empirical rates are within 4 standard errors of the true ones (the data is right).
    for (let cell = 0; cell < A * K; cell++) {
      const se = Math.sqrt((rates[cell] * (1 - rates[cell])) / shown[cell]);
      expect(Math.abs(clicks[cell] / shown[cell] - rates[cell])).toBeLessThan(4 * se);
    }
  });

  it('recovers logistic coefficients of a simulated model within their standard errors', () => {
    // logit P = −1 + 1.5·[a = 1] − 0.8·[k = 1]; 20k rows: standard errors are about 0.04.
    const rng = randomStream(9);
    const n = 20_000;
    const action = new Int32Array(n);
    const position = new Int32Array(n);
    const reward = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      action[i] = rng.int(2);
      position[i] = rng.int(2);
      const z = -1 + 1.5 * action[i] - 0.8 * position[i];
      reward[i] = rng.bernoulli(1 / (1 + Math.exp(-z))) ? 1 : 0;
    }
    const features = oneHotRewardFeatures({ numActions: 2, numPositions: 2 });
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const model = fitLogisticRegression(features, rows, action, position, reward, { l2: 1e-6 });
    const w = model.weights; // [intercept, a0, a1, k0, k1]: identified up to shifts, so compare differences.
    expect(w[2] - w[1]).toBeCloseTo(1.5, 0);
    expect(Math.abs(w[2] - w[1] - 1.5)).toBeLessThan(0.15);
    expect(Math.abs(w[4] - w[3] + 0.8)).toBeLessThan(0.15);
    expect(model.iterations).toBeLessThan(50);
  });

  it('cross-fits: a row’s prediction does not depend on its own reward', () => {
    const rng = randomStream(2);
    const n = 300;
    const action = Int32Array.from({ length: n }, () => rng.int(4));
    const reward = Uint8Array.from({ length: n }, () => (rng.bernoulli(0.3) ? 1 : 0));
    const features = oneHotRewardFeatures({ numActions: 4, numPositions: 1 });
    const before = crossFitRewardModel({ reward, action }, features, 4, 1, { folds: 3, seed: 5 });
    const flipped = Uint8Array.from(reward);
    flipped[17] = 1 - flipped[17];
    const after = crossFitRewardModel({ reward: flipped, action }, features, 4, 1, { folds: 3, seed: 5 });
    for (let a = 0; a < 4; a++) expect(after.values[17 * 4 + a]).toBe(before.values[17 * 4 + a]);
    // ... but it changes other folds' predictions (the flip is in their training data).
    let changed = 0;
    for (let i = 0; i < n; i++) if (after.values[i * 4] !== before.values[i * 4]) changed++;
    expect(changed).toBeGreaterThan(n / 2);
  });

  it('rejects non-binary rewards', () => {
    const features = oneHotRewardFeatures({ numActions: 2, numPositions: 1 });
    expect(() => crossFitRewardModel({ reward: [0, 2, 1], action: [0, 1, 0] }, features, 2, 1, { folds: 1 })).toThrow(/reward\[1\]: expected a binary reward/);
  });

  it('folds by a hash of (seed, row): sizes near n/F, groups kept together, other seeds other folds', () => {
    const n = 30_000;
    const fold = crossFitFold(7, 3);
    const sizes = [0, 0, 0];
    for (let i = 0; i < n; i++) sizes[fold(i)]++;
    // Multinomial(n, 1/3): sd √(n · 1/3 · 2/3) ≈ 82; 4 sd.
    for (const size of sizes) expect(Math.abs(size - n / 3)).toBeLessThan(4 * 82);
    const other = crossFitFold(8, 3);
    let same = 0;
    for (let i = 0; i < 3000; i++) if (other(i) === fold(i)) same++;
    expect(Math.abs(same / 3000 - 1 / 3)).toBeLessThan(4 * Math.sqrt(((1 / 3) * (2 / 3)) / 3000));
    // Rows of one group share its fold.
    const rng = randomStream(1);
    const action = Int32Array.from({ length: 600 }, () => rng.int(3));
    const reward = Uint8Array.from({ length: 600 }, () => (rng.bernoulli(0.3) ? 1 : 0));
    const groups = Int32Array.from({ length: 600 }, (_, i) => Math.floor(i / 3));
    const features = oneHotRewardFeatures({ numActions: 3, numPositions: 1 });
    const q = crossFitRewardModel({ reward, action }, features, 3, 1, { folds: 3, seed: 2, groups });
    // The features are the action only: a row's q̂ is its fold's model's, the same for a group's rows, one value per fold.
    for (let g = 0; g < 200; g++) {
      expect(q.values[(3 * g + 1) * 3]).toBe(q.values[3 * g * 3]);
      expect(q.values[(3 * g + 2) * 3]).toBe(q.values[3 * g * 3]);
    }
    expect(new Set(Array.from({ length: 600 }, (_, i) => q.values[i * 3])).size).toBe(3);
  });

  it('fitted over batches (StreamedCrossFit, a pass per Newton step) equals crossFitRewardModel bit for bit', () => {
    const rng = randomStream(3);
    const n = 2000;
    const A = 4;
    const K = 2;
    const action = Int32Array.from({ length: n }, () => rng.int(A));
    const position = Int32Array.from({ length: n }, () => rng.int(K));
    const codes = Int32Array.from({ length: n }, () => rng.int(5));
    const affinity = Float64Array.from({ length: n * A }, () => rng.uniform());
    const reward = Uint8Array.from({ length: n }, (_, i) => (rng.bernoulli(0.1 + 0.1 * action[i] + 0.2 * affinity[i * A + action[i]]) ? 1 : 0));
    const whole = oneHotRewardFeatures({ numActions: A, numPositions: K, context: { codes, cardinalities: [5] }, actionValue: affinity });
    const options = { folds: 3, seed: 9, l2: 0.5 };
    const expected = crossFitRewardModel({ reward, action, position }, whole, A, K, options);
    for (const batch of [1, 333, n]) {
      const fit = new StreamedCrossFit(whole.dimension, whole.nonZeros, n, options);
      const slice = (from: number, to: number) =>
        oneHotRewardFeatures({ numActions: A, numPositions: K, context: { codes: codes.subarray(from, to), cardinalities: [5] }, actionValue: affinity.subarray(from * A, to * A) });
      while (!fit.done) {
        fit.beginPass();
        for (let from = 0; from < n; from += batch) {
          const to = Math.min(n, from + batch);
          fit.add(slice(from, to), to - from, action.subarray(from, to), position.subarray(from, to), reward.subarray(from, to));
        }
        fit.endPass();
      }
      const values = new Float64Array(n * A * K);
      for (let from = 0; from < n; from += batch) {
        const to = Math.min(n, from + batch);
        values.set(fit.predict(slice(from, to), to - from, from, A, K).values, from * A * K);
      }
      expect(values).toEqual(expected.values);
      expect(Math.max(...fit.iterations)).toBeLessThan(50);
    }
  });
});
