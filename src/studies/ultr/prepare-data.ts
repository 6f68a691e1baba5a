import type { RankingSplits } from '../../core/types.js';
import { dropQueriesWithoutRelevant, loadLetorSplits, loadRankingDataset } from '../../data/index.js';
import type { Scenario } from './scenario.js';
import type { PreparedData } from './run.js';

/** Load a scenario's data set and keep, for evaluation, the queries that have a relevant document. */
export function prepareData(scenario: Scenario): PreparedData {
  const d = scenario.dataset;
  const splits: RankingSplits =
    d.name === 'mq2008' ? loadRankingDataset('mq2008', { fold: d.fold }) : loadLetorSplits({ train: d.train, validation: d.validation, test: d.test }, 'letor', { normalization: d.normalization });
  // Standard protocol: queries without any relevant document cannot be scored by nDCG.
  return {
    train: splits.train,
    validation: dropQueriesWithoutRelevant(splits.validation),
    test: dropQueriesWithoutRelevant(splits.test),
    maxGrade: maxLabel(splits),
  };
}

function maxLabel(splits: RankingSplits): number {
  let max = 0;
  for (const d of [splits.train, splits.validation, splits.test]) for (const y of d.labels) max = Math.max(max, y);
  return max;
}
