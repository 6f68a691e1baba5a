import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/runner/experiment.js';
import { writeExperimentReport } from '../../src/runner/experiment-report.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { examinationProbabilities, relativeToFirst } from '../../src/simulation/examination.js';

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
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), `clicklab-${prefix}-`));

describe('clicklab run', () => {
  it('runs the protocol end to end and writes the tidy table and the reports', async () => {
    const experiment = parseExperiment(tiny);
    const methods = ['logging', 'skyline', 'naive', 'ips', 'ips-estimated', 'clipped-ips@5', 'dla'];
    expect(experiment.methods).toEqual(methods);
    const out = tmp('run');
    const state = await runExperiment(experiment, { outDir: out, backend: 'wasm' });
    expect(state).toMatchObject({ complete: true, ran: 2, reused: 0 });
    const summary = await writeExperimentReport(experiment, state.cells!, out);

    // Per seed: every method scored on the 105 MQ2008 fold-1 test queries that have a relevant document.
    const [cell] = state.cells!;
    for (const outcome of cell.outcomes) {
      expect(Object.keys(outcome.units!)).toEqual(methods);
      for (const method of methods) for (const metric of experiment.metrics) expect(outcome.units![method][metric]).toHaveLength(105);
    }
    // Every mean over seeds is a metric value in (0, 1], from two seeds.
    expect(summary).toHaveLength(methods.length * experiment.metrics.length);
    for (const row of summary) {
      expect(row.seeds).toBe(2);
      expect(row.mean).toBeGreaterThan(0);
      expect(row.mean).toBeLessThanOrEqual(1);
    }
    // Propensities: the truth (v_k^η relative to rank 1), DLA's learned ones and the RandTop-n estimate, per seed.
    const truth = Array.from(relativeToFirst(examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10)));
    for (const outcome of cell.outcomes) {
      const extras = outcome.extras as { truePropensities: number[]; estimatedPropensities: number[]; learnedPropensities: Record<string, number[]> };
      expect(extras.truePropensities).toEqual(truth);
      expect(Object.keys(extras.learnedPropensities)).toEqual(['dla']);
      expect(extras.learnedPropensities.dla).toHaveLength(10);
      expect(extras.estimatedPropensities).toHaveLength(10);
      expect(extras.estimatedPropensities[0]).toBe(1);
    }

    // The tidy table: 7 methods × 5 metrics × 2 seeds; the reports: comparison, propensities, clipping effect.
    const rows = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { method: string; metric: string; seed: number; value: number }[];
    expect(rows).toHaveLength(methods.length * experiment.metrics.length * 2);
    expect([...new Set(rows.map((r) => r.seed))]).toEqual([1, 2]);
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/^# tiny\n/);
    expect(report).toMatch(/\| rank \| true \| RandTop-n estimate \| dla \(learned\) \|/);
    expect(report).toMatch(/### Clipping effect\n/);
    expect(report).toMatch(/\| rank \| IPS weight \| M=5: E\[weighted click\]\/rel \| M=5: variance vs IPS \|/);
    // Clipping at M = 5 leaves ranks with weight ≤ 5 alone and scales the others' clicks by M·p_k/p_1 < 1.
    for (let k = 0; k < 10; k++) {
      const w = 1 / truth[k];
      const expected = w <= 5 ? `| ${k + 1} | ${w.toFixed(2)} | 1.000 | 1 |` : `| ${k + 1} | ${w.toFixed(2)} | ${(5 * truth[k]).toFixed(3)} | ${((5 / w) ** 2).toFixed(3)} |`;
      expect(report).toContain(expected);
    }
  });

  it('reports a bad scenario with the field path and exits non-zero', () => {
    const file = path.join(tmp('bad'), 'bad.json');
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
