import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { readClickLog } from '../../src/data/index.js';
import type { LoggedClicks } from '../../src/data/click-log-table.js';
import { fileOrderLists, simulateSearchLog, type SearchLogSpec } from '../../src/simulation/search-log/simulate.js';
import { createClickModel } from '../../src/simulation/click-models/index.js';
import { relevanceTable } from '../../src/simulation/relevance.js';
import { syntheticWorld } from '../helpers/synthetic.js';

const cli = path.resolve('dist/cli/main.js');

describe('clicklab simulate', () => {
  it('writes a click log that reads back, with pscore and hidden truth on request', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-simulate-'));
    const out = path.join(dir, 'dbn.parquet');
    execFileSync(process.execPath, [cli, 'simulate', '--out', out, '--sessions', '3000', '--click-model', '{"type": "dbn", "gamma": 0.8}', '--logger', 'file-order', '--truth', '--quiet'], {
      stdio: 'pipe',
    });
    const { log, propensity, truth } = await readClickLog(out, { truth: true });
    expect(log.sessionQuery.length).toBe(3000);
    expect(Array.from(new Set(propensity))).toEqual([1]);
    // DBN: examination never resumes below a slot the user did not examine.
    let violations = 0;
    for (let s = 0; s < 3000; s++) {
      for (let r = log.sessionOffsets[s] + 1; r < log.sessionOffsets[s + 1]; r++) if (truth!.examined[r] && !truth!.examined[r - 1]) violations++;
    }
    expect(violations).toBe(0);

    const shuffled = path.join(dir, 'shuffled.csv');
    execFileSync(process.execPath, [cli, 'simulate', '--out', shuffled, '--sessions', '500', '--intervention', 'shuffle', '--logger', 'file-order', '--quiet'], { stdio: 'pipe' });
    const back = await readClickLog(shuffled);
    const s0 = back.log.sessionOffsets;
    expect(back.propensity![0]).toBeCloseTo(1 / (s0[1] - s0[0]), 6);
  });

  it('simulates a recommender world with exposure bias, and its uniformly random test set', async () => {
    const { readInteractionLog } = await import('../../src/data/index.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-recommender-'));
    const out = path.join(dir, 'log.jsonl');
    const test = path.join(dir, 'test.csv');
    execFileSync(
      process.execPath,
      [
        cli,
        'simulate',
        '--world',
        'recommender',
        '--recommender',
        '{"users": 300, "items": 60, "exposure": {"expectedExposures": 10}}',
        '--out',
        out,
        '--test-out',
        test,
        '--test-users',
        '50',
        '--test-items-per-user',
        '5',
        '--truth',
        '--quiet',
      ],
      { stdio: 'pipe' },
    );
    const log = await readInteractionLog(out, { truth: true });
    // About 10 exposures per user; pscore is the exposure propensity kept as truth.
    expect(Math.abs(log.log.user.length / 300 - 10)).toBeLessThan(4 * Math.sqrt(10 / 300));
    expect(Array.from(log.propensity!)).toEqual(Array.from(log.truth!.exposureProbability));
    const testSet = await readInteractionLog(test);
    expect(testSet.log.user.length).toBe(250);
  });

  it('names the bad option', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'simulate', '--out', path.join(tmpdir(), 'x.csv'), '--click-model', 'dbm', '--logger', 'file-order'], { stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/click-model\.type: .*"dbm"/);
  });

  it('gives the same log from the same seed, chunk by chunk', async () => {
    const world = syntheticWorld(30, 8, 2);
    const spec: SearchLogSpec = {
      lists: fileOrderLists(world, 5),
      cutoff: 5,
      intervention: 'none',
      relevance: relevanceTable({ mapping: 'linear', scale: 0.4, maxGrade: 2 }),
      clickModel: createClickModel({ type: 'cascade' }, 5),
      sessions: 2000,
    };
    const collect = async (seed: number) => {
      const chunks: LoggedClicks[] = [];
      await simulateSearchLog(world, spec, randomStream(seed), (c) => void chunks.push(c));
      return Buffer.from(chunks[0].log.click);
    };
    expect((await collect(1)).equals(await collect(1))).toBe(true);
    expect((await collect(1)).equals(await collect(2))).toBe(false);
  });
});
