import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import { GruSlateModel, gaussianKl, inMemoryBlocks } from '../../src/learning/slates/gru-slate-model.js';
import { clickLogLikelihood, createGruSlateWorld, simulateLoggedSequences } from '../../src/simulation/slates/gru-slate-world.js';

await initBackend('wasm');

const worldOptions = { items: 30, groups: 3, users: 40, dim: 4, hidden: 5, slots: 6 };

function small(seed: number, score: 'l2' | 'dot' = 'l2') {
  const world = createGruSlateWorld(randomStream(seed), { ...worldOptions, score });
  const data = simulateLoggedSequences(world, randomStream(seed).derive('log'), { steps: 8, minSlateLength: 3 });
  return { world, data };
}

describe('GRU slate model: forward pass', () => {
  for (const score of ['l2', 'dot'] as const) {
    it(`the TF.js click log-likelihood equals an independent plain-JS computation (${score})`, () => {
      const { world, data } = small(11, score);
      const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, score });
      const js = clickLogLikelihood(world.params, data);
      const tfValue = model.fixedLogLikelihood(world.params, data);
      // float32 against float64 over ~300 steps: agree to 1e-5 relative.
      expect(Math.abs(tfValue - js.logLik)).toBeLessThan(1e-5 * Math.abs(js.logLik) + 1e-3);
      model.dispose();
    });
  }
});

describe('GRU slate model: ELBO terms', () => {
  it('Gaussian KL in closed form matches a Monte Carlo estimate of E_q[log q − log p]', () => {
    const rng = randomStream(5);
    const [m, s, mu, sigma] = [0.7, 0.4, -0.2, 1.3];
    const n = 200_000;
    const values = new Float64Array(n);
    const logN = (x: number, a: number, b: number) => -Math.log(b) - 0.5 * Math.log(2 * Math.PI) - ((x - a) * (x - a)) / (2 * b * b);
    for (let i = 0; i < n; i++) {
      const x = m + s * rng.normal();
      values[i] = logN(x, m, s) - logN(x, mu, sigma);
    }
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - gaussianKl(m, s, mu, sigma))).toBeLessThan(4 * (sd / Math.sqrt(n)));
    expect(gaussianKl(1, 2, 1, 2)).toBeCloseTo(0, 12);
  });

  it("the model's KL terms equal the closed forms over its variational parameters", () => {
    const { world, data } = small(12);
    // Tiny scales on the group latents make the item KL (exact given g, s) deterministic to ~1e−6.
    const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, itemGroup: world.itemGroup, initScale: 1e-6, seed: 3 });
    const terms = model.estimateElbo(data);
    const q = new Map(model.variational().map((x) => [x.name, x]));
    let expected = 0;
    for (const [name, x] of q) {
      if (name === 'h0' || name === 'items') continue;
      const prior = name === 'noClickBias' ? 1 : 5;
      for (const [i, m] of x.mean.entries()) expected += gaussianKl(m, x.scale[i], 0, prior);
    }
    const items = q.get('items')!;
    const g = q.get('groupVec')!;
    const sc = q.get('groupScale')!;
    const d = 4;
    for (let i = 0; i < items.mean.length; i++) {
      const group = world.itemGroup[3 + Math.floor(i / d)];
      const k = i % d;
      expected += gaussianKl(items.mean[i], items.scale[i], g.mean[group * d + k], Math.max(Math.abs(sc.mean[group * d + k]), 0.001));
    }
    expect(terms.klGlobal).toBeCloseTo(expected, 0);
    expect(Math.abs(terms.klGlobal - expected)).toBeLessThan(1e-4 * Math.abs(expected));
    const h0 = q.get('h0')!;
    let local = 0;
    for (const [i, m] of h0.mean.entries()) local += gaussianKl(m, h0.scale[i], 0, 0.5);
    expect(Math.abs(terms.klLocal - local)).toBeLessThan(1e-4 * Math.abs(local));
    model.dispose();
  });
});

describe('GRU slate model: training', () => {
  it('is deterministic: the same seed gives the same posterior', async () => {
    const { world, data } = small(13);
    const fit = async () => {
      const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, itemGroup: world.itemGroup, batchUsers: 16, seed: 9 });
      await model.fit(inMemoryBlocks(data), { epochs: 2 });
      const v = model.variational();
      model.dispose();
      return v;
    };
    const [a, b] = [await fit(), await fit()];
    expect(a.map((x) => Array.from(x.mean))).toEqual(b.map((x) => Array.from(x.mean)));
    expect(a.map((x) => Array.from(x.scale))).toEqual(b.map((x) => Array.from(x.scale)));
  });

  it('leaks no tensors: tf.memory().numTensors is flat across SVI steps', async () => {
    const { world, data } = small(14);
    const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, batchUsers: 8 });
    await model.fit(inMemoryBlocks(data), { maxSteps: 1 });
    const before = tf.memory().numTensors;
    await model.fit(inMemoryBlocks(data), { maxSteps: 4 });
    expect(tf.memory().numTensors).toBe(before);
    model.estimateElbo(data);
    model.fixedLogLikelihood(world.params, data);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('raises the ELBO', async () => {
    const { world, data } = small(15);
    const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, itemGroup: world.itemGroup, batchUsers: 20, seed: 2 });
    const first = await model.fit(inMemoryBlocks(data), { maxSteps: 2 });
    const later = await model.fit(inMemoryBlocks(data), { epochs: 60 });
    expect(later.elboPerUser).toBeGreaterThan(first.elboPerUser);
    model.dispose();
  });
});

describe('GRU slate model: save and load', () => {
  it('round-trips the posterior through a model folder; a broken folder is an error naming the file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { saveGruSlateModel, loadGruSlateModel } = await import('../../src/learning/slates/gru-slate-io.js');
    const { world, data } = small(16);
    const model = new GruSlateModel({ dim: 4, hidden: 5, numItems: world.params.numItems, slots: 6, itemGroup: world.itemGroup, batchUsers: 16, seed: 4 });
    await model.fit(inMemoryBlocks(data), { epochs: 2 });
    const folder = mkdtempSync(path.join(tmpdir(), 'gru-slate-'));
    saveGruSlateModel(folder, model, { data: 'test' });
    const { model: loaded, training } = loadGruSlateModel(folder);
    expect(training).toEqual({ data: 'test' });
    const [a, b] = [model.variational(), loaded.variational()];
    expect(b.map((x) => x.name)).toEqual(a.map((x) => x.name));
    for (const [i, x] of a.entries()) {
      expect(Array.from(b[i].mean)).toEqual(Array.from(x.mean));
      for (const [j, s] of x.scale.entries()) expect(Math.abs(b[i].scale[j] - s)).toBeLessThan(1e-6 * s + 1e-9);
    }
    expect(clickLogLikelihood(loaded.posterior().mean(), data).logLik).toBeCloseTo(clickLogLikelihood(model.posterior().mean(), data).logLik, 4);
    model.dispose();
    loaded.dispose();
    writeFileSync(path.join(folder, 'model.json'), '{"format": "other"}');
    expect(() => loadGruSlateModel(folder)).toThrow(/model\.json: expected format/);
  });
});
