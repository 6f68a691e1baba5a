import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
    expectCleanError(clicklab('simulate', '--letor', missing, '--out', path.join(dir, 'x.csv'), '--sessions', '10', '--logger', 'file-order', '--backend', 'cpu'), `${missing}: no such file or folder`);
    const noFolder = path.join(dir, 'no-such-folder', 'x.csv');
    expectCleanError(clicklab('simulate', '--out', noFolder, '--sessions', '10', '--logger', 'file-order', '--backend', 'cpu'), `${noFolder}: no such file or folder`);
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
      spawnSync(process.execPath, [cli, 'ope', '--log', 'datasets/open-bandit/random/men/men.csv.gz', '--policy', 'bts', '--draws', '500', '--resamples', '20', '--quiet', '--out', dir, ...extra], { encoding: 'utf8' });
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
