import * as tf from '@tensorflow/tfjs';
import { randomStream } from '../core/random.js';
import { estimateItemExposure, ExposurePropensity, type ImplicitFeedback } from '../learning/implicit/feedback.js';
import type { ImplicitLossSpec } from '../learning/implicit/losses.js';
import { trainImplicit } from '../learning/implicit/trainer.js';
import { trainNbpo, type NbpoLearner } from '../learning/implicit/nbpo.js';
import type { BenchmarkRow } from './rows.js';

/**
 * Training throughput of the implicit-feedback learners, in user–item pairs per second, as ratios
 * to naive MF measured in the same process: 2,000 users × 500 items with 20 clicks per user, d = 30,
 * batches of 4,096 pairs, no validation. The learners share the model and the tensor loss and differ
 * in their per-pair weights only, so the ratios should sit near 1. NBPO, NBPOo and BPO (Yu & Qin
 * 2020) run with their own trainer at the same d (K = K₁ = 30) and the authors' batches (5,000
 * observed pairs, each with 4 sampled unobserved items: 25,000 pairs per SGD step); their pairs are
 * observed + sampled pairs, and they pay for the rejection sampling of negatives and, NBPO and
 * NBPOo, for the second factorisation.
 */
export function recommenderTrainingRows(steps: number): BenchmarkRow[] {
  const feedback = syntheticFeedback(2000, 500, 20);
  const propensity = ExposurePropensity.perItem(estimateItemExposure(feedback));
  const learners: [string, ImplicitLossSpec][] = [
    ['mf (naive pointwise)', { learner: 'mf' }],
    ['wmf', { learner: 'wmf', confidence: 1 }],
    ['relmf', { learner: 'relmf', clip: 0 }],
    ['relmf clipped (M = 0.1)', { learner: 'relmf', clip: 0.1 }],
  ];
  const batchSize = 4096;
  const run = (loss: ImplicitLossSpec, maxSteps: number) => trainImplicit(feedback, { loss, propensity, maxSteps, batchSize, evalEvery: maxSteps, rng: randomStream('bench') }).model.dispose();
  // Every learner warms up before any is timed: the first timed run would otherwise also pay for
  // compiling the shared step (the baseline looked 25–40% slower than the others).
  for (const [, loss] of learners) run(loss, Math.max(1, Math.round(steps / 10)));
  const measured = learners.map(([name, loss]): [string, number] => {
    const started = performance.now();
    run(loss, steps);
    return [name, (steps * batchSize) / ((performance.now() - started) / 1000)];
  });
  const positives = feedback.user.length;
  const nbpoPairs = (maxEpochs: number) => maxEpochs * positives * 5;
  const nbpoEpochs = Math.max(1, Math.round((steps * batchSize) / nbpoPairs(1)));
  const runNbpo = (learner: NbpoLearner, maxEpochs: number) => {
    const { model, flip } = trainNbpo(feedback, { learner, maxEpochs, dimension: 30, flipDimension: 30, rng: randomStream('bench') });
    model.dispose();
    flip?.dispose();
  };
  const nbpoLearners: [string, NbpoLearner][] = [
    ['bpo (5,000 × (1 + 4) pairs per step)', 'bpo'],
    ['nbpoo', 'nbpoo'],
    ['nbpo (surrogate gradient)', 'nbpo'],
  ];
  for (const [, learner] of nbpoLearners) runNbpo(learner, 1);
  for (const [name, learner] of nbpoLearners) {
    const started = performance.now();
    runNbpo(learner, nbpoEpochs);
    measured.push([name, nbpoPairs(nbpoEpochs) / ((performance.now() - started) / 1000)]);
  }
  const baseline = measured[0][1];
  return measured.map(([name, value]) => ({ group: `recommender training (${tf.getBackend()})`, name, unit: 'pairs/s', value, ratio: value / baseline }));
}

/** Users click `perUser` distinct items each, drawn with probability ∝ 1/rank (Zipf). */
function syntheticFeedback(numUsers: number, numItems: number, perUser: number): ImplicitFeedback {
  const rng = randomStream('bench-feedback');
  const cumulative = new Float64Array(numItems);
  for (let i = 0, total = 0; i < numItems; i++) cumulative[i] = total += 1 / (i + 1);
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const chosen = new Set<number>();
    while (chosen.size < perUser) {
      const x = rng.uniform() * cumulative[numItems - 1];
      let i = 0;
      while (cumulative[i] < x) i++;
      chosen.add(i);
    }
    for (const i of chosen) {
      users.push(u);
      items.push(i);
    }
  }
  return { numUsers, numItems, user: Int32Array.from(users), item: Int32Array.from(items) };
}
