/** What `runExperiment` refuses, and what it lets a user continue: guarded run folders. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/runner/experiment.js';
import { writeExperimentReport } from '../../src/runner/experiment-report.js';
import { runExperiment } from '../../src/runner/run-experiment.js';

const bandit = (seeds: number[]) =>
  parseExperiment({ schema: 'clicklab/scenario@2', name: 'guards', study: 'bandit', world: { items: 10, slateSize: 3 }, rounds: 300, curvePoints: 5, policies: ['bernoulli-ts', 'random'], seeds });
const tmp = () => mkdtempSync(path.join(tmpdir(), 'clicklab-guards-'));

describe('run folders', () => {
  it('refuses a non-empty folder that holds no run, and leaves its files alone', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'results.csv'), 'mine\n');
    await expect(runExperiment(bandit([1]), { outDir: dir })).rejects.toThrow(/is not empty and holds no clicklab run/);
    expect(readFileSync(path.join(dir, 'results.csv'), 'utf8')).toBe('mine\n');
    expect(existsSync(path.join(dir, 'run.json'))).toBe(false);
  });

  it('runs again, without --resume, a run that failed before writing any result', async () => {
    const dir = tmp();
    const missing = path.join(dir, 'no-such-train.txt');
    const failing = parseExperiment({ schema: 'clicklab/scenario@2', name: 'missing', study: 'ultr', dataset: { name: 'letor', train: missing, validation: missing, test: missing }, seeds: [1] });
    const first = await runExperiment(failing, { outDir: dir }).catch((error: Error) => error.message);
    expect(first).toContain('no-such-train.txt');
    // The same failure again, not "already holds a run"; and the lock is released after a failure.
    expect(await runExperiment(failing, { outDir: dir }).catch((error: Error) => error.message)).toBe(first);
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });

  it('refuses a folder another live process is writing, and takes over a stale lock', async () => {
    const dir = tmp();
    await runExperiment(bandit([1]), { outDir: dir, stopAfter: 0 });
    writeFileSync(path.join(dir, 'run.lock'), `${process.pid} ${(await import('node:os')).hostname()}\n`);
    await expect(runExperiment(bandit([1]), { outDir: dir, resume: true })).rejects.toThrow(new RegExp(`being written by another clicklab run \\(process ${process.pid} `));
    // A pid that cannot be running (above Linux's pid_max): the lock is stale.
    writeFileSync(path.join(dir, 'run.lock'), `${2 ** 23} ${(await import('node:os')).hostname()}\n`);
    expect(await runExperiment(bandit([1]), { outDir: dir, resume: true })).toMatchObject({ complete: true, ran: 1 });
    expect(existsSync(path.join(dir, 'run.lock'))).toBe(false);
  });

  it('adds seeds with --resume, to the same files as a run of all the seeds', async () => {
    const added = tmp();
    await runExperiment(bandit([1, 2]), { outDir: added });
    const state = await runExperiment(bandit([1, 2, 3]), { outDir: added, resume: true });
    expect(state).toMatchObject({ complete: true, ran: 1, reused: 2 });
    await writeExperimentReport(bandit([1, 2, 3]), state.cells!, added);
    const whole = tmp();
    const fresh = await runExperiment(bandit([1, 2, 3]), { outDir: whole });
    await writeExperimentReport(bandit([1, 2, 3]), fresh.cells!, whole);
    for (const file of ['run.json', 'results.csv', 'summary.json']) expect(readFileSync(path.join(added, file), 'utf8')).toBe(readFileSync(path.join(whole, file), 'utf8'));
  });

  it('still refuses to resume a run of another scenario', async () => {
    const dir = tmp();
    await runExperiment(bandit([1]), { outDir: dir });
    const other = parseExperiment({
      schema: 'clicklab/scenario@2',
      name: 'guards',
      study: 'bandit',
      world: { items: 12, slateSize: 3 },
      rounds: 300,
      curvePoints: 5,
      policies: ['bernoulli-ts', 'random'],
      seeds: [1],
    });
    await expect(runExperiment(other, { outDir: dir, resume: true })).rejects.toThrow(/holds a run of a different scenario/);
  });
});
