import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = path.resolve('dist/cli/main.js');

function clicklab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('command-line messages', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-cli-messages-'));

  it('bandit with one seed prints no interval (not "± 0.0") and says why', () => {
    const out = path.join(dir, 'bandit-one-seed');
    const result = clicklab('bandit', '--policies', 'random', '--rounds', '50', '--seeds', '1', '--curve-points', '5', '--quiet', '--out', out);
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/\d ± \d/);
    expect(result.stdout).toContain('one seed: no confidence interval');
  });

  it('bandit with two seeds still prints the interval', () => {
    const result = clicklab('bandit', '--policies', 'random', '--rounds', '50', '--seeds', '1', '2', '--curve-points', '5', '--quiet', '--out', path.join(dir, 'bandit-two-seeds'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\d ± \d/);
  });

  it('recommend compare with one seed prints no interval, and n/a (not NaN) where a tiny world has no rare items to score', () => {
    const result = clicklab('recommend', 'compare', '--world', '{"users": 200, "items": 5}', '--seeds', '1', '--max-steps', '5', '--backend', 'cpu', '--quiet');
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('NaN');
    expect(result.stdout).not.toMatch(/\d ± \d/);
    expect(result.stdout).toContain('rare items: n/a');
  });

  it('names the flag the user typed, not the library field, and creates no --out on an invalid option', () => {
    const opeOut = path.join(dir, 'ope-out');
    const ope = clicklab('ope', '--protocol', 'simulated', '--sizes', '0', '--quiet', '--out', opeOut);
    expect(ope.status).toBe(1);
    expect(ope.stderr).toContain('clicklab: --sizes: expected integers ≥ 1, found 0');
    expect(ope.stderr).not.toContain('sampleSizes');
    expect(existsSync(opeOut)).toBe(false);

    const banditOut = path.join(dir, 'bandit-out');
    const bandit = clicklab('bandit', '--slate', '200', '--rounds', '10', '--seeds', '1', '--quiet', '--out', banditOut);
    expect(bandit.status).toBe(1);
    expect(bandit.stderr).toContain('clicklab: --slate: expected an integer in [1, 100]');
    expect(existsSync(banditOut)).toBe(false);

    const policyOut = path.join(dir, 'bandit-policy-out');
    const policy = clicklab('bandit', '--policies', 'random', 'no-such-policy', '--rounds', '10', '--seeds', '1', '--quiet', '--out', policyOut);
    expect(policy.status).toBe(1);
    expect(policy.stderr).toContain('clicklab: --policies: [1].type: expected one of');
    expect(existsSync(policyOut)).toBe(false);

    const recommend = clicklab('recommend', 'compare', '--clip', '2', '--world', '{"users": 30, "items": 20}', '--seeds', '1', '--max-steps', '5', '--backend', 'cpu', '--quiet');
    expect(recommend.status).toBe(1);
    expect(recommend.stderr).toContain('clicklab: --clip: expected M in [0, 1], found 2');
  });
});
