import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { confidenceHalfWidth, mean, pairedTTest } from '../../src/evaluation/statistics.js';
import { parseExperiment } from '../../src/runner/experiment.js';
import { writeExperimentReport } from '../../src/runner/experiment-report.js';
import type { SummaryRow } from '../../src/runner/experiment-results.js';
import { runExperiment, taskFile } from '../../src/runner/run-experiment.js';
import { compareRuns, welchP } from '../../src/runner/compare-runs.js';

const bandit = {
  schema: 'clicklab/scenario@2',
  name: 'bandit-grid',
  study: 'bandit',
  world: { items: 20, slateSize: 4 },
  rounds: 1500,
  curvePoints: 10,
  policies: ['bernoulli-ts', 'pbm-ts', 'random'],
  grid: { 'clickModel.eta': [0.5, 2], 'world.attractiveness.high': [0.3, 0.6] },
  seeds: [1, 2, 3],
};
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), `clicklab-${prefix}-`));
const outputs = (dir: string) => ['results.csv', 'results.json', 'results.parquet', 'summary.json'].map((f) => readFileSync(path.join(dir, f)).toString('base64'));

describe('runExperiment', () => {
  it('resumes an interrupted run to the same files as an uninterrupted one', async () => {
    const experiment = parseExperiment(bandit);
    const fresh = tmp('fresh');
    const state = await runExperiment(experiment, { outDir: fresh });
    expect(state).toMatchObject({ complete: true, ran: 12, reused: 0 });
    await writeExperimentReport(experiment, state.cells!, fresh);

    const resumed = tmp('resumed');
    expect(await runExperiment(experiment, { outDir: resumed, stopAfter: 5 })).toMatchObject({ complete: false, ran: 5, cells: undefined });
    // A kill during a write leaves only a temporary file, never a partial result.
    writeFileSync(`${taskFile(resumed, 'c2', 3)}.999.tmp`, '{"values": [');
    await expect(runExperiment(experiment, { outDir: resumed })).rejects.toThrow(/already holds a run: pass --resume/);
    await expect(runExperiment(parseExperiment({ ...bandit, rounds: 1000 }), { outDir: resumed, resume: true })).rejects.toThrow(/holds a run of a different scenario/);
    const rest = await runExperiment(experiment, { outDir: resumed, resume: true });
    expect(rest).toMatchObject({ complete: true, ran: 7, reused: 5 });
    await writeExperimentReport(experiment, rest.cells!, resumed);
    expect(outputs(resumed)).toEqual(outputs(fresh));

    // The tidy table: 4 cells × 3 policies × 2 metrics × 3 seeds, the same rows in every format.
    const rows = JSON.parse(readFileSync(path.join(fresh, 'results.json'), 'utf8')) as Record<string, string | number>[];
    expect(rows).toHaveLength(72);
    expect(Object.keys(rows[0])).toEqual(['cell', 'clickModel.eta', 'world.attractiveness.high', 'method', 'metric', 'seed', 'value']);
    const parquet = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(fresh, 'results.parquet')) });
    expect(parquet.map((r) => [r.cell, r['clickModel.eta'], r.method, r.metric, r.seed, r.value])).toEqual(rows.map((r) => [r.cell, r['clickModel.eta'], r.method, r.metric, r.seed, r.value]));
    expect(readFileSync(path.join(fresh, 'results.csv'), 'utf8').split('\n')[0]).toBe('cell,clickModel.eta,world.attractiveness.high,method,metric,seed,value');

    // Summary statistics recomputed independently from the tidy rows: paired over seeds against bernoulli-ts.
    const summary = JSON.parse(readFileSync(path.join(fresh, 'summary.json'), 'utf8')) as SummaryRow[];
    const seedsOf = (cell: string, method: string) => rows.filter((r) => r.cell === cell && r.method === method && r.metric === 'regret').map((r) => r.value as number);
    for (const row of summary.filter((r) => r.metric === 'regret' && r.method !== 'bernoulli-ts')) {
      const test = pairedTTest(seedsOf(row.cell, row.method), seedsOf(row.cell, 'bernoulli-ts'));
      expect(row.vsBaseline).toMatchObject({ baseline: 'bernoulli-ts', pairedOver: 'seeds', n: 3 });
      expect(row.vsBaseline!.p).toBeCloseTo(test.p, 12);
      expect(row.mean).toBeCloseTo(seedsOf(row.cell, row.method).reduce((s, x) => s + x, 0) / 3, 9);
    }
    // Uniform random play has far more regret than Thompson sampling in every cell.
    for (const row of summary.filter((r) => r.metric === 'regret' && r.method === 'random')) expect(row.vsBaseline!.meanDifference).toBeGreaterThan(0);

    // Reports: the comparison table, and every chart inlined as SVG in the HTML.
    const html = readFileSync(path.join(fresh, 'report.html'), 'utf8');
    expect(readdirSync(path.join(fresh, 'charts')).sort()).toEqual(['regret-curves.svg', 'regret-vs-clickModel.eta.svg', 'regret-vs-world.attractiveness.high.svg']);
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).toMatch(/<td>pbm-ts<\/td>/);
    expect(readFileSync(path.join(fresh, 'report.md'), 'utf8')).toMatch(
      /\| clickModel\.eta \| world\.attractiveness\.high \| method \| regret \(±95%\) \| clicks \(±95%\) \| Δregret vs bernoulli-ts \(p\) \|/,
    );

    // A run compared with itself: every cell matched, no difference.
    const same = compareRuns(fresh, resumed);
    expect(same.rows).toHaveLength(24);
    expect(same.onlyInA + same.onlyInB).toBe(0);
    for (const r of same.rows) expect([r.difference, r.p]).toEqual([0, 1]);
  });

  it('summarises a v1 scenario as independent computations from its tidy rows and per-query units do', async () => {
    const tiny = {
      name: 'tiny',
      loggingRanker: { steps: 20 },
      sessions: 3000,
      propensityEstimation: { sessions: 20000 },
      model: { type: 'mlp', hidden: [8] },
      training: { steps: 20, batchSize: 16, evalEvery: 10 },
      learners: ['naive', { type: 'ips', propensities: 'estimated' }, 'dla'],
      seeds: [1, 2],
    };
    const experiment = parseExperiment(tiny);
    const state = await runExperiment(experiment, { outDir: tmp('v1'), backend: 'wasm' });
    const reportDir = tmp('v1-report');
    const summary = await writeExperimentReport(experiment, state.cells!, reportDir);
    // The ULTR kind's own table and chart: RandTop-n and DLA propensities against the truth.
    expect(readFileSync(path.join(reportDir, 'report.md'), 'utf8')).toMatch(/\| rank \| true \| RandTop-n estimate \| dla \(learned\) \|\n\|---\|--:\|--:\|--:\|\n\| 1 \| 1\.000 \|/);
    expect(readdirSync(path.join(reportDir, 'charts')).sort()).toEqual(['ndcg_10-by-method.svg', 'propensities.svg']);
    // Recomputed from the tidy rows (one value per seed) and the per-query units behind them: each
    // seed's value is its mean over test queries; mean and 95% half-width over seeds; the paired
    // test against naive runs over test queries, each query averaged over the two seeds.
    const rows = JSON.parse(readFileSync(path.join(reportDir, 'results.json'), 'utf8')) as { method: string; metric: string; seed: number; value: number }[];
    const outcomes = state.cells![0].outcomes;
    const queryMeans = (method: string, metric: string) => {
      const perSeed = outcomes.map((o) => o.units![method][metric]);
      return perSeed[0].map((_, q) => mean(perSeed.map((p) => p[q])));
    };
    expect(summary).toHaveLength(experiment.methods.length * experiment.metrics.length);
    for (const method of experiment.methods) {
      for (const metric of experiment.metrics) {
        const values = rows.filter((r) => r.method === method && r.metric === metric).map((r) => r.value);
        expect(values).toEqual(outcomes.map((o) => mean(o.units![method][metric])));
        const row = summary.find((r) => r.method === method && r.metric === metric)!;
        expect([row.mean, row.ci95]).toEqual([mean(values), confidenceHalfWidth(values)]);
        if (method === 'naive') {
          expect(row.vsBaseline).toBeNull();
        } else {
          const test = pairedTTest(queryMeans(method, metric), queryMeans('naive', metric));
          expect(row.vsBaseline).toEqual({ baseline: 'naive', meanDifference: test.meanDifference, p: test.p, pairedOver: 'units', n: 105 });
        }
      }
    }
    for (const outcome of outcomes) {
      const estimate = outcome.extras!.estimatedPropensities as number[];
      expect(estimate).toHaveLength(10);
      expect(estimate[0]).toBe(1);
    }
  });

  it("Welch's test matches the closed-form t distribution with 6 degrees of freedom", () => {
    // Equal variances and sizes: t = 1/√(2·(5/3)/4), df = 6; P(|T| < t) = sin θ (1 + cos²θ/2 + 3cos⁴θ/8), θ = atan(t/√6).
    const t = 1 / Math.sqrt((2 * (5 / 3)) / 4);
    const theta = Math.atan(t / Math.sqrt(6));
    const c2 = Math.cos(theta) ** 2;
    expect(welchP([1, 2, 3, 4], [2, 3, 4, 5])).toBeCloseTo(1 - Math.sin(theta) * (1 + c2 / 2 + (3 * c2 * c2) / 8), 8);
    expect(welchP([1], [2, 3])).toBeNull();
  });
});

describe('clicklab run (compiled CLI)', () => {
  const cli = path.resolve('dist/cli/main.js');

  it('gives the same files with one worker and with two', () => {
    expect(existsSync(cli), 'npm test builds dist/ first (pretest)').toBe(true);
    const dir = tmp('cli-workers');
    const file = path.join(dir, 'grid.json');
    writeFileSync(
      file,
      JSON.stringify({
        schema: 'clicklab/scenario@2',
        name: 'grid',
        study: 'ultr',
        loggingRanker: { steps: 20 },
        sessions: 2000,
        model: { type: 'linear' },
        training: { steps: 10, batchSize: 16, evalEvery: 5 },
        learners: ['naive', 'dla'],
        seeds: [1, 2],
        grid: { 'clickModel.eta': [1, 2] },
      }),
    );
    const run = (workers: number) => {
      const out = path.join(dir, `w${workers}`);
      execFileSync(process.execPath, [cli, 'run', file, '--backend', 'wasm', '--workers', String(workers), '--out', out, '--quiet'], { stdio: 'pipe' });
      return outputs(out);
    };
    expect(run(2)).toEqual(run(1));
  });

  it('resumes a killed run: the finished results are kept and the end result is the same', async () => {
    const dir = tmp('cli-kill');
    const file = path.join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ ...bandit, rounds: 3000, grid: { 'clickModel.eta': [0.5, 2] } }));
    const whole = path.join(dir, 'whole');
    execFileSync(process.execPath, [cli, 'run', file, '--workers', '1', '--out', whole, '--quiet'], { stdio: 'pipe' });
    const killed = path.join(dir, 'killed');
    const child = spawn(process.execPath, [cli, 'run', file, '--workers', '2', '--out', killed, '--quiet'], { stdio: 'ignore' });
    const first = taskFile(killed, 'c1', 1);
    while (!existsSync(first) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const written = readdirSync(path.join(killed, 'cells')).flatMap((c) => readdirSync(path.join(killed, 'cells', c)).filter((f) => f.endsWith('.json')));
    expect(written.length).toBeGreaterThan(0);
    mkdirSync(path.join(killed, 'cells'), { recursive: true });
    const stdout = execFileSync(process.execPath, [cli, 'run', file, '--workers', '2', '--out', killed, '--resume', '--quiet'], { encoding: 'utf8' });
    expect(stdout).toMatch(new RegExp(`\\(${written.length} reused\\)`));
    expect(outputs(killed)).toEqual(outputs(whole));

    const compared = execFileSync(process.execPath, [cli, 'compare', whole, killed, '--metric', 'regret'], { encoding: 'utf8' });
    expect(compared).toMatch(/clickModel\.eta +method +metric +A \(±95%\) +B \(±95%\) +B − A +Welch p/);
    expect(
      compared
        .trim()
        .split('\n')
        .filter((line) => / regret /.test(line)),
    ).toHaveLength(6);
  });
});
