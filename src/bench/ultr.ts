import { randomStream } from '../core/random.js';
import type { RankingData } from '../core/types.js';
import { trainFromClicks, type ClickLearnerSpec } from '../learning/click-learners.js';
import { ScoringModel } from '../learning/model.js';
import { rankByScores } from '../policies/ranking.js';
import { PositionBasedModel } from '../simulation/click-models/pbm.js';
import { examinationProbabilities, relativeToFirst } from '../simulation/examination.js';
import { simulateSessions } from '../simulation/sessions.js';
import type { BenchmarkRow } from './rows.js';

/**
 * Documents per second of a training step of every click learner, batch 256 lists × 10 documents
 * × 136 features (MSLR-WEB's width), MLP 64-32, as ratios to plain listwise training (naive)
 * measured in the same process: after a warm-up, three interleaved rounds of steps/3 steps per
 * learner, each learner's fastest round kept. The doubly robust learner trains a regression model and then the ranker, each for `steps`
 * steps: its row counts the ranker's documents over the time of both stages.
 */
export function ultrLearnerRows(steps: number): BenchmarkRow[] {
  const numFeatures = 136;
  const numQueries = 2000;
  const rng = randomStream('bench ultr');
  const n = numQueries * 10;
  const features = Float32Array.from({ length: n * numFeatures }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => (features[i * numFeatures] > 0.5 ? 2 : features[i * numFeatures] > -0.5 ? 1 : 0));
  const data: RankingData = {
    source: 'benchmark',
    numFeatures,
    features,
    labels,
    queryOffsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => q * 10),
    qids: Array.from({ length: numQueries }, String),
    docIds: null,
  };
  const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
  const relevance = Float32Array.from(labels, (y) => [0.1, 0.4, 1][y]);
  const { log } = simulateSessions(rankByScores(data, new Float32Array(n), 10), {
    numSessions: 50_000,
    clickModel: new PositionBasedModel(examination),
    relevance,
    rng: rng.derive('clicks'),
    truth: false,
  });
  const propensities = Array.from(relativeToFirst(examination));
  const alpha = Array.from(examination);
  const beta = alpha.map(() => 0);
  const learners: [string, ClickLearnerSpec][] = [
    ['naive (listwise softmax)', { type: 'naive' }],
    ['ips', { type: 'ips', propensities }],
    ['clipped-ips@5', { type: 'clipped-ips', propensities, maxWeight: 5 }],
    ['dla', { type: 'dla' }],
    ['regression-em', { type: 'regression-em' }],
    ['pairwise-debias', { type: 'pairwise-debias' }],
    ['affine', { type: 'affine', alpha, beta }],
    ['doubly-robust (both stages)', { type: 'doubly-robust', alpha, beta }],
  ];
  // Interleaved rounds, each learner's fastest kept: on a shared machine the load changes within
  // seconds, and a single pass per learner lets that noise into the ratios.
  const rounds = 3;
  const perRound = Math.max(1, Math.round(steps / rounds));
  const models = learners.map(() => new ScoringModel({ type: 'mlp', hidden: [64, 32] }, numFeatures, randomStream('init')));
  const run = (i: number, n: number) =>
    trainFromClicks(models[i], learners[i][1], data, log, { batchSize: 256, learningRate: 0.05, clipNorm: 5, rng: randomStream('batches'), steps: n, evalEvery: n });
  learners.forEach((_, i) => {
    run(i, Math.max(1, Math.round(perRound / 5)));
  });
  const best = new Array<number>(learners.length).fill(0);
  for (let round = 0; round < rounds; round++) {
    learners.forEach((_, i) => {
      const started = performance.now();
      run(i, perRound);
      best[i] = Math.max(best[i], (perRound * 256 * 10) / ((performance.now() - started) / 1000));
    });
  }
  models.forEach((m) => {
    m.dispose();
  });
  const measured = learners.map(([name], i): [string, number] => [name, best[i]]);
  const baseline = measured[0][1];
  const group = 'ULTR learners (256 × 10 docs × 136 features, MLP 64-32)';
  return measured.map(([name, value]) => ({ group, name, unit: 'docs/s', value, ratio: value / baseline }));
}
