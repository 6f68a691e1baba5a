import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog, RankingData } from '../../src/core/types.js';
import { initBackend } from '../../src/learning/backend.js';
import { trainFromClicks } from '../../src/learning/click-learners.js';
import { clickModelLabels } from '../../src/learning/click-model-labels.js';
import { ScoringModel } from '../../src/learning/model.js';
import { rankByScores } from '../../src/policies/ranking.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities } from '../../src/simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../../src/simulation/relevance.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { featureColumn, syntheticWorld } from '../helpers/synthetic.js';

const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);

/** A PBM click log on the top 10 of `world` ranked by feature 1 (independent of relevance), optionally shuffled per session. */
function pbmLog(world: RankingData, numSessions: number, intervention: 'none' | 'shuffle'): { log: ClickLog; relevance: Float32Array } {
  const relevance = relevanceProbabilities(world.labels, gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 }));
  const { log } = simulateSessions(rankByScores(world, featureColumn(world, 1), 10), {
    numSessions,
    clickModel: new PositionBasedModel(examination),
    relevance,
    rng: randomStream('click-model-labels'),
    intervention,
  });
  return { log, relevance };
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

await initBackend('wasm');

describe('click-model labels', () => {
  const world = syntheticWorld(100, 20, 3);

  it('PBM and UBM fitted to a shuffled PBM log estimate relevance as well as the sampling noise allows', () => {
    // Under RandTop-10 every displayed document is seen at every rank alike, so P(click) = γ̄ · P(R)
    // with γ̄ the mean examination: an estimate of P(R) from n_q sessions has variance about
    // p(1 − p) / (n_q γ̄²), p = γ̄ P(R). The correlation that noise allows over the labelled documents is
    //   ρ = sqrt(Var(P(R)) / (Var(P(R)) + E[noise variance])),
    // and a fit that maps its pair ids back to the wrong documents would be near 0.
    const { log, relevance } = pbmLog(world, 20_000, 'shuffle');
    const sessionsOfQuery = new Float64Array(100);
    for (const q of log.sessionQuery) sessionsOfQuery[q]++;
    const meanExamination = examination.reduce((a, b) => a + b, 0) / examination.length;
    for (const model of ['pbm', 'ubm'] as const) {
      const { labels, lists, labelled } = clickModelLabels(log, world.labels.length, { model });
      expect(labelled).toBe(1000);
      const rows = lists.flatMap((l) => Array.from(l));
      const truth = rows.map((r) => relevance[r]);
      const meanTruth = truth.reduce((a, b) => a + b, 0) / truth.length;
      const signal = truth.reduce((a, t) => a + (t - meanTruth) ** 2, 0) / truth.length;
      const noise =
        rows.reduce((a, r) => {
          const p = meanExamination * relevance[r];
          return a + (p * (1 - p)) / (sessionsOfQuery[Math.floor(r / 20)] * meanExamination ** 2);
        }, 0) / rows.length;
      const expected = Math.sqrt(signal / (signal + noise));
      // The sample correlation of 1000 pairs has a standard error of about (1 − ρ²)/√1000 < 0.003.
      expect(
        pearson(
          rows.map((r) => labels[r]),
          truth,
        ),
      ).toBeGreaterThan(expected - 0.02);
    }
  });

  it('labels exactly the displayed documents of each query, and leaves the never-shown ones out', () => {
    const { log } = pbmLog(world, 5000, 'none');
    const { labels, lists, labelled } = clickModelLabels(log, world.labels.length, { model: 'dbn', iterations: 10 });
    const displayed = rankByScores(world, featureColumn(world, 1), 10);
    expect(labelled).toBe(1000);
    expect(lists).toHaveLength(100);
    for (let q = 0; q < 100; q++) {
      const shown = Array.from(displayed.documents.subarray(displayed.offsets[q], displayed.offsets[q + 1])).sort((a, b) => a - b);
      expect(Array.from(lists[q])).toEqual(shown);
      for (let row = q * 20; row < q * 20 + 20; row++) {
        if (shown.includes(row)) expect(labels[row]).toBeGreaterThan(0);
        else expect(labels[row]).toBe(0);
      }
    }
  });

  it('trains a ranker end to end without leaking tensors: tf.memory().numTensors stays flat', () => {
    const { log } = pbmLog(world, 5000, 'shuffle');
    const model = new ScoringModel({ type: 'mlp', hidden: [8, 4] }, world.numFeatures, randomStream('init'));
    const rng = randomStream('batches');
    const run = (steps: number) =>
      trainFromClicks(model, { type: 'click-model', clickModel: 'ubm', emIterations: 10 }, world, log, { steps, batchSize: 32, learningRate: 0.05, clipNorm: 5, evalEvery: 5, rng });
    run(5); // the optimizer's slots are created on the first steps
    const before = tf.memory().numTensors;
    run(300);
    expect(tf.memory().numTensors).toBe(before);
    // Relevance lives in feature 0, the logger's order in feature 1: the ranker learns the former.
    const w = model.scoreArray(world.features);
    expect(pearson(w, featureColumn(world, 0))).toBeGreaterThan(0.8);
    model.dispose();
  });
});
