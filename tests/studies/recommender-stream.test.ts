import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInteractionLog, writeInteractionLog } from '../../src/data/interaction-log-io.js';
import type { LoggedInteractions } from '../../src/data/interaction-log-table.js';
import { loadRecommenderData } from '../../src/studies/recommender/comparison.js';

const cli = path.resolve('dist/cli/main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'clicklab-recommend-stream-'));
const csv = path.join(dir, 'log.csv');
const test = path.join(dir, 'test.csv');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows from .. to − 1 of a log. */
function rows(logged: LoggedInteractions, from: number, to: number): LoggedInteractions {
  return {
    log: { user: logged.log.user.slice(from, to), item: logged.log.item.slice(from, to), click: logged.log.click.slice(from, to) },
    propensity: logged.propensity?.slice(from, to),
  };
}

describe('recommend train on a streamed interaction log', () => {
  beforeAll(async () => {
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
        csv,
        '--test-out',
        test,
        '--test-users',
        '50',
        '--test-items-per-user',
        '5',
        '--quiet',
      ],
      { stdio: 'pipe' },
    );
    // The same rows as three Parquet partitions (cut between users), and as one Parquet file.
    const logged = await readInteractionLog(csv);
    const n = logged.log.user.length;
    const cuts = [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n].map((c) => {
      let at = c;
      while (at > 0 && at < n && logged.log.user[at] === logged.log.user[at - 1]) at++;
      return at;
    });
    mkdirSync(path.join(dir, 'parts'));
    for (let p = 0; p < 3; p++) await writeInteractionLog(path.join(dir, 'parts', `part-${p}.parquet`), rows(logged, cuts[p], cuts[p + 1]));
  });

  it('the streamed pass gives the clicked pairs, ids and θ of the in-memory reader, from partitions or one file', async () => {
    const memory = await loadRecommenderData({ kind: 'log', file: csv, testFile: test }, 1);
    const folder = await loadRecommenderData({ kind: 'log', file: path.join(dir, 'parts'), testFile: test }, 1);
    const streamedCsv = await loadRecommenderData({ kind: 'log', file: csv, testFile: test, stream: true }, 1);
    expect(memory.clicks.user.length).toBeGreaterThan(100);
    for (const streamed of [folder, streamedCsv]) {
      expect(streamed.numUsers).toBe(memory.numUsers);
      expect(streamed.numItems).toBe(memory.numItems);
      expect(Array.from(streamed.clicks.user)).toEqual(Array.from(memory.clicks.user));
      expect(Array.from(streamed.clicks.item)).toEqual(Array.from(memory.clicks.item));
      expect(Array.from(streamed.givenPropensity!.values)).toEqual(Array.from(memory.givenPropensity!.values));
      expect(streamed.test).toEqual(memory.test);
    }
  });

  it('clicklab recommend train --data DIR writes the model that the in-memory file gives', () => {
    const train = (data: string, out: string, extra: string[] = []) =>
      execFileSync(
        process.execPath,
        [
          cli,
          'recommend',
          'train',
          '--data',
          data,
          '--test',
          test,
          '--learner',
          'relmf',
          '--propensity',
          'given',
          '--max-steps',
          '20',
          '--batch-size',
          '256',
          '--out',
          path.join(dir, out),
          '--backend',
          'wasm',
          '--quiet',
          ...extra,
        ],
        { encoding: 'utf8' },
      );
    const a = train(csv, 'memory');
    const b = train(path.join(dir, 'parts'), 'streamed');
    expect(b.replace(path.join(dir, 'parts'), 'LOG').replace(/model written to .*/, '')).toBe(a.replace(csv, 'LOG').replace(/model written to .*/, ''));
    expect(readFileSync(path.join(dir, 'streamed', 'weights.bin'))).toEqual(readFileSync(path.join(dir, 'memory', 'weights.bin')));
  });

  it('--stream with --data coat is a one-line error', () => {
    const r = spawnSync(process.execPath, [cli, 'recommend', 'train', '--data', 'coat', '--stream', '--learner', 'mf', '--out', path.join(dir, 'x')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('clicklab: --stream: expected --data to be an interaction log, found coat');
  });
});
