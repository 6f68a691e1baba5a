import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpenBanditPriors, loadOpenBanditSample } from '../../src/data/open-bandit.js';
import { bernoulliTsActionDistribution } from '../../src/policies/bandits/bernoulli-ts.js';
import { runOpenBanditProtocol } from '../../src/studies/ope/open-bandit-protocol.js';

describe('Bernoulli TS action distribution by Monte Carlo', () => {
  it('matches a closed form: P(Beta(2, 1) draw > uniform draw) = 2/3', () => {
    const draws = 30_000;
    const dist = bernoulliTsActionDistribution(Float64Array.from([2, 1]), Float64Array.from([1, 1]), 1, draws, 7);
    const se = Math.sqrt(((2 / 3) * (1 / 3)) / draws);
    expect(Math.abs(dist[0] - 2 / 3)).toBeLessThan(4 * se);
    expect(dist[0] + dist[1]).toBeCloseTo(1, 12);
  });

  it('is a distribution over items at each position, and each item appears at most once per slate', async () => {
    const priors = await loadOpenBanditPriors('men');
    const dist = bernoulliTsActionDistribution(priors.alpha, priors.beta, 3, 20_000, 1);
    for (let k = 0; k < 3; k++) {
      let total = 0;
      for (let a = 0; a < 34; a++) total += dist[a * 3 + k];
      expect(total).toBeCloseTo(1, 12);
    }
    for (let a = 0; a < 34; a++) expect(dist[a * 3] + dist[a * 3 + 1] + dist[a * 3 + 2]).toBeLessThanOrEqual(1 + 1e-12);
  });
});

describe('the Open Bandit protocol on the shipped men sample', () => {
  it('scores every estimator against the BTS log’s on-policy CTR; IPW matches an independent computation', async () => {
    const result = await runOpenBanditProtocol({ resamples: 200, draws: 20_000, seed: 3 });
    expect(result.groundTruth).toBeCloseTo(69 / 10_000, 12);
    expect(result.loggingValue).toBeCloseTo(46 / 10_000, 12);
    expect(result.table.map((r) => r.estimator)).toEqual(['ipw', 'ipw (λ=10)', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr (λ=10)', 'dr-os (λ=10)']);
    for (const row of result.table) {
      expect(row.lower).toBeLessThanOrEqual(row.estimate + 1e-12);
      expect(row.upper).toBeGreaterThanOrEqual(row.estimate - 1e-12);
      expect(row.relativeError).toBeCloseTo(Math.abs(row.estimate - result.groundTruth) / result.groundTruth, 12);
    }
    // IPW = mean_i r_i π_e(a_i at k_i) / (1/34), with the same Monte Carlo π_e.
    const priors = await loadOpenBanditPriors('men');
    const dist = bernoulliTsActionDistribution(priors.alpha, priors.beta, 3, 20_000, 3);
    const { log } = await loadOpenBanditSample('random', 'men');
    let sum = 0;
    for (let i = 0; i < log.reward.length; i++) sum += (log.reward[i] * dist[log.action[i] * 3 + log.position[i]]) / log.pscore[i];
    expect(result.table[0].estimate).toBeCloseTo(sum / log.reward.length, 12);
  });
});

describe('clicklab ope', () => {
  it('evaluates a policy on an Open Bandit-format log, prints the table and writes results.json', () => {
    const out = mkdtempSync(join(tmpdir(), 'clicklab-ope-'));
    try {
      const cli = resolve('dist/cli/main.js');
      const log = resolve('datasets/open-bandit/bts/men/men.csv.gz');
      const truth = resolve('datasets/open-bandit/random/men/men.csv.gz');
      const stdout = execFileSync(process.execPath, [cli, 'ope', '--log', log, '--policy', 'uniform', '--truth-log', truth, '--resamples', '50', '--out', out, '--quiet'], { encoding: 'utf8' });
      expect(stdout).toContain('ground truth 0.00460');
      expect(stdout).toMatch(/^ipw\s+0\.\d+\s+\[/m);
      const written = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { result: { groundTruth: number; table: { estimator: string }[] } };
      expect(written.result.groundTruth).toBeCloseTo(0.0046, 12);
      expect(written.result.table).toHaveLength(8);
      // A malformed file is reported by name and line, without a stack trace.
      const bad = join(out, 'bad.csv');
      writeFileSync(bad, ',timestamp,item_id\n0,x,1\n');
      let stderr = '';
      try {
        execFileSync(process.execPath, [cli, 'ope', '--log', bad, '--quiet'], { stdio: 'pipe' });
      } catch (error) {
        stderr = String((error as { stderr: Buffer }).stderr);
      }
      expect(stderr).toContain(`clicklab: ${bad}:1: expected the Open Bandit Dataset columns`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
