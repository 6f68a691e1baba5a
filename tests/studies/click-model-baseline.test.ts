import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/runner/experiment.js';
import { runExperiment } from '../../src/runner/run-experiment.js';

/** The ULTR protocol on MQ2008 at a tiny size with click-model baselines: every box runs. */
const tiny = {
  name: 'tiny-click-model',
  loggingRanker: { steps: 20 },
  sessions: 3000,
  model: { type: 'mlp', hidden: [8] },
  training: { steps: 30, batchSize: 16, evalEvery: 10 },
  learners: ['naive', 'click-model', { type: 'click-model', model: 'dbn', iterations: 5 }],
  seeds: [1],
};

describe('click-model baselines in a scenario', () => {
  it('fit PBM and DBN to the seed log, train on their relevance estimates and score every test query', async () => {
    const experiment = parseExperiment(tiny);
    const methods = ['logging', 'skyline', 'naive', 'click-model:pbm', 'click-model:dbn'];
    expect(experiment.methods).toEqual(methods);
    const state = await runExperiment(experiment, { outDir: mkdtempSync(path.join(tmpdir(), 'clicklab-click-model-')), backend: 'wasm' });
    expect(state).toMatchObject({ complete: true, ran: 1 });
    const [outcome] = state.cells![0].outcomes;
    for (const method of methods) {
      for (const metric of experiment.metrics) {
        const values = outcome.units![method][metric];
        expect(values).toHaveLength(105); // MQ2008 fold-1 test queries with a relevant document
        for (const v of values) expect(v >= 0 && v <= 1).toBe(true);
      }
    }
    // The baselines' rankers differ from the naive one (they train on other labels and lists).
    expect(outcome.units!['click-model:pbm']['ndcg@10']).not.toEqual(outcome.units!.naive['ndcg@10']);
  });
});

describe('clicklab train --learner click-model', () => {
  const cli = path.resolve('dist/cli/main.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-click-model-train-'));
  const log = path.join(dir, 'clicks.csv');

  it('fits the named click model to a click-log file, trains on its labels and records the fit in the model', () => {
    execFileSync(process.execPath, [cli, 'simulate', '--out', log, '--sessions', '3000', '--logger', 'file-order', '--quiet'], { stdio: 'pipe' });
    const modelDir = path.join(dir, 'model');
    const args = ['--log', log, '--hidden', '8', '--steps', '20', '--eval-every', '10', '--batch-size', '16', '--backend', 'wasm', '--quiet'];
    const trained = execFileSync(process.execPath, [cli, 'train', '--learner', 'click-model', '--fit-model', 'ubm', '--em-iterations', '5', ...args, '--out', modelDir], { encoding: 'utf8' });
    expect(trained).toMatch(/click-model: best validation nDCG@10 0\.\d{4} at step \d+; model written to/);
    expect(JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')).learner).toMatchObject({ type: 'click-model', fitModel: 'ubm', emIterations: 5 });

    const stderr = (extra: string[]) => {
      try {
        execFileSync(process.execPath, [cli, 'train', ...extra, ...args, '--out', path.join(dir, 'bad')], { stdio: 'pipe' });
      } catch (error) {
        return String((error as { stderr: Buffer }).stderr);
      }
      throw new Error('no error');
    };
    expect(stderr(['--learner', 'naive', '--fit-model', 'pbm'])).toMatch(/--fit-model: only --learner click-model fits a click model, found --learner naive/);
    expect(stderr(['--learner', 'click-model', '--fit-model', 'pmb'])).toMatch(/fit-model.*Invalid values|Invalid values.*pmb/s);
  });
});
