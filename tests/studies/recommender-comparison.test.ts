import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { initBackend } from '../../src/learning/backend.js';
import { writeInteractionLog } from '../../src/data/interaction-log-io.js';
import type { LoggedInteractions } from '../../src/data/interaction-log-table.js';
import { simulateRecommenderLog } from '../../src/simulation/recommender/simulate-log.js';
import { formatRecommenderSummary, loadRecommenderData, runRecommenderComparison, splitClicks, summariseRecommenderComparison } from '../../src/studies/recommender/comparison.js';

await initBackend('wasm');

describe('recommender data', () => {
  it('Coat binarised as Rel-MF: train ratings ≥ 4 are the clicks, every test rating is kept with rating ≥ 4 relevant', async () => {
    const coat = await loadRecommenderData({ kind: 'coat' }, 1);
    expect(coat.clicks.user.length).toBe(1275 + 630);
    expect(coat.test!.user.length).toBe(4640);
    expect(coat.test!.relevant.reduce((s, r) => s + r, 0)).toBe(641 + 219);
    expect(coat.givenPropensity!.perPair).toBe(true);
  });

  it('a world: the log of `simulate --world recommender`, θ_i from its pscore, and a uniform test set with the true P', async () => {
    const data = await loadRecommenderData({ kind: 'world', spec: { users: 300, items: 60 }, testItemsPerUser: 10 }, 4);
    expect([data.numUsers, data.numItems]).toEqual([300, 60]);
    expect(data.test!.user.length).toBe(3000);
    expect(data.test!.preferenceProbability).toBeDefined();
    expect(data.givenPropensity!.perPair).toBe(false);
    const again = await loadRecommenderData({ kind: 'world', spec: { users: 300, items: 60 }, testItemsPerUser: 10 }, 4);
    expect(again.clicks.item).toEqual(data.clicks.item);
    expect(again.test!.relevant).toEqual(data.test!.relevant);
  });

  it('an interaction-log file: the clicks and per-item pscore of the log; a pscore that varies within an item is refused', async () => {
    const world = await loadRecommenderData({ kind: 'world', spec: { users: 200, items: 40, exposure: { expectedExposures: 10 } }, testItemsPerUser: 5 }, 2);
    const folder = mkdtempSync(path.join(tmpdir(), 'clicklab-log-'));
    try {
      const chunks: LoggedInteractions[] = [];
      await simulateRecommenderLog({ users: 200, items: 40, meanPreference: 0.1, exposure: { expectedExposures: 10 } }, randomStream(2), (c) => void chunks.push(c));
      const file = path.join(folder, 'log.csv');
      await writeInteractionLog(file, chunks[0]);
      const fromFile = await loadRecommenderData({ kind: 'log', file }, 0);
      expect(fromFile.clicks.user).toEqual(world.clicks.user);
      expect(fromFile.clicks.item).toEqual(world.clicks.item);
      for (let i = 0; i < 40; i++) expect(fromFile.givenPropensity!.at(0, i)).toBe(world.givenPropensity!.at(0, i));
      const bad = path.join(folder, 'bad.csv');
      writeFileSync(bad, 'user_id,item_id,click,pscore\n0,1,1,0.5\n1,1,0,0.25\n');
      await expect(loadRecommenderData({ kind: 'log', file: bad }, 0)).rejects.toThrow(/one exposure propensity per item/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('validation split: 10% of the clicks, disjoint, together all of them', () => {
    const clicks = { numUsers: 10, numItems: 10, user: Int32Array.from({ length: 50 }, (_, j) => j % 10), item: Int32Array.from({ length: 50 }, (_, j) => Math.floor(j / 10)) };
    const { training, validation } = splitClicks(clicks, 0.1, randomStream(1));
    expect([training.user.length, validation.user.length]).toEqual([45, 5]);
    const keys = (f: typeof clicks) => Array.from(f.user, (u, j) => u * 10 + f.item[j]);
    expect(new Set([...keys(training), ...keys(validation)]).size).toBe(50);
  });
});

describe('runRecommenderComparison', () => {
  it('tidy rows per learner, seed, item subset, metric and K; the same seeds give the same rows', async () => {
    const options = {
      data: { kind: 'world' as const, spec: { users: 300, items: 60, exposure: { expectedExposures: 20 } }, testItemsPerUser: 20 },
      learners: [
        { name: 'MF', learner: 'mf' as const },
        { name: 'Rel-MF M=0.1', learner: 'relmf' as const, propensity: 'given' as const, clip: 0.1 },
      ],
      seeds: [1, 2],
      settings: { maxSteps: 20, batchSize: 256, dimension: 8, evalEvery: 10 },
    };
    const rows = await runRecommenderComparison(options);
    // 2 seeds × 2 learners × 2 subsets × 4 metrics (DCG, Recall, MAP, expected DCG) × 3 K.
    expect(rows.length).toBe(2 * 2 * 2 * 4 * 3);
    expect(rows.every((r) => Number.isFinite(r.value) && r.value >= 0)).toBe(true);
    expect(await runRecommenderComparison(options)).toEqual(rows);
    const summary = summariseRecommenderComparison(rows);
    expect(summary.length).toBe(2 * 2 * 4 * 3);
    expect(summary.every((s) => s.seeds === 2 && s.halfWidth >= 0)).toBe(true);
    expect(formatRecommenderSummary(summary)).toMatch(/rare items \(2 seeds, mean ± 95% CI\)/);
  });

  it('NBPO, NBPOo and BPO on a world: the ranking rows, and for NBPO/NBPOo ρ against 1 − θ_i over the true-positive test pairs', async () => {
    const nbpo = { dimension: 8, flipDimension: 4, maxEpochs: 3, batchSize: 500 };
    const rows = await runRecommenderComparison({
      data: { kind: 'world' as const, spec: { users: 300, items: 60, exposure: { expectedExposures: 20 } }, testItemsPerUser: 20 },
      learners: [
        { name: 'NBPO', learner: 'nbpo' as const, nbpo },
        { name: 'NBPOo', learner: 'nbpoo' as const, nbpo },
        { name: 'BPO', learner: 'bpo' as const, nbpo },
      ],
      seeds: [1],
    });
    // Per learner 2 subsets × 4 metrics × 3 K, plus ρ corr and ρ RMSE for NBPO and NBPOo.
    expect(rows.length).toBe(3 * 24 + 2 * 2);
    const flip = rows.filter((r) => r.metric === 'ρ corr' || r.metric === 'ρ RMSE');
    expect(flip.map((r) => r.learner)).toEqual(['NBPO', 'NBPO', 'NBPOo', 'NBPOo']);
    for (const r of flip) expect(r.metric === 'ρ RMSE' ? r.value >= 0 && r.value <= 1 : Math.abs(r.value) <= 1).toBe(true);
    expect(formatRecommenderSummary(summariseRecommenderComparison(rows))).toMatch(/ρ corr/);
  });
});

describe('clicklab recommend', () => {
  it('train on Coat, then score: the saved model reproduces the printed test metrics', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'clicklab-rec-'));
    const cli = path.resolve('dist/cli/main.js');
    try {
      const trained = execFileSync(
        process.execPath,
        [cli, 'recommend', 'train', '--data', 'coat', '--learner', 'relmf', '--clip', '0.05', '--max-steps', '30', '--batch-size', '512', '--out', folder, '--backend', 'wasm', '--quiet'],
        { encoding: 'utf8' },
      );
      const description = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
      expect(description).toMatchObject({ learner: 'relmf', clip: 0.05, data: 'coat', numUsers: 290, numItems: 300 });
      const scored = execFileSync(process.execPath, [cli, 'recommend', 'score', '--model', folder, '--test', 'coat', '--backend', 'wasm'], { encoding: 'utf8' });
      const allRow = (text: string) =>
        text
          .split('\n')
          .find((line) => line.startsWith('all'))!
          .split(/\s+/)
          .slice(1);
      expect(allRow(scored)).toEqual(allRow(trained));
      expect(allRow(scored)).toHaveLength(9);
      const top = execFileSync(process.execPath, [cli, 'recommend', 'score', '--model', folder, '--users', '0,5', '--top', '3', '--backend', 'wasm'], { encoding: 'utf8' });
      expect(top.trim().split('\n')).toHaveLength(1 + 2 * 3);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('train NBPO on Coat: U, V rank as any saved model, the flip factors P, Q are saved in flip/', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'clicklab-nbpo-'));
    const cli = path.resolve('dist/cli/main.js');
    try {
      const trained = execFileSync(
        process.execPath,
        [cli, 'recommend', 'train', '--data', 'coat', '--learner', 'nbpo', '--epochs', '2', '--dim', '8', '--flip-dim', '4', '--out', folder, '--backend', 'wasm', '--quiet'],
        { encoding: 'utf8' },
      );
      expect(trained).toMatch(/nbpo kept step \d of 2/);
      const description = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
      expect(description).toMatchObject({ learner: 'nbpo', dimension: 8, flip: 'flip', nbpo: { dimension: 8, flipDimension: 4, maxEpochs: 2, learningRate: 0.05, l2: 1, flipL2: 5, negatives: 4 } });
      expect(JSON.parse(readFileSync(path.join(folder, 'flip', 'model.json'), 'utf8'))).toMatchObject({ learner: 'nbpo', dimension: 4, numUsers: 290, numItems: 300 });
      const scored = execFileSync(process.execPath, [cli, 'recommend', 'score', '--model', folder, '--test', 'coat', '--backend', 'wasm'], { encoding: 'utf8' });
      const allRow = (text: string) => text.split('\n').find((line) => line.startsWith('all'))!;
      expect(allRow(scored).split(/\s+/).slice(1)).toEqual(allRow(trained).split(/\s+/).slice(1));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
