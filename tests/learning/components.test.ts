import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ClickLabError, ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import { groupRowsByQuery, labelBatches, queryLists } from '../../src/learning/batches.js';
import { softmaxCrossEntropy } from '../../src/learning/losses.js';
import { ScoringModel } from '../../src/learning/model.js';
import { estimatePropensitiesFromShuffle } from '../../src/learning/propensity-estimation.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities, relativeToFirst } from '../../src/simulation/examination.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { syntheticWorld } from '../helpers/synthetic.js';

const backend = await initBackend('auto');

describe('backend selection', () => {
  it('auto falls back to wasm here and says why the native binding was not used', () => {
    // The native bindings cannot install without network access; on a machine where one loads,
    // auto must pick it instead.
    expect(['tensorflow', 'wasm']).toContain(backend.name);
    if (backend.name === 'wasm') expect(backend.fallbacks.join('\n')).toMatch(/@tensorflow\/tfjs-node/);
  });

  it('rejects an unknown choice, and names the missing package when tensorflow is forced', async () => {
    await expect(initBackend('gpu' as never)).rejects.toThrow(ConfigError);
    if (backend.name !== 'tensorflow') await expect(initBackend('tensorflow')).rejects.toThrow(ClickLabError);
  });
});

describe('scoring model', () => {
  it("its hand-written dense gradient equals TF.js's own", () => {
    const model = new ScoringModel({ type: 'mlp', hidden: [5, 3] }, 4, randomStream('m'));
    const rng = randomStream('x');
    const x = tf.tensor2d(
      Float32Array.from({ length: 24 }, () => rng.normal()),
      [6, 4],
    );
    const y = tf.tensor2d([
      [1, 0, 2],
      [0, 1, 0],
    ]);
    const mask = tf.ones([2, 3]) as tf.Tensor2D;
    const loss = () => softmaxCrossEntropy(tf.reshape(model.score(x), [2, 3]) as tf.Tensor2D, y as tf.Tensor2D, mask);
    const custom = tf.variableGrads(loss, model.variables).grads;
    // Reference: the same network written with plain TF.js ops and automatic gradients.
    const reference = tf.variableGrads(() => {
      const [w1, b1, w2, b2, w3, b3] = model.variables;
      const h1 = tf.elu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1));
      const h2 = tf.elu(tf.add(tf.matMul(h1, w2 as tf.Tensor2D), b2));
      const s = tf.reshape(tf.add(tf.matMul(h2, w3 as tf.Tensor2D), b3), [2, 3]) as tf.Tensor2D;
      return softmaxCrossEntropy(s, y as tf.Tensor2D, mask);
    }, model.variables).grads;
    for (const v of model.variables) {
      const a = custom[v.name].dataSync();
      const b = reference[v.name].dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    }
    model.dispose();
  });

  it('draws the same initial weights from the same seed', () => {
    const a = new ScoringModel({ type: 'mlp', hidden: [4] }, 3, randomStream(1)).snapshot();
    const b = new ScoringModel({ type: 'mlp', hidden: [4] }, 3, randomStream(1)).snapshot();
    const c = new ScoringModel({ type: 'mlp', hidden: [4] }, 3, randomStream(2)).snapshot();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('batches', () => {
  const world = syntheticWorld(4, 5, 3);

  it('groups sampled lines by query', () => {
    expect(groupRowsByQuery(world, [12, 0, 3, 19, 15, 6]).map((l) => Array.from(l))).toEqual([[0, 3], [6], [12], [15, 19]]);
    expect(queryLists(world, [2]).map((l) => Array.from(l))).toEqual([[10, 11, 12, 13, 14]]);
  });

  it('lays lists out padded, with real documents only in the feature matrix', () => {
    const batch = labelBatches(
      world,
      3,
      [Int32Array.from([0, 1, 2, 3]), Int32Array.from([5, 6])].filter((rows) => rows.some((r) => world.labels[r] > 0)),
    ).next(randomStream(1));
    expect(batch.numLists).toBe(3);
    for (let slot = 0; slot < batch.numLists * batch.listLength; slot++) {
      const row = batch.slotRows[slot];
      expect(batch.mask[slot]).toBe(row < batch.numDocuments ? 1 : 0);
      if (row < batch.numDocuments) expect(batch.documentSlots[row]).toBe(slot);
    }
    expect(batch.features.length).toBe(batch.numDocuments * world.numFeatures);
  });
});

describe('RandTop-n propensity estimation', () => {
  it('recovers p_k / p_1 from shuffled sessions within the sampling error', () => {
    const world = syntheticWorld(50, 10, 4);
    const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
    const relevance = Float32Array.from(world.labels, (y) => [0.1, 0.4, 1][y]);
    const lists = { offsets: world.queryOffsets, documents: Int32Array.from({ length: 500 }, (_, i) => i) };
    const n = 200_000;
    const { log } = simulateSessions(lists, { numSessions: n, clickModel: new PositionBasedModel(examination), relevance, rng: randomStream(9), intervention: 'shuffle' });
    const estimate = estimatePropensitiesFromShuffle(log, 10);
    const truth = relativeToFirst(examination);
    for (let k = 0; k < 10; k++) {
      // Delta method: the ratio of two independent binomial proportions has relative variance
      // (1 − c_k)/(n c_k) + (1 − c_1)/(n c_1).
      const [ck, c1] = [estimate.clicks[k] / n, estimate.clicks[0] / n];
      const sd = truth[k] * Math.sqrt((1 - ck) / (n * ck) + (1 - c1) / (n * c1));
      expect(Math.abs(estimate.relative[k] - truth[k])).toBeLessThan(4 * sd);
    }
  });
});

describe('training', () => {
  it('stops with a clear error when the loss stops being finite', async () => {
    const { train } = await import('../../src/learning/trainer.js');
    const { listwiseObjective } = await import('../../src/learning/objectives.js');
    const world = syntheticWorld(20, 5, 1);
    const model = new ScoringModel({ type: 'linear' }, 3, randomStream('m'));
    const broken = { ...listwiseObjective(), loss: (scores: tf.Tensor2D) => tf.mul(tf.sum(scores), Number.NaN) as tf.Scalar };
    expect(() => train(model, broken, labelBatches(world, 4), { steps: 3, learningRate: 0.05, clipNorm: 5, evalEvery: 3, rng: randomStream(1), label: 'seed 1 naive' })).toThrow(
      /seed 1 naive: the loss became NaN at step 1/,
    );
    model.dispose();
  });
});
