import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBanditPath } from '../../src/data/open-bandit.js';

const cli = path.resolve('dist/cli/main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-streaming-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('clicklab train --log DIR (streamed)', () => {
  beforeAll(() => {
    mkdirSync(path.join(dir, 'clicks'));
    for (const seed of [1, 2]) {
      execFileSync(process.execPath, [cli, 'simulate', '--out', path.join(dir, 'clicks', `part-${seed}.parquet`), '--sessions', '1500', '--seed', String(seed), '--logger', 'file-order', '--quiet'], {
        stdio: 'pipe',
      });
    }
  });

  it('trains from a folder of partitions through the shuffle buffer; the same seed writes the same weights', () => {
    const args = (out: string) => [
      cli,
      'train',
      '--learner',
      'naive',
      '--log',
      path.join(dir, 'clicks'),
      '--shuffle-buffer',
      '500',
      '--hidden',
      '8',
      '--steps',
      '30',
      '--eval-every',
      '10',
      '--batch-size',
      '32',
      '--out',
      path.join(dir, out),
      '--backend',
      'wasm',
      '--quiet',
    ];
    const text = execFileSync(process.execPath, args('m1'), { encoding: 'utf8' });
    expect(text).toMatch(/naive: best validation nDCG@10 0\.\d{4} at step \d+; model written to/);
    execFileSync(process.execPath, args('m2'), { encoding: 'utf8' });
    expect(readFileSync(path.join(dir, 'm1', 'weights.bin'))).toEqual(readFileSync(path.join(dir, 'm2', 'weights.bin')));
    expect(JSON.parse(readFileSync(path.join(dir, 'm1', 'model.json'), 'utf8')).training.sessions).toBe(3000);
  });

  it('--shuffle-buffer with --scenario is a one-line error', () => {
    const r = spawnSync(process.execPath, [cli, 'train', '--learner', 'naive', '--scenario', 'sim/ultr-mq2008.json', '--shuffle-buffer', '10', '--out', path.join(dir, 'x')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('clicklab: --shuffle-buffer: expected with --log (a streamed click log), not with --scenario');
  });
});

describe('clicklab ope --log DIR (streamed)', () => {
  beforeAll(() => {
    mkdirSync(path.join(dir, 'obd'));
    copyFileSync(openBanditPath('random/men/men.csv.gz'), path.join(dir, 'obd', 'day-1.csv.gz'));
    copyFileSync(openBanditPath('random/men/men.csv.gz'), path.join(dir, 'obd', 'day-2.csv.gz'));
  });

  it('estimates every standard estimator (the reward model over the stream) with Poisson-bootstrap intervals over the files, and writes results.json', () => {
    const out = path.join(dir, 'ope');
    const text = execFileSync(process.execPath, [cli, 'ope', '--log', path.join(dir, 'obd'), '--policy', 'uniform', '--resamples', '100', '--out', out, '--quiet'], { encoding: 'utf8' });
    expect(text).toMatch(
      /uniform evaluated on .*obd \(streamed: 2 files, 20000 rows, logged CTR 0\.00\d{3}\); Poisson-bootstrap intervals; \d+ passes over the log \(reward model: \d+, \d+, \d+ Newton steps per fold\)/,
    );
    const result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).result;
    expect(result.table.map((r: { estimator: string }) => r.estimator)).toEqual(['ipw', 'ipw (λ=10)', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr (λ=10)', 'dr-os (λ=10)']);
    expect(result.rows).toBe(20_000);
    expect(result.streamed.passes).toBe(2 + Math.max(...result.streamed.rewardModelIterations));
  });

  it('--no-reward-model: one pass, IPW, clipped IPW and SNIPW; --slates adds the six slate estimators', () => {
    const out = path.join(dir, 'ope-slates');
    execFileSync(process.execPath, [cli, 'ope', '--log', path.join(dir, 'obd'), '--policy', 'uniform', '--resamples', '100', '--no-reward-model', '--slates', '--out', out, '--quiet'], {
      encoding: 'utf8',
    });
    const result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).result;
    expect(result.table.map((r: { estimator: string }) => r.estimator)).toEqual(['ipw', 'ipw (λ=10)', 'snipw', 'sips', 'iips', 'rips', 'snsips', 'sniips', 'snrips']);
    expect(result.streamed.passes).toBe(1);
    expect(result.streamed.slates).toBe(2 * 9989);
    const r = spawnSync(process.execPath, [cli, 'ope', '--log', openBanditPath('random/men/men.csv.gz'), '--slates', '--out', path.join(dir, 'o3')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^clicklab: --slates: expected a streamed log \(--stream, a folder or a glob\)/);
  });

  it('--export-action-dist on a streamed log is a one-line error', () => {
    const r = spawnSync(process.execPath, [cli, 'ope', '--log', path.join(dir, 'obd'), '--export-action-dist', path.join(dir, 'pi.npy'), '--out', path.join(dir, 'o2')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^clicklab: --export-action-dist: expected a log read into memory: a streamed log .* is too large/);
  });
});
