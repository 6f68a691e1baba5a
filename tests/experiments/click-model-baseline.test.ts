import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/experiments/experiment.js';
import { runExperiment } from '../../src/experiments/run-experiment.js';

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
