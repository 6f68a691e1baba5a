import type { ClickLog } from '../core/types.js';

export interface PropensityEstimate {
  /** Estimated p_k / p_1 for ranks 1..numRanks (0-based array). */
  readonly relative: number[];
  readonly clicks: number[];
  readonly impressions: number[];
}

/**
 * Position bias from a RandTop-n experiment (Joachims et al., WSDM 2017): when each session shows
 * its top-n documents in a uniformly random order, every document is equally likely at every rank,
 * so under the PBM  E[CTR_k] = p_k · E[relevance], and p_k / p_1 = CTR_k / CTR_1.
 * Only sessions that fill all `numRanks` slots are used: with shorter lists the set of queries
 * behind each rank would differ, and so would their mean relevance.
 */
export function estimatePropensitiesFromShuffle(log: ClickLog, numRanks: number): PropensityEstimate {
  const clicks = new Array<number>(numRanks).fill(0);
  const impressions = new Array<number>(numRanks).fill(0);
  const numSessions = log.sessionQuery.length;
  for (let s = 0; s < numSessions; s++) {
    const start = log.sessionOffsets[s];
    if (log.sessionOffsets[s + 1] - start < numRanks) continue;
    for (let k = 0; k < numRanks; k++) {
      impressions[k]++;
      clicks[k] += log.click[start + k];
    }
  }
  if (impressions[0] === 0) throw new RangeError(`no session in the intervention log shows ${numRanks} documents`);
  if (clicks[0] === 0) throw new RangeError('no click at rank 1 in the intervention log: too few sessions to estimate propensities');
  const ctr1 = clicks[0] / impressions[0];
  return { relative: clicks.map((c, k) => c / impressions[k] / ctr1), clicks, impressions };
}
