import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { RankingData } from '../../src/core/types.js';
import { parseMetric, perQueryMetric } from '../../src/evaluation/metrics.js';
import { initBackend } from '../../src/learning/backend.js';
import { clickBatches } from '../../src/learning/batches.js';
import { ScoringModel } from '../../src/learning/model.js';
import { dlaObjective, ipsObjective, listwiseObjective, type Objective } from '../../src/learning/objectives.js';
import { train } from '../../src/learning/trainer.js';
import { rankByScores } from '../../src/policies/ranking.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities, relativeToFirst } from '../../src/simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../../src/simulation/relevance.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { featureColumn, syntheticWorld } from '../helpers/synthetic.js';

const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
const truth = Array.from(relativeToFirst(examination));

/** Simulate a PBM click log on `world` where the logger ranks by `loggingScores`. */
function clickLog(world: RankingData, loggingScores: Float32Array, seed: number) {
  const relevance = relevanceProbabilities(world.labels, gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 }));
  return simulateSessions(rankByScores(world, loggingScores, 10), {
    numSessions: 50_000,
    clickModel: new PositionBasedModel(examination),
    relevance,
    rng: randomStream(seed),
  }).log;
}

function fit(world: RankingData, log: ReturnType<typeof clickLog>, objective: Objective, steps: number) {
  const model = new ScoringModel({ type: 'linear' }, world.numFeatures, randomStream('init'));
  train(model, objective, clickBatches(world, log, 128), { steps, learningRate: 0.05, clipNorm: 5, evalEvery: steps, rng: randomStream('batches') });
  return model;
}

function meanNdcg(model: ScoringModel, data: RankingData): number {
  const values = perQueryMetric(data, model.scoreArray(data.features), parseMetric('ndcg@10'), 2);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

await initBackend('wasm');

describe('learning from position-biased clicks', () => {
  // The logger sorts by feature 1, which is independent of relevance: under position bias the
  // top-ranked documents collect more clicks, so clicks correlate with feature 1.
  const world = syntheticWorld(500, 10, 1);
  const test = syntheticWorld(200, 10, 2);
  const log = clickLog(world, featureColumn(world, 1), 5);

  const bias = (model: ScoringModel) => {
    const w = model.variables[0].dataSync();
    return w[1] / w[0];
  };
  const naive = fit(world, log, listwiseObjective(), 1500);
  const ips = fit(world, log, ipsObjective(truth), 1500);

  it('naive learning absorbs the position bias; IPS with oracle propensities does not', () => {
    // Relevance depends on feature 0 alone. Naive puts a large weight on the logger's feature;
    // IPS's weight on it is near zero relative to the relevance feature.
    expect(bias(naive)).toBeGreaterThan(0.4);
    expect(Math.abs(bias(ips))).toBeLessThan(0.08);
    expect(meanNdcg(ips, test)).toBeGreaterThan(meanNdcg(naive, test) + 0.03);
  });

  it('clipped IPS sits between naive and IPS, nearer IPS the higher the cap', () => {
    const clippedAt = (cap: number) => {
      const model = fit(world, log, ipsObjective(truth, cap), 1500);
      const b = bias(model);
      model.dispose();
      return b;
    };
    const [low, high] = [clippedAt(2), clippedAt(5)];
    expect(low).toBeLessThan(bias(naive));
    expect(high).toBeLessThan(low - 0.1);
    expect(high).toBeGreaterThan(bias(ips) + 0.05);
  });

  it('DLA recovers the true propensity ratios when the logger is not a function of the features', () => {
    // A hidden random logging order (not among the features) makes position bias identifiable.
    const rng = randomStream('hidden order');
    const hidden = Float32Array.from({ length: world.labels.length }, () => rng.uniform());
    const objective = dlaObjective(10);
    const model = fit(world, clickLog(world, hidden, 6), objective, 6000);
    const learned = objective.learnedPropensities!();
    for (let k = 0; k < 10; k++) expect(Math.abs(learned[k] - truth[k])).toBeLessThan(0.07);
    // Its ranker is as good as the true-relevance order on held-out queries.
    expect(meanNdcg(model, test)).toBeGreaterThan(0.98);
    model.dispose();
    objective.dispose();
  }, 180_000); // 6,000 training steps: minutes on a loaded 2-core machine

  it('training leaks no tensors: tf.memory().numTensors stays flat across steps', () => {
    for (const objective of [listwiseObjective(), ipsObjective(truth, 5), dlaObjective(10)]) {
      const model = new ScoringModel({ type: 'mlp', hidden: [8, 4] }, world.numFeatures, randomStream('init'));
      const source = clickBatches(world, log, 32);
      const rng = randomStream('batches');
      const run = (steps: number) => train(model, objective, source, { steps, learningRate: 0.05, clipNorm: 5, evalEvery: 5, rng, validate: () => meanNdcg(model, test) });
      run(5); // the optimizer's slots are created on the first steps
      const before = tf.memory().numTensors;
      run(30);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      objective.dispose();
    }
  });
});
