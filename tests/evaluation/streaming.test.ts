import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeActionDistributionNpy } from '../../src/data/action-dist.js';
import { randomStream } from '../../src/core/random.js';
import { loadOpenBanditPriors, loadOpenBanditSample, openBanditPath } from '../../src/data/open-bandit.js';
import { InverseProbabilityWeighting, SelfNormalizedIPW } from '../../src/evaluation/estimators.js';
import { bootstrapInterval, type OffPolicyInputs } from '../../src/evaluation/off-policy.js';
import { rewardFreeEstimators } from '../../src/evaluation/registry.js';
import { poissonBootstrapCounts, StreamingOffPolicyEstimates } from '../../src/evaluation/streaming.js';
import { estimateOnOpenBanditStream } from '../../src/studies/ope/streamed-log.js';
import { policyActionDistribution, repeatActionDistribution } from '../../src/studies/ope/open-bandit-protocol.js';

const menRandom = openBanditPath('random/men/men.csv.gz');

describe('streamed off-policy estimates', () => {
  it('equal the in-memory estimates to 1e-12, with the same weight diagnostics, on the shipped men sample (uniform and BTS)', async () => {
    const { log } = await loadOpenBanditSample('random', 'men');
    const priors = await loadOpenBanditPriors('men');
    for (const policy of ['uniform', 'bts'] as const) {
      const perItem = policyActionDistribution(log, policy === 'uniform' ? 'uniform' : { ...priors, field: 'prior', source: 'test' }, 20_000, 1);
      const inputs: OffPolicyInputs = {
        reward: log.reward,
        action: log.action,
        position: log.position,
        pscore: log.pscore,
        actionDist: repeatActionDistribution(perItem, log.reward.length, log.numItems, log.numPositions),
      };
      const streamed = await estimateOnOpenBanditStream([menRandom], { perItemPosition: () => perItem }, { resamples: 50, batchRows: 777, rewardModel: false });
      expect(streamed.rows).toBe(log.reward.length);
      const estimators = rewardFreeEstimators(10);
      expect(streamed.table.map((r) => r.estimator)).toEqual(estimators.map((e) => e.name));
      estimators.forEach((estimator, e) => {
        const row = streamed.table[e];
        const expected = estimator.estimate(inputs);
        expect(Math.abs(row.estimate - expected)).toBeLessThanOrEqual(1e-12 * Math.abs(expected));
        const diagnostics = estimator.weightDiagnostics(inputs)!;
        expect(row.weights!.units).toBe(diagnostics.units);
        expect(row.weights!.maxWeightUnit).toBe(diagnostics.maxWeightUnit);
        expect(row.weights!.maxWeight).toBe(diagnostics.maxWeight);
        expect(row.weights!.effectiveSampleSize).toBeCloseTo(diagnostics.effectiveSampleSize, 8);
        expect(row.weights!.maxWeightShare).toBeCloseTo(diagnostics.maxWeightShare, 12);
      });
    }
  });

  it('do not depend on the batch size: byte-identical results for 1,000 and 100,000 rows per batch', async () => {
    const run = async (batchRows: number) =>
      JSON.stringify(
        await estimateOnOpenBanditStream([menRandom, menRandom], { perItemPosition: (A) => new Float64Array(A * 3).fill(1 / A) }, { resamples: 200, batchRows, seed: 5, rewardModel: false }),
      );
    const small = await run(1000);
    expect(small).toBe(await run(100_000));
    expect(JSON.parse(small).rows).toBe(20_000);
  });

  it('read a per-round .npy action distribution a slice at a time: the estimates of the same π_e given per item', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clicklab-stream-npy-'));
    try {
      const A = 34;
      const perItem = Float64Array.from({ length: A * 3 }, (_, j) => (Math.floor(j / 3) % 2 === 0 ? 1.5 : 0.5) / A);
      const npy = join(dir, 'pi.npy');
      writeActionDistributionNpy(npy, { rounds: 10_000, actions: A, positions: 3 }, repeatActionDistribution(perItem, 10_000, A, 3).values);
      const options = { resamples: 50, batchRows: 999, rewardModel: false };
      const fromFile = await estimateOnOpenBanditStream([menRandom], { file: npy }, options);
      const given = await estimateOnOpenBanditStream([menRandom], { perItemPosition: () => perItem }, options);
      expect(fromFile).toEqual(given);
      await expect(estimateOnOpenBanditStream([menRandom, menRandom], { file: npy }, options)).rejects.toThrow(
        /pi\.npy: expected one round per row of the log, found 10000 rounds for a log of at least 10999 rows/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draw Poisson(1) counts: mean 1, variance 1, P(0) = e^-1, from (seed, row, replicate) alone', () => {
    const counts: number[] = [];
    for (let row = 0; row < 2000; row++) counts.push(...poissonBootstrapCounts(9, row, 50));
    const n = counts.length;
    const mean = counts.reduce((s, c) => s + c, 0) / n;
    const variance = counts.reduce((s, c) => s + (c - mean) ** 2, 0) / n;
    const zeros = counts.filter((c) => c === 0).length / n;
    // Standard errors at n = 100,000: mean 1/√n = 0.0032, variance √(Var((c − 1)²)/n) = √(3/n) ≈ 0.0055, P(0) √(p(1−p)/n) = 0.0015; 4 of each.
    expect(Math.abs(mean - 1)).toBeLessThan(4 * 0.0032);
    expect(Math.abs(variance - 1)).toBeLessThan(4 * 0.0055);
    expect(Math.abs(zeros - Math.exp(-1))).toBeLessThan(4 * 0.0015);
    expect(Array.from(poissonBootstrapCounts(9, 123_456_789_012, 20))).toEqual(Array.from(poissonBootstrapCounts(9, 123_456_789_012, 20)));
    expect(Array.from(poissonBootstrapCounts(9, 7, 200))).not.toEqual(Array.from(poissonBootstrapCounts(10, 7, 200)));
  });

  it("the Poisson bootstrap's intervals agree with the multinomial bootstrap's in coverage and width (M = 200 simulated logs)", () => {
    // A bandit with 5 actions logged uniformly: θ_a the click rates, π_e the evaluation policy; V = Σ π_e θ.
    const theta = [0.3, 0.1, 0.05, 0.2, 0.1];
    const piE = [0.5, 0.2, 0.1, 0.1, 0.1];
    const truth = theta.reduce((s, t, a) => s + t * piE[a], 0);
    const n = 1000;
    const M = 200;
    const R = 300;
    const rng = randomStream('poisson-vs-multinomial');
    const estimators = [new InverseProbabilityWeighting(), new SelfNormalizedIPW()];
    const covered = estimators.map(() => ({ multinomial: 0, poisson: 0 }));
    const ratios = estimators.map(() => [] as number[]);
    for (let m = 0; m < M; m++) {
      const action = Int32Array.from({ length: n }, () => rng.int(5));
      const reward = Uint8Array.from(action, (a) => (rng.uniform() < theta[a] ? 1 : 0));
      const inputs: OffPolicyInputs = {
        reward,
        action,
        pscore: new Float64Array(n).fill(0.2),
        actionDist: repeatActionDistribution(Float64Array.from(piE), n, 5, 1),
      };
      const streaming = new StreamingOffPolicyEstimates(estimators, { resamples: R, seed: m });
      streaming.add(inputs);
      const poisson = streaming.result();
      estimators.forEach((estimator, e) => {
        const multinomial = bootstrapInterval(estimator.terms(inputs), { resamples: R, seed: m });
        expect(poisson[e].estimate).toBe(multinomial.estimate);
        if (multinomial.lower <= truth && truth <= multinomial.upper) covered[e].multinomial++;
        if (poisson[e].lower <= truth && truth <= poisson[e].upper) covered[e].poisson++;
        ratios[e].push((poisson[e].upper - poisson[e].lower) / (multinomial.upper - multinomial.lower));
      });
    }
    for (let e = 0; e < estimators.length; e++) {
      // Coverage: each a binomial proportion over M logs near 0.95; the difference has sd ≤ √(2 · 0.95 · 0.05 / M) = 0.0218 (less: the logs are shared). 4 sd.
      const pm = covered[e].multinomial / M;
      const pp = covered[e].poisson / M;
      expect(Math.abs(pp - pm)).toBeLessThan(4 * Math.sqrt((2 * 0.95 * 0.05) / M));
      expect(pm).toBeGreaterThan(0.95 - 4 * Math.sqrt((0.95 * 0.05) / M));
      // Width: the mean of the paired width ratios is 1 within 4 standard errors (the spread comes from the R replicates' quantiles).
      const mean = ratios[e].reduce((s, r) => s + r, 0) / M;
      const sd = Math.sqrt(ratios[e].reduce((s, r) => s + (r - mean) ** 2, 0) / (M - 1));
      expect(Math.abs(mean - 1)).toBeLessThan(4 * (sd / Math.sqrt(M)));
    }
  });
});
