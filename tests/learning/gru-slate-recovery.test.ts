import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import { fitPopularity, gruSlateQuality, popularityQuality, splitTestUsers } from '../../src/evaluation/gru-slate-quality.js';
import { GruSlateModel, inMemoryBlocks } from '../../src/learning/slates/gru-slate-model.js';
import { createGruSlateWorld, simulateLoggedSequences } from '../../src/simulation/slates/gru-slate-world.js';

await initBackend('wasm');

/**
 * Recovery on data simulated from a GRU world (1,500 users × 10 random slates, 20% test users
 * whose first 5 steps are in training): held-out log-likelihood per step of the posterior mean
 * after 5 epochs (120 SVI steps), against popularity (evaluation/slate-sequence-metrics.ts) and
 * the true parameters. Measured on seeds 1–4 (docs/gru-slates.md): fitted − popularity = +0.036,
 * +0.019, +0.016, +0.008 nats/step; true − fitted = 0.088, 0.062, 0.048, 0.052 (mean 0.062,
 * sd 0.018). The true model knows each test user's h0; the fitted one has 5 steps to infer it.
 * Seed 1 is tested; the gap bound is the mean + 3 sd over seeds.
 */
describe('GRU slate model: recovery', () => {
  it('beats popularity on held-out users and comes within the measured gap of the true model', async () => {
    const seed = 1;
    const world = createGruSlateWorld(randomStream(seed), { items: 40, groups: 4, users: 1500, dim: 4, slots: 6, groupSpread: 1 });
    const data = simulateLoggedSequences(world, randomStream(seed).derive('log'), { steps: 10, minSlateLength: 3 });
    const { train, test } = splitTestUsers(data, randomStream(seed).derive('split'), { testFraction: 0.2, trainSteps: 5 });
    const model = new GruSlateModel({ dim: 4, numItems: world.params.numItems, slots: 6, itemGroup: world.itemGroup, seed, batchUsers: 64, learningRate: 0.02 });
    await model.fit(inMemoryBlocks(train), { epochs: 5 });
    const o = { fromStep: 5, k: 5 };
    const fitted = gruSlateQuality(model.posterior().mean(), test, o);
    const popularity = popularityQuality(await fitPopularity(inMemoryBlocks(train)), test, o);
    const truth = gruSlateQuality(world.params, test, o);
    model.dispose();
    expect(fitted.logLikPerStep).toBeGreaterThan(popularity.logLikPerStep);
    expect(truth.logLikPerStep - fitted.logLikPerStep).toBeGreaterThan(0);
    expect(truth.logLikPerStep - fitted.logLikPerStep).toBeLessThan(0.062 + 3 * 0.018);
    expect(fitted.hitRate).toBeGreaterThan(popularity.hitRate);
  });
});
