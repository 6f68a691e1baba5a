import * as tf from '@tensorflow/tfjs';
import { randomStream } from '../core/random.js';
import { GruSlateModel, inMemoryBlocks } from '../learning/slates/gru-slate-model.js';
import { createGruSlateWorld, simulateLoggedSequences } from '../simulation/slates/gru-slate-world.js';
import type { BenchmarkRow } from './rows.js';

/**
 * SVI throughput of the GRU slate model at FINN.no's shape (d = H = 25, slates of 25 slots, 20
 * steps per user; 1,000 items in 20 groups), 64 users per step and K = 4 particles: SVI steps per
 * second and interactions (user steps) per second, on the backend in use and, when it is not
 * already, on TF.js's plain-JavaScript cpu backend as a comparison (ratio to the first row).
 */
export async function gruSlateRows(steps: number): Promise<BenchmarkRow[]> {
  const world = createGruSlateWorld(randomStream('bench-gru'), { items: 1000, groups: 20, users: 256, dim: 25, slots: 25 });
  const data = simulateLoggedSequences(world, randomStream('bench-gru').derive('log'), { steps: 20, minSlateLength: 10 });
  const batchUsers = 64;
  const measure = async (n: number): Promise<number> => {
    const p = world.params;
    const model = new GruSlateModel({ dim: p.dim, numItems: p.numItems, slots: p.slots, itemGroup: world.itemGroup, batchUsers, particles: 4, seed: 'bench' });
    await model.fit(inMemoryBlocks(data), { maxSteps: 1, users: data.users }); // warm-up: kernels and Adam slots
    const started = performance.now();
    await model.fit(inMemoryBlocks(data), { maxSteps: n, users: data.users, epochs: Math.ceil((n * batchUsers) / data.users) });
    const seconds = (performance.now() - started) / 1000;
    model.dispose();
    return n / seconds;
  };
  const n = Math.max(3, Math.round(steps / 20));
  const backend = tf.getBackend();
  const measured: [string, number][] = [[backend, await measure(n)]];
  if (backend !== 'cpu') {
    await tf.setBackend('cpu');
    try {
      measured.push(['cpu (comparison)', await measure(Math.max(2, Math.round(n / 3)))]);
    } finally {
      await tf.setBackend(backend);
    }
  }
  const interactions = batchUsers * data.steps;
  const baseline = measured[0][1];
  return measured.flatMap(([name, perSecond]) => [
    { group: 'GRU slate SVI (d 25, S 25, T 20, B 64, K 4)', name: `${name}: steps`, unit: 'steps/s', value: perSecond, ratio: perSecond / baseline },
    { group: 'GRU slate SVI (d 25, S 25, T 20, B 64, K 4)', name: `${name}: interactions`, unit: 'interactions/s', value: perSecond * interactions, ratio: perSecond / baseline },
  ]);
}
