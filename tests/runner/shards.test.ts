/** `clicklab run --shard i/n`: shards run at once, as separate processes, into one folder; `--resume` assembles the same files as an unsharded run. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = path.resolve('dist/cli/main.js');
const tables = (dir: string) => ['results.csv', 'results.json', 'results.parquet', 'summary.json'].map((f) => readFileSync(path.join(dir, f)).toString('base64'));

describe('clicklab run --shard (compiled CLI)', () => {
  it('gives, from 3 concurrent shards and a --resume, the same tables as one unsharded run', async () => {
    expect(existsSync(cli), 'npm test builds dist/ first (pretest)').toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-shards-'));
    const file = path.join(dir, 'grid.json');
    const scenario = { schema: 'clicklab/scenario@2', name: 'shards', study: 'bandit', world: { items: 12, slateSize: 3 }, rounds: 400, curvePoints: 5, policies: ['bernoulli-ts', 'random'] };
    writeFileSync(file, JSON.stringify({ ...scenario, grid: { 'clickModel.eta': [0.5, 1, 2] }, seeds: [1, 2, 3, 4, 5] }));
    const whole = path.join(dir, 'whole');
    execFileSync(process.execPath, [cli, 'run', file, '--workers', '1', '--out', whole, '--quiet'], { stdio: 'pipe' });

    const sharded = path.join(dir, 'sharded');
    const shards = [1, 2, 3].map(
      (i) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [cli, 'run', file, '--workers', '1', '--out', sharded, '--shard', `${i}/3`, '--quiet']);
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.on('exit', (code) => resolve({ code, stdout, stderr }));
        }),
    );
    const results = await Promise.all(shards);
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^shard \d\/3: 5 runs in/);
    }
    // No shard writes the report; --resume finds every result written and does.
    expect(existsSync(path.join(sharded, 'summary.json'))).toBe(false);
    const stdout = execFileSync(process.execPath, [cli, 'run', file, '--workers', '1', '--out', sharded, '--resume', '--quiet'], { encoding: 'utf8' });
    expect(stdout).toMatch(/0 runs in [\d.]+ s \(15 reused\)/);
    expect(tables(sharded)).toEqual(tables(whole));
  }, 120_000);

  it('refuses a shard that is not i/n with 1 ≤ i ≤ n, in one line', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'run', 'sim/slate-ts-regret.json', '--out', path.join(tmpdir(), 'never'), '--shard', '4/3'], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr.trim()).toBe('clicklab: --shard: expected i/n with 1 ≤ i ≤ n (e.g. 2/8), found "4/3"');
  });
});
