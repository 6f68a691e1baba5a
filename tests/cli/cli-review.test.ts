import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/core/errors.js';
import { compareRuns } from '../../src/runner/compare-runs.js';

const cli = path.resolve('dist/cli/main.js');

/** Runs the CLI and returns its exit status and stderr. */
function clicklab(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

/** One line naming the problem, no stack trace. */
function expectCleanError(result: { status: number | null; stderr: string }, message: string): void {
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`clicklab: ${message}`);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('command-line errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-cli-errors-'));

  it('names a missing input file, and an output folder that does not exist, without a stack trace', () => {
    const missing = path.join(dir, 'missing.letor');
    expectCleanError(
      clicklab('simulate', '--letor', missing, '--out', path.join(dir, 'x.csv'), '--sessions', '10', '--logger', 'file-order', '--backend', 'cpu'),
      `${missing}: no such file or folder`,
    );
    const noFolder = path.join(dir, 'no-such-folder', 'x.csv');
    // Checked before any work (README, "Guarantees").
    expectCleanError(clicklab('simulate', '--out', noFolder, '--sessions', '10', '--logger', 'file-order', '--backend', 'cpu'), `--out: the folder ${path.dirname(noFolder)} does not exist`);
  });

  it('fit checks its output folder before reading and fitting the log', () => {
    const noFolder = path.join(dir, 'no-such-folder');
    // The log does not exist either: the output folder is named first, before any work.
    expectCleanError(clicklab('fit', '--model', 'pbm', '--log', path.join(dir, 'missing.csv'), '--out', path.join(noFolder, 'fitted.json')), `--out: the folder ${noFolder} does not exist`);
  });

  it('names the output file whose extension says no format', () => {
    const out = path.join(dir, 'clicks.txt');
    expectCleanError(
      clicklab('simulate', '--out', out, '--sessions', '10', '--logger', 'file-order', '--backend', 'cpu'),
      `${out}: cannot tell the click-log format from the file name's extension: expected .csv`,
    );
  });

  it('recommend without an action says which actions there are', () => {
    const result = clicklab('recommend');
    // A usage error: exit 2 (README, "Guarantees").
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('name an action: clicklab recommend train, score or compare');
    expect(clicklab('recommend', 'bogus').stderr).toContain('Unknown argument: bogus');
  });

  it('reports the error of a synchronous handler (compare) cleanly', () => {
    const missing = path.join(dir, 'no-run');
    expectCleanError(clicklab('compare', missing, missing), `${missing}: not a finished run`);
  });

  it('train: names the option that is out of range or missing, as the user spells it', () => {
    const log = path.join(dir, 'clicks.csv'); // never read: the options are checked first
    expectCleanError(clicklab('train', '--learner', 'naive', '--log', log, '--out', dir, '--learning-rate', '-1'), '--learning-rate: expected a number > 0, found -1');
    expectCleanError(clicklab('train', '--learner', 'naive', '--log', log, '--out', dir, '--batch-size', '0'), '--batch-size: expected an integer ≥ 1, found 0');
    expectCleanError(clicklab('train', '--learner', 'dla', '--log', log, '--out', dir, '--max-weight', '0.5'), '--max-weight: expected a number ≥ 1, found 0.5');
    expectCleanError(clicklab('train', '--learner', 'clipped-ips', '--log', log, '--out', dir, '--click-model', 'pbm'), '--max-weight: clipped-ips needs a weight cap M');
  });
});

describe('clicklab ope --prior', () => {
  it('reads the shipped per-campaign prior file as the default priors of that campaign', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-ope-prior-'));
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, [cli, 'ope', '--log', 'datasets/open-bandit/random/men/men.csv.gz', '--policy', 'bts', '--draws', '500', '--resamples', '20', '--quiet', '--out', dir, ...extra], {
        encoding: 'utf8',
      });
    const fromFile = run('--prior', 'datasets/open-bandit/prior-bts.json');
    expect(fromFile.stderr).toBe('');
    expect(fromFile.status).toBe(0);
    const byDefault = run();
    // Same priors, same seed: the same estimates and intervals (the wall-time line aside).
    const table = (stdout: string) => stdout.split('\n').filter((line) => !line.startsWith('wall time'));
    expect(table(fromFile.stdout)).toEqual(table(byDefault.stdout));
    expect(fromFile.stdout).toMatch(/^ipw /m);
  });
});

describe('compareRuns on bad input', () => {
  /** A finished run's two tables, with one row: naive's ndcg@10 over two seeds. */
  function fakeRun(summary: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-fake-run-'));
    writeFileSync(path.join(dir, 'summary.json'), summary);
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify([0.5, 0.7].map((value, s) => ({ cell: 'c1', method: 'naive', metric: 'ndcg@10', seed: s + 1, value }))));
    return dir;
  }
  const good = JSON.stringify([{ cell: 'c1', params: {}, method: 'naive', metric: 'ndcg@10', mean: 0.6, ci95: 1.27, seeds: 2 }]);

  it('rejects a metric that is in neither run, listing the ones that are', () => {
    const a = fakeRun(good);
    expect(compareRuns(a, a).rows).toHaveLength(1);
    expect(() => compareRuns(a, a, ['ndcg@5'])).toThrow(new ConfigError('--metric', '"ndcg@5" is in neither run; their metrics: ndcg@10'));
  });

  it('names the file of a run whose table is not JSON', () => {
    const a = fakeRun(good);
    const broken = fakeRun('{oops');
    expect(() => compareRuns(a, broken)).toThrow(DataFormatError);
    expect(() => compareRuns(a, broken)).toThrow(`${path.join(broken, 'summary.json')}: expected the JSON table clicklab run writes, found invalid JSON`);
  });
});

describe('clicklab train --scenario', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-train-scenario-'));
  const scenario = {
    schema: 'clicklab/scenario@2',
    name: 'tiny',
    study: 'ultr',
    loggingRanker: { trainFraction: 0.01, steps: 10 },
    sessions: 500,
    training: { steps: 5, evalEvery: 5 },
    learners: ['naive'],
    seeds: [1],
  };

  it('trains from a version 2 ULTR scenario without a grid, and says why it refuses a grid', () => {
    const file = path.join(dir, 'tiny.json');
    writeFileSync(file, JSON.stringify(scenario));
    const out = path.join(dir, 'model');
    const ok = spawnSync(process.execPath, [cli, 'train', '--learner', 'naive', '--scenario', file, '--steps', '5', '--eval-every', '5', '--backend', 'cpu', '--out', out, '--quiet'], {
      encoding: 'utf8',
    });
    expect(ok.stderr.split('\n').filter((l) => l.startsWith('clicklab'))).toEqual([]);
    expect(ok.status).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')) as { origin?: unknown };
    expect(JSON.stringify(saved)).toContain(file);

    const grid = path.join(dir, 'grid.json');
    writeFileSync(grid, JSON.stringify({ ...scenario, grid: { 'clickModel.eta': [1, 2] } }));
    expectCleanError(clicklab('train', '--learner', 'naive', '--scenario', grid, '--out', out), `${grid}: grid: train takes one setting, this scenario has 2 grid cells (eta=1; eta=2)`);
  });

  it('an invalid field of a scenario without a grid is named as a field, not as a grid cell', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...scenario, sessions: -1 }));
    expectCleanError(clicklab('train', '--learner', 'naive', '--scenario', bad, '--out', dir), `${bad}: sessions: expected an integer ≥ 1, found -1`);
  });
});

describe("probing WebGPU prints none of Dawn's native warnings", () => {
  // Dawn writes from native code straight to stderr: "Warning: Couldn't load Vulkan:
  // libvulkan.so.1 ... at operator() (.../BackendVk.cpp:368)" without a Vulkan loader,
  // "maxDynamic...BuffersPerPipelineLayout artificially reduced" on lavapipe. The probe runs Dawn in
  // a child process and keeps what it wrote for `clicklab doctor` only.
  const native = /Vulkan|Dawn|^Warning:|BackendVk|artificially reduced|at operator\(\)/m;
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-dawn-quiet-'));
  const scenario = path.join(dir, 'tiny.json');
  writeFileSync(
    scenario,
    JSON.stringify({
      schema: 'clicklab/scenario@2',
      name: 'tiny',
      study: 'ultr',
      loggingRanker: { trainFraction: 0.01, steps: 10 },
      sessions: 300,
      training: { steps: 2, evalEvery: 2 },
      learners: ['naive'],
      seeds: [1],
    }),
  );
  const train = (name: string, env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [cli, 'train', '--learner', 'naive', '--scenario', scenario, '--steps', '2', '--eval-every', '2', '--backend', 'auto', '--out', path.join(dir, name), '--quiet'], {
      encoding: 'utf8',
      env,
    });

  it('train --backend auto --quiet: an empty stderr, whether or not auto probes WebGPU', () => {
    const plain = train('plain', { ...process.env, CLICKLAB_DAWN_OPTIONS: '' });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).not.toMatch(native);
    expect(plain.stderr).toBe('');
    // CLICKLAB_DAWN_OPTIONS makes auto probe even without a GPU device node: Dawn then starts
    // (in the probe's child process) and finds no adapter or a software one, which auto skips.
    const probed = train('probed', { ...process.env, CLICKLAB_DAWN_OPTIONS: 'backend=vulkan' });
    expect(probed.status, probed.stderr).toBe(0);
    expect(probed.stderr).not.toMatch(native);
    expect(probed.stderr).toBe('');
  });

  it('doctor reports WebGPU on stdout, with why it is not available, and writes no native warning', () => {
    const run = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(native);
    expect(run.stdout).toMatch(/^webgpu\s+(yes\s+WebGPU on|no\s+\S)/m);
  });
});
