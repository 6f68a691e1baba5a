import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { InverseProbabilityWeighting } from '../../src/evaluation/estimators.js';
import { SlateStandardIPS } from '../../src/evaluation/slate-estimators.js';
import { createSlateWorld, sampleSimulatedSlateLog } from '../../src/simulation/slate-world.js';
import { runEstimatorComparison, slateInputsOf, standardInputsOf, type EstimatorComparisonRow } from '../../src/studies/ope/estimator-comparison.js';

/** Each estimator's mean over R logs must lie within 4 standard errors (√(variance / R)) of the truth. */
function expectUnbiased(rows: EstimatorComparisonRow[], names: string[]): void {
  for (const name of names) {
    const row = rows.find((r) => r.estimator === name)!;
    const se = Math.sqrt(row.variance / row.replicates);
    expect(se, name).toBeGreaterThan(0);
    expect(Math.abs(row.bias), `${name}: bias ${row.bias} vs se ${se}`).toBeLessThan(4 * se);
  }
}

describe('statistical unbiasedness on a simulated slate world with exact truth', () => {
  it('the world’s exact probabilities are consistent', () => {
    const world = createSlateWorld(1);
    const { users: U, numSlates: S, slateSize: K, items: A } = world;
    for (let u = 0; u < U; u++) {
      let total = 0;
      for (let s = 0; s < S; s++) total += world.logging.slate[u * S + s];
      expect(total).toBeCloseTo(1, 12);
      for (let k = 0; k < K; k++) {
        let m = 0;
        for (let a = 0; a < A; a++) m += world.evaluation.marginal[(u * A + a) * K + k];
        expect(m).toBeCloseTo(1, 12);
      }
      // The last prefix of a slate is the whole slate.
      expect(world.logging.prefix[(u * S + 5) * K + K - 1]).toBe(world.logging.slate[u * S + 5]);
    }
    // The empirical CTR of the logging policy's own log converges to its exact value.
    const log = sampleSimulatedSlateLog(world, 40_000, randomStream(3));
    let clicks = 0;
    for (const c of log.click) clicks += c;
    const ctr = clicks / (40_000 * K);
    const se = Math.sqrt((world.logging.value * (1 - world.logging.value)) / (40_000 * K));
    expect(Math.abs(ctr - world.logging.value)).toBeLessThan(5 * se);
  });

  it('under PBM: IPW, DR (fitted, cross-fitted), DM and DR with the true model, and SIPS, IIPS, RIPS are unbiased', () => {
    const result = runEstimatorComparison({ world: { clickModel: 'pbm' }, sampleSizes: [300], seeds: 150 });
    expectUnbiased(result.rows, ['ipw', 'dr', 'dm (true q)', 'dr (true q)', 'sips', 'iips', 'rips']);
    // The fitted model is misspecified (a logistic model with no user × item term): DM alone is biased,
    // which is what DR corrects. (This checks that the test above can tell biased from unbiased.)
    const dm = result.rows.find((r) => r.estimator === 'dm')!;
    expect(Math.abs(dm.bias)).toBeGreaterThan(6 * Math.sqrt(dm.variance / dm.replicates));
  });

  it('under a cascade: SIPS and RIPS stay unbiased, while IIPS (which assumes position-wise rewards) is biased', () => {
    const result = runEstimatorComparison({ world: { clickModel: 'cascade' }, sampleSizes: [300], seeds: 150 });
    expectUnbiased(result.rows, ['sips', 'rips']);
    const iips = result.rows.find((r) => r.estimator === 'iips')!;
    expect(iips.bias).toBeGreaterThan(6 * Math.sqrt(iips.variance / iips.replicates));
  });

  it('95% bootstrap intervals cover the true value about 95% of the time', () => {
    // 200 logs of 300 slates; IPW resamples rows, SIPS resamples slates. Coverage of a correct 95%
    // interval over 200 logs has standard deviation 1.5%: accept 88% to 99.5%.
    const world = createSlateWorld(1);
    const truth = world.evaluation.value;
    const K = world.slateSize;
    const logs = 200;
    let ipwCovered = 0;
    let sipsCovered = 0;
    for (let r = 0; r < logs; r++) {
      const log = sampleSimulatedSlateLog(world, 300, randomStream(11).derive(r));
      const ipw = new InverseProbabilityWeighting().estimateInterval(standardInputsOf(world, log), { resamples: 300, seed: r });
      const sips = new SlateStandardIPS().estimateInterval(slateInputsOf(world, log), { resamples: 300, seed: r });
      if (ipw.lower <= truth && truth <= ipw.upper) ipwCovered++;
      if (sips.lower / K <= truth && truth <= sips.upper / K) sipsCovered++;
    }
    for (const covered of [ipwCovered, sipsCovered]) {
      expect(covered / logs).toBeGreaterThanOrEqual(0.88);
      expect(covered / logs).toBeLessThanOrEqual(0.995);
    }
  });
});
