import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import type { ClickLog } from '../../src/core/types.js';
import { estimatePropensitiesByHarvesting, estimatePropensitiesFromSwaps, harvestInterventions, propensityError } from '../../src/learning/propensity-estimation.js';
import { rankByScores } from '../../src/policies/ranking.js';
import { PositionBasedModel } from '../../src/simulation/click-models/pbm.js';
import { examinationProbabilities, relativeToFirst } from '../../src/simulation/examination.js';
import { gradedRelevanceTable, relevanceProbabilities } from '../../src/simulation/relevance.js';
import { simulateSessions } from '../../src/simulation/sessions.js';
import { featureColumn, syntheticWorld } from '../helpers/synthetic.js';

const examination = examinationProbabilities({ profile: 'eye-tracking', eta: 1 }, 10);
const truth = Array.from(relativeToFirst(examination));
const world = syntheticWorld(400, 12, 7);
const relevance = relevanceProbabilities(world.labels, gradedRelevanceTable({ epsilon: 0.1, maxGrade: 2 }));
const clicker = new PositionBasedModel(examination);

describe('RandPair (swap interventions)', () => {
  const production = rankByScores(world, featureColumn(world, 0), 10);
  const numSessions = 400_000;
  const { log } = simulateSessions(production, { numSessions, clickModel: clicker, relevance, rng: randomStream('swap'), intervention: 'swap', truth: false });
  const estimate = estimatePropensitiesFromSwaps(log, production, 10);

  it('the swap intervention swaps rank 1 with one other rank in about half of the sessions', () => {
    let swapped = 0;
    for (let s = 0; s < numSessions; s++) {
      const start = log.sessionOffsets[s];
      if (log.document[start] !== production.documents[production.offsets[log.sessionQuery[s]]]) swapped++;
    }
    // Binomial(n, 1/2): 4 standard deviations.
    expect(Math.abs(swapped / numSessions - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / numSessions));
  });

  it('converges to the true p_k / p_1 within four standard errors per rank', () => {
    // Each ratio is (a + b)/(c + d) of four click rates; its delta-method standard error is bounded by
    // the rates' binomial errors: ratio · √(Σ var) / (c + d) with var = rate/n (rates ≪ 1).
    const controlSessions = estimate.impressions[0];
    for (let k = 1; k < 10; k++) {
      const swapSessions = estimate.impressions[k] - controlSessions;
      const denominatorRate = estimate.clicks[0] / controlSessions;
      const variance = estimate.clicks[k] / Math.min(swapSessions, controlSessions) ** 2 + (2 * denominatorRate) / Math.min(swapSessions, controlSessions);
      const se = (Math.max(estimate.relative[k], 0.05) * Math.sqrt(variance)) / denominatorRate;
      expect(Math.abs(estimate.relative[k] - truth[k])).toBeLessThan(4 * se);
    }
    expect(propensityError(estimate.relative, truth).maxAbsolute).toBeLessThan(0.05);
  });

  it('rejects a log that is not a swap experiment of the given ranking', () => {
    const other = rankByScores(world, featureColumn(world, 2), 10);
    const { log: shuffled } = simulateSessions(other, { numSessions: 2000, clickModel: clicker, relevance, rng: randomStream('x'), intervention: 'shuffle', truth: false });
    expect(() => estimatePropensitiesFromSwaps(shuffled, production, 10)).toThrow(/not a swap-intervention log/);
  });
});

describe('intervention harvesting from several rankers (global all-pairs extremum estimator)', () => {
  // Three deterministic rankers that agree partly (they share feature 0), as production rankers
  // of successive versions do: each one's log holds every document at one rank only.
  const rankers = [0, 1, 2].map((r) => {
    const rng = randomStream(`ranker ${r}`);
    return Float32Array.from({ length: world.labels.length }, (_, i) => world.features[i * 3] + rng.normal());
  });
  const logs: ClickLog[] = rankers.map(
    (scores, r) => simulateSessions(rankByScores(world, scores, 10), { numSessions: 150_000, clickModel: clicker, relevance, rng: randomStream(`harvest ${r}`), truth: false }).log,
  );

  it('intervention sets are symmetric in size and hold documents seen at both ranks', () => {
    const sets = harvestInterventions(logs, 10);
    for (let k = 0; k < 10; k++) {
      for (let k2 = 0; k2 < 10; k2++) expect(sets.size[k][k2]).toBe(sets.size[k2][k]);
      expect(sets.size[k][k]).toBe(0);
    }
    expect(sets.size[0][9]).toBeGreaterThan(20);
  });

  it('converges to the true p_k / p_1 from the logs alone', () => {
    const estimate = estimatePropensitiesByHarvesting(logs);
    const error = propensityError(estimate.relative, truth);
    // Every (document, rank) CTR rests on ≈ 150,000 · 3 / (400 · 10) ≈ 110 impressions per ranker
    // placement; a set of n documents gives each ratio a relative error ≈ 1/√(Σ clicks). The smallest
    // sets (ranks far apart, ≈ 50 documents, ≈ 300 clicks) put it near 6%: allow 3× that of the truth.
    for (let k = 1; k < 10; k++) expect(Math.abs(error.perRank[k])).toBeLessThan(0.18 * truth[k] + 0.01);
    expect(error.rootMeanSquare).toBeLessThan(0.03);
  });

  it('a single deterministic ranker has no interventions to harvest', () => {
    expect(() => estimatePropensitiesByHarvesting([logs[0]])).toThrow(/nothing to harvest/);
  });
});
