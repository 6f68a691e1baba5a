import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { loadRankingDataset } from '../../src/data/datasets.js';
import { parseExperiment } from '../../src/runner/experiment.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { loadScenario, type Scenario } from '../../src/studies/ultr/scenario.js';
import type { CellOutcomes } from '../../src/studies/study-kind.js';
import { ultrStudy } from '../../src/studies/ultr/study.js';
import { initBackend } from '../../src/learning/backend.js';
import { labelBatches } from '../../src/learning/batches.js';
import { ScoringModel } from '../../src/learning/model.js';
import { applyNormalization, loadModel, saveModel } from '../../src/learning/model-io.js';
import { writeClickLog } from '../../src/data/click-log-io.js';
import { readLetorFileSync } from '../../src/data/letor.js';
import { featureStats } from '../../src/data/normalize.js';
import { trainModel } from '../../src/studies/ultr/train-model.js';
import { rankByScores } from '../../src/policies/ranking.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities } from '../../src/simulation/examination.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { listwiseObjective } from '../../src/learning/objectives.js';
import { train } from '../../src/learning/trainer.js';
import { syntheticWorld } from '../helpers/synthetic.js';

await initBackend('wasm');
const cli = path.resolve('dist/cli/main.js');

describe('model folders', () => {
  it('a saved model loads with the same architecture and scores every document the same', () => {
    const world = syntheticWorld(50, 10, 1);
    const model = new ScoringModel({ type: 'mlp', hidden: [8, 4] }, 3, randomStream('init'));
    train(model, listwiseObjective(), labelBatches(world, 16), { steps: 20, learningRate: 0.05, clipNorm: 5, evalEvery: 20, rng: randomStream('b') });
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-model-'));
    saveModel(dir, model, { normalization: { type: 'per-feature', min: [0, 0, 0], max: [1, 2, 3] }, maxGrade: 2, learner: { type: 'naive' }, training: { steps: 20 } });
    const { model: loaded, description } = loadModel(dir);
    expect(description.architecture).toEqual({ type: 'mlp', hidden: [8, 4], activation: 'elu', output: 'linear' });
    expect(description.weights.map((w) => w.shape)).toEqual([[3, 8], [8], [8, 4], [4], [4, 1], [1]]);
    expect(Array.from(loaded.scoreArray(world.features))).toEqual(Array.from(model.scoreArray(world.features)));
    truncateSync(path.join(dir, 'weights.bin'), 100);
    expect(() => loadModel(dir)).toThrow(DataFormatError);
    expect(() => loadModel(dir)).toThrow(/weights\.bin.*runs past the end/);
    model.dispose();
    loaded.dispose();
  });
});

describe('trainModel from LETOR files', () => {
  it('normalises per feature with the training statistics and saves them, so that scoring applies the same', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-letor-'));
    const [trainFile, validationFile] = ['S1', 'S2'].map((part) => path.resolve(`datasets/mq2008/${part}.txt.gz`));
    const raw = readLetorFileSync(trainFile);
    const lists = rankByScores(raw, new Float32Array(raw.labels.length), 10);
    const { log } = simulateSessions(lists, {
      numSessions: 2000,
      clickModel: new PositionBasedModel(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10)),
      relevance: new Float32Array(raw.labels.length).fill(0.3),
      rng: randomStream(1),
      truth: false,
    });
    const logFile = path.join(dir, 'log.csv');
    await writeClickLog(logFile, { log });
    const out = path.join(dir, 'model');
    const { description } = await trainModel({
      learner: { type: 'naive' },
      clicks: { log: logFile, data: { train: trainFile, validation: validationFile, normalization: 'per-feature' } },
      model: { type: 'linear' },
      training: { steps: 10, batchSize: 16, learningRate: 0.05, clipNorm: 5, evalEvery: 5 },
      seed: 1,
      out,
    });
    const stats = featureStats(raw);
    expect(description.normalization).toEqual({ type: 'per-feature', min: Array.from(stats.min), max: Array.from(stats.max) });
    const { model } = loadModel(out);
    const normalized = applyNormalization(raw, description.normalization);
    // Every training feature lands in [−1, 1] (constant features at 0).
    expect(normalized.features.every((x) => Math.abs(x) <= 1 + 1e-6)).toBe(true);
    expect(model.scoreArray(normalized.features)).toHaveLength(raw.labels.length);
    model.dispose();
  });
});

describe('early stopping', () => {
  it('stops after `patience` validations without improvement and restores the best checkpoint', () => {
    const world = syntheticWorld(50, 10, 2);
    const model = new ScoringModel({ type: 'linear' }, 3, randomStream('init'));
    const scores = [0.5, 0.7, 0.6, 0.65, 0.69, 0.9];
    let calls = 0;
    const history = train(model, listwiseObjective(), labelBatches(world, 8), {
      steps: 60,
      learningRate: 0.05,
      clipNorm: 5,
      evalEvery: 10,
      patience: 3,
      validate: () => scores[calls++],
      rng: randomStream('b'),
    });
    // Best 0.7 at step 20, then 0.6, 0.65, 0.69: three without improvement, so it stops at step 50.
    expect(history.stoppedAt).toBe(50);
    expect(history.bestStep).toBe(20);
    expect(history.curve.map((c) => c.step)).toEqual([10, 20, 30, 40, 50]);
    model.dispose();
  });
});

describe('clicklab train and clicklab score', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-train-'));
  const log = path.join(dir, 'clicks.csv');
  beforeAll(() => {
    execFileSync(process.execPath, [cli, 'simulate', '--out', log, '--sessions', '3000', '--logger', 'file-order', '--quiet'], { stdio: 'pipe' });
  });

  it('train a learner from a click-log file, save the model, score a LETOR file with it', () => {
    const modelDir = path.join(dir, 'model');
    const trained = execFileSync(
      process.execPath,
      [
        cli,
        'train',
        '--learner',
        'affine',
        '--log',
        log,
        '--click-model',
        'pbm',
        '--hidden',
        '8',
        '--steps',
        '40',
        '--eval-every',
        '10',
        '--batch-size',
        '32',
        '--out',
        modelDir,
        '--backend',
        'wasm',
        '--quiet',
      ],
      { encoding: 'utf8' },
    );
    expect(trained).toMatch(/affine: best validation nDCG@10 0\.\d{4} at step \d+; model written to/);
    const description = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
    expect(description.learner.alpha).toHaveLength(10);
    expect(description.training.clicks.log).toBe(log);

    const scoresFile = path.join(dir, 'scores.txt');
    const testFile = path.resolve('datasets/mq2008/S5.txt.gz');
    const report = execFileSync(process.execPath, [cli, 'score', modelDir, testFile, '--out', scoresFile, '--backend', 'wasm'], { encoding: 'utf8' });
    const test = loadRankingDataset('mq2008', { fold: 1 }).test;
    const lines = readFileSync(scoresFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(test.labels.length);
    expect(report).toMatch(/over the 105 queries with a relevant document: ndcg@1 0\.\d{4}, .*ndcg@10 0\.\d{4}, err@10 0\.\d{4}/);
    // The CLI's scores are the loaded model's.
    const { model } = loadModel(modelDir);
    const direct = model.scoreArray(test.features);
    expect(lines.slice(0, 50).map(Number)).toEqual(Array.from(direct.subarray(0, 50)));
    model.dispose();
  });

  it('ips from a log file without propensities or a click model is an error that says what is missing', () => {
    let message = '';
    try {
      execFileSync(process.execPath, [cli, 'train', '--learner', 'ips', '--log', log, '--steps', '5', '--out', path.join(dir, 'm'), '--backend', 'wasm', '--quiet'], { stdio: 'pipe' });
    } catch (error) {
      message = String((error as { stderr: Buffer }).stderr);
    }
    expect(message).toMatch(/clicklab: --click-model: ips on a log file needs the examination propensities: --click-model \(e\.g\. pbm\) or --propensities/);
  });
});

describe('scenarios with the new learners and estimators', () => {
  it('the shipped debiasing scenarios parse', () => {
    expect(loadScenario('sim/ultr-mq2008-debias.json').learners).toHaveLength(8);
    expect(loadScenario('sim/ultr-mq2008-trust.json').clickModel.type).toBe('trust-bias');
  });

  it('every learner runs end to end under trust bias, with RandPair and harvested estimates', async () => {
    const base = {
      name: 'tiny-trust',
      loggingRanker: { steps: 20 },
      clickModel: { type: 'trust-bias', epsilon: 0 },
      sessions: 3000,
      model: { type: 'mlp', hidden: [8] },
      training: { steps: 20, batchSize: 16, evalEvery: 10 },
      learners: ['naive', { type: 'ips', propensities: 'estimated' }, 'regression-em', 'pairwise-debias', 'affine', 'doubly-robust'],
      seeds: [1],
    };
    for (const intervention of ['swap', 'harvest'] as const) {
      const experiment = parseExperiment({ ...base, propensityEstimation: { intervention, sessions: 20_000, rankers: 3 } });
      const state = await runExperiment(experiment, { outDir: mkdtempSync(path.join(tmpdir(), 'clicklab-trust-')), backend: 'wasm' });
      const methods = ['logging', 'skyline', 'naive', 'ips-estimated', 'regression-em', 'pairwise-debias', 'affine', 'doubly-robust'];
      expect(experiment.methods).toEqual(methods);
      const [outcome] = state.cells![0].outcomes;
      const estimate = outcome.extras!.estimatedPropensities as number[];
      expect(estimate).toHaveLength(10);
      expect(estimate[0]).toBe(1);
      for (const method of methods) expect(outcome.values.find((v) => v.method === method && v.metric === 'ndcg@10')!.value).toBeGreaterThan(0);
      // The propensity table names the estimate by its intervention and shows what regression EM and pairwise debiasing learned.
      const [table] = ultrStudy.tables!(state.cells! as CellOutcomes<Scenario>[]);
      expect(table.rows[0]).toEqual(['rank', 'true', `${intervention === 'swap' ? 'RandPair' : 'harvested'} estimate`, 'regression-em (learned)', 'pairwise-debias (learned)']);
      expect(table.rows).toHaveLength(11);
    }
  });
});
