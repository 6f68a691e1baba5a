import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { readClickLog } from '../../src/data/index.js';
import { createPolicy } from '../../src/policies/bandits/factory.js';
import { bestSlate, expectedClicks, runOnline } from '../../src/policies/online.js';
import type { BanditWorld } from '../../src/simulation/bandit-world.js';
import type { FeedbackSemantics, SlatePolicy } from '../../src/policies/slate-policy.js';
import { createClickModel } from '../../src/simulation/click-models/index.js';
import { examinationProbabilities } from '../../src/simulation/examination.js';

const attractiveness = Float64Array.from([0.05, 0.3, 0.1, 0.25, 0.02, 0.15, 0.2, 0.08]);
const pbm: BanditWorld = { numItems: 8, attractiveness, clickModel: createClickModel({ type: 'pbm' }, 3) };

/** Shows a fixed slate and records what the loop tells it. */
function fixedPolicy(slate: number[], feedback: FeedbackSemantics = 'position') {
  const updates: { slate: number[]; clicks: number[]; observed: number[] }[] = [];
  const policy: SlatePolicy = {
    name: 'fixed',
    feedback,
    numItems: 8,
    slateSize: slate.length,
    choose: (_rng, out) => out.set(slate),
    update: (s, clicks, observed) => void updates.push({ slate: Array.from(s), clicks: Array.from(clicks), observed: Array.from(observed) }),
    positionPropensities: (_rng, _draws, out) => {
      out.fill(0);
      slate.forEach((item, k) => {
        out[item * slate.length + k] = 1;
      });
    },
  };
  return { policy, updates };
}

describe('the online loop', () => {
  it('has zero regret for the best slate and clicks at the model rate', () => {
    const best = Array.from(bestSlate(attractiveness, 3));
    expect(best).toEqual([1, 3, 6]);
    const rounds = 40_000;
    const result = runOnline(fixedPolicy(best).policy, pbm, { rounds, batchSize: 1, rng: randomStream(1), propensityDraws: 0 });
    expect(result.cumulativeRegret[result.cumulativeRegret.length - 1]).toBeCloseTo(0, 9);
    // E[clicks per round] = Σ κ_k θ_k; its variance is at most the mean (a sum of Bernoullis).
    const perRound = expectedClicks(pbm, 0, Int32Array.from(best), new Float64Array(3), new Float64Array(3));
    const kappa = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 3);
    expect(perRound).toBeCloseTo(kappa[0] * 0.3 + kappa[1] * 0.25 + kappa[2] * 0.2, 12);
    const clicks = result.cumulativeClicks[result.cumulativeClicks.length - 1];
    expect(Math.abs(clicks / rounds - perRound)).toBeLessThan(4 * Math.sqrt(perRound / rounds));
  });

  it('charges the expected-click gap of a worse slate every round', () => {
    const worse = [4, 0, 7];
    const result = runOnline(fixedPolicy(worse).policy, pbm, { rounds: 100, batchSize: 1, rng: randomStream(2), propensityDraws: 0 });
    const s = new Float64Array(3);
    const p = new Float64Array(3);
    const gap = expectedClicks(pbm, 0, Int32Array.from([1, 3, 6]), s, p) - expectedClicks(pbm, 0, Int32Array.from(worse), s, p);
    expect(result.cumulativeRegret[99]).toBeCloseTo(100 * gap, 9);
  });

  it('delivers feedback in batches, with the cascade policies seeing down to the first click', () => {
    const { policy, updates } = fixedPolicy([1, 3, 6], 'cascade');
    const cascade: BanditWorld = { ...pbm, clickModel: createClickModel({ type: 'cascade' }, 3) };
    const counts: number[] = [];
    const batched = { ...policy, update: (...args: Parameters<SlatePolicy['update']>) => (policy.update(...args), counts.push(updates.length)) };
    const result = runOnline(batched, cascade, { rounds: 25, batchSize: 10, rng: randomStream(3), propensityDraws: 0 });
    // Updates arrive 10 at a time at the batch ends, the last 5 when the run ends.
    expect(updates.length).toBe(25);
    for (const u of updates) {
      const first = u.clicks.indexOf(1);
      expect(u.observed).toEqual(first < 0 ? [1, 1, 1] : [0, 1, 2].map((k) => (k <= first ? 1 : 0)));
    }
    expect(result.log.sessionQuery.length).toBe(25);
  });

  it('logs exact propensities for the uniform random policy', () => {
    const policy = createPolicy({ type: 'random' }, { numItems: 8, slateSize: 3 });
    const result = runOnline(policy, pbm, { rounds: 50, batchSize: 5, rng: randomStream(4), propensityDraws: 10 });
    expect(Array.from(new Set(result.propensity))).toEqual([Math.fround(1 / 8)]);
  });

  it('PBM-TS learns: its regret per round falls with time on a strongly biased PBM world', () => {
    const kappa = examinationProbabilities({ profile: 'eye-tracking', eta: 2 }, 3);
    const world: BanditWorld = { ...pbm, clickModel: createClickModel({ type: 'pbm', eta: 2 }, 3) };
    const policy = createPolicy({ type: 'pbm-ts' }, { numItems: 8, slateSize: 3, positionWeights: kappa });
    const result = runOnline(policy, world, { rounds: 20_000, batchSize: 1, rng: randomStream(5), propensityDraws: 0, recordEvery: 2000 });
    const perRound = Array.from(result.cumulativeRegret, (r, i) => r / result.rounds[i]);
    expect(perRound[perRound.length - 1]).toBeLessThan(perRound[0] / 2);
  });

  it('clicklab bandit prints the table and writes curves and logs with propensities', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'clicklab-bandit-'));
    const stdout = execFileSync(
      process.execPath,
      [
        path.resolve('dist/cli/main.js'),
        'bandit',
        '--policies',
        'bernoulli-ts',
        'random',
        '--items',
        '20',
        '--slate',
        '3',
        '--rounds',
        '400',
        '--batch',
        '10',
        '--seeds',
        '1',
        '2',
        '--propensity-draws',
        '200',
        '--write-logs',
        '--out',
        out,
        '--quiet',
      ],
      { encoding: 'utf8' },
    );
    expect(stdout).toMatch(/bernoulli-ts\s+[\d.]+ ± [\d.]+/);
    const saved = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(saved.curves.map((c: { policy: string }) => c.policy)).toEqual(['bernoulli-ts', 'random']);
    const { log, propensity } = await readClickLog(path.join(out, 'log-bernoulli-ts-seed1.parquet'));
    expect(log.sessionQuery.length).toBe(400);
    expect(propensity!.every((p) => p > 0 && p <= 1)).toBe(true);
  });
});

describe('bandit studies', () => {
  it('run every policy on the PBM, cascade and DBN click models', async () => {
    const { runBanditStudy } = await import('../../src/studies/bandit/run.js');
    const { POLICY_TYPES } = await import('../../src/policies/bandits/factory.js');
    for (const clickModel of [{ type: 'pbm' as const }, { type: 'cascade' as const }, { type: 'dbn' as const }]) {
      const result = runBanditStudy({
        numItems: 12,
        slateSize: 4,
        attractiveness: { low: 0.05, high: 0.5 },
        clickModel,
        policies: POLICY_TYPES.map((type) => (type === 'plackett-luce' ? { type, scores: Array.from({ length: 12 }, (_, i) => i / 4) } : { type })),
        rounds: 300,
        batchSize: 5,
        seeds: [1],
        propensityDraws: 20,
        curvePoints: 3,
      });
      expect(result.table.map((row) => row.policy)).toEqual([...POLICY_TYPES]);
      for (const row of result.table) expect(row.regret[0]).toBeGreaterThanOrEqual(-1e-9);
    }
  });
});

describe('contextual bandit studies', () => {
  it('linear TS uses the user features: far less regret than context-blind Bernoulli TS', async () => {
    const { runBanditStudy } = await import('../../src/studies/bandit/run.js');
    const result = runBanditStudy({
      numItems: 20,
      slateSize: 3,
      attractiveness: { low: 0, high: 1 },
      contextual: { users: 30, dimension: 3, bias: -2 },
      clickModel: { type: 'pbm' },
      policies: [{ type: 'bernoulli-ts' }, { type: 'lin-ts' }],
      rounds: 8000,
      batchSize: 1,
      seeds: [1, 2],
      propensityDraws: 0,
      curvePoints: 4,
    });
    const [bts, lin] = result.table;
    for (let s = 0; s < 2; s++) expect(lin.regret[s]).toBeLessThan(bts.regret[s] / 2);
  });
});
