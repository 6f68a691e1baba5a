import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/learning/backend.js';
import { formatResult, runScenario, writeRunOutputs } from '../../src/experiments/run-scenario.js';
import { parseScenario } from '../../src/experiments/scenario.js';

/** The whole protocol on MQ2008 at a tiny size: every box runs, nothing is checked for quality. */
const tiny = {
  name: 'tiny',
  loggingRanker: { steps: 20 },
  sessions: 3000,
  propensityEstimation: { sessions: 20000 },
  model: { type: 'mlp', hidden: [8] },
  training: { steps: 30, batchSize: 16, evalEvery: 10 },
  learners: ['naive', 'ips', { type: 'ips', propensities: 'estimated' }, { type: 'clipped-ips', maxWeight: 5 }, 'dla'],
  seeds: [1, 2],
};

describe('clicklab run', () => {
  it('runs the protocol end to end and writes results.json and report.md', async () => {
    const backend = await initBackend('wasm');
    const scenario = parseScenario(tiny);
    const result = await runScenario(scenario, { backend, workers: 1 });
    expect(result.methods.map((m) => m.method)).toEqual(['logging', 'skyline', 'naive', 'ips', 'ips-estimated', 'clipped-ips@5', 'dla']);
    expect(result.data.test.queries).toBe(105);
    for (const m of result.methods) {
      for (const metric of scenario.metrics) {
        expect(m.metrics[metric].perSeed).toHaveLength(2);
        expect(m.metrics[metric].mean).toBeGreaterThan(0);
        expect(m.metrics[metric].mean).toBeLessThanOrEqual(1);
      }
    }
    expect(result.methods.find((m) => m.method === 'dla')!.propensities!.mean).toHaveLength(10);
    expect(result.methods.find((m) => m.method === 'ips')!.propensities!.mean).toEqual(result.truePropensities);
    expect(result.estimatedPropensities!.perSeed).toHaveLength(2);
    expect(formatResult(result)).toMatch(/dla learned/);

    const out = mkdtempSync(path.join(tmpdir(), 'clicklab-run-'));
    writeRunOutputs(result, out);
    const saved = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(saved.backend.name).toBe('wasm');
    expect(saved.seeds).toEqual([1, 2]);
    expect(saved.methods[2].metrics['ndcg@10'].perSeed).toHaveLength(2);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/# tiny/);
  });

  it('reports a bad scenario with the field path and exits non-zero', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-bad-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', clickModel: { eta: 'high' } }));
    let stderr = '';
    try {
      execFileSync(process.execPath, [path.resolve('dist/cli/main.js'), 'run', file], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/clickModel\.eta: expected a number ≥ 0, found "high"/);
  });
});
