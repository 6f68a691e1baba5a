import type { ClickLog } from '../core/types.js';
import type { DisplayedLists } from '../simulation/sessions.js';

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

/**
 * Position bias from a RandPair (swap) experiment (Joachims et al., WSDM 2017): half of the
 * sessions show the production ranking `production`; the other half swap its rank-1 result d_1
 * with its rank-k result d_k, k drawn uniformly from 2..n (`simulateSessions` with
 * `intervention: 'swap'`). The same two documents are then seen at ranks 1 and k in both halves:
 *   E[CTR_k | swapped with k] = p_k r̄(d_1),   E[CTR_k | unswapped] = p_k r̄(d_k),
 *   E[CTR_1 | unswapped] = p_1 r̄(d_1),       E[CTR_1 | swapped with k] = p_1 r̄(d_k),
 * so p_k / p_1 = (CTR_k^swap + CTR_k^control) / (CTR_1^control + CTR_1^swap), rates per group.
 * A session is recognised as swapped with k when its rank-k document is the query's production
 * rank-1 document. Only sessions showing `numRanks` results are used, as in the RandTop-n estimate,
 * so that both groups have the same mixture of queries.
 */
export function estimatePropensitiesFromSwaps(log: ClickLog, production: DisplayedLists, numRanks: number): PropensityEstimate {
  const controlClicks = new Float64Array(numRanks);
  let controlSessions = 0;
  const swapFirstClicks = new Float64Array(numRanks);
  const swapOtherClicks = new Float64Array(numRanks);
  const swapSessions = new Float64Array(numRanks);
  const numSessions = log.sessionQuery.length;
  for (let s = 0; s < numSessions; s++) {
    const start = log.sessionOffsets[s];
    if (log.sessionOffsets[s + 1] - start !== numRanks) continue;
    const topDocument = production.documents[production.offsets[log.sessionQuery[s]]];
    if (log.document[start] === topDocument) {
      controlSessions++;
      for (let k = 0; k < numRanks; k++) controlClicks[k] += log.click[start + k];
      continue;
    }
    let k = 1;
    while (k < numRanks && log.document[start + k] !== topDocument) k++;
    if (k === numRanks) throw new RangeError(`session ${s}: its rank-1 document is not the production one, and the production one is not in the list: not a swap-intervention log of this ranking`);
    swapSessions[k]++;
    swapFirstClicks[k] += log.click[start];
    swapOtherClicks[k] += log.click[start + k];
  }
  if (controlSessions === 0) throw new RangeError(`no unswapped session shows ${numRanks} documents`);
  const relative = [1];
  const clicks = [controlClicks[0]];
  const impressions = [controlSessions];
  for (let k = 1; k < numRanks; k++) {
    if (swapSessions[k] === 0) throw new RangeError(`no session swaps ranks 1 and ${k + 1}: too few sessions`);
    const numerator = swapOtherClicks[k] / swapSessions[k] + controlClicks[k] / controlSessions;
    const denominator = controlClicks[0] / controlSessions + swapFirstClicks[k] / swapSessions[k];
    if (denominator === 0) throw new RangeError(`no click at rank 1 in the sessions of pair (1, ${k + 1}): too few sessions`);
    relative.push(numerator / denominator);
    clicks.push(swapOtherClicks[k] + controlClicks[k]);
    impressions.push(swapSessions[k] + controlSessions);
  }
  return { relative, clicks, impressions };
}

export interface HarvestOptions {
  /** Ranks considered (default: the longest list in the logs). */
  readonly numRanks?: number;
  /** Gradient steps of the likelihood maximisation (default 4000). */
  readonly iterations?: number;
}

/** The intervention sets of `estimatePropensitiesByHarvesting`: for ranks k ≠ k′, summed CTRs and sizes. */
export interface InterventionSets {
  readonly numRanks: number;
  /** ĉ[k][k′] = Σ_{d ∈ S_{k,k′}} CTR(d at k): the clicks at k of the documents also seen at k′. */
  readonly clicks: Float64Array[];
  /** |S_{k,k′}|: documents seen at both k and k′ (symmetric). */
  readonly size: Float64Array[];
}

/**
 * The intervention sets of logs from several rankers (Agarwal et al., WSDM 2019): the same
 * (query, document) shown at rank k by one ranker and at k′ by another is a natural intervention.
 * Each (query, document, rank) counts once with its click-through rate, so that a ranker's share
 * of the traffic does not weigh its placements (the paper's weights w(q, d, k) = 1/#impressions
 * of d at k). Documents are the logs' document rows, which identify (query, document).
 */
export function harvestInterventions(logs: readonly ClickLog[], numRanks: number): InterventionSets {
  const impressions = new Map<number, Float64Array>();
  const clicked = new Map<number, Float64Array>();
  for (const log of logs) {
    for (let r = 0; r < log.document.length; r++) {
      const k = log.position[r];
      if (k >= numRanks) continue;
      const d = log.document[r];
      let n = impressions.get(d);
      let c = clicked.get(d);
      if (!n || !c) {
        n = new Float64Array(numRanks);
        c = new Float64Array(numRanks);
        impressions.set(d, n);
        clicked.set(d, c);
      }
      n[k]++;
      c[k] += log.click[r];
    }
  }
  const clicks = Array.from({ length: numRanks }, () => new Float64Array(numRanks));
  const size = Array.from({ length: numRanks }, () => new Float64Array(numRanks));
  const seen: number[] = [];
  for (const [d, n] of impressions) {
    const c = clicked.get(d)!;
    seen.length = 0;
    for (let k = 0; k < numRanks; k++) if (n[k] > 0) seen.push(k);
    for (const k of seen) {
      for (const k2 of seen) {
        if (k === k2) continue;
        clicks[k][k2] += c[k] / n[k];
        size[k][k2] += 1;
      }
    }
  }
  return { numRanks, clicks, size };
}

/**
 * Intervention harvesting with the global all-pairs extremum estimator (Agarwal et al., WSDM
 * 2019): from logs of several deterministic rankers alone, with no intrusive intervention. Under
 * the PBM the clicks at k of the intervention set S_{k,k′} have expectation p_k · r_{k,k′} · |S_{k,k′}|,
 * r_{k,k′} = r_{k′,k} the set's mean relevance; the estimate maximises, over all pairs at once,
 *   Σ_{k ≠ k′} ĉ_k^{k,k′} log(p_k r_{k,k′}) + (|S_{k,k′}| − ĉ_k^{k,k′}) log(1 − p_k r_{k,k′}),
 * with p_1 = 1 (only ratios are identified) and p_k = σ(a_k), r = σ(b): Adam on the average
 * log-likelihood. Pairs that no document links (|S| = 0) drop out; a rank linked to no other is
 * an error.
 */
export function estimatePropensitiesByHarvesting(logs: readonly ClickLog[], options: HarvestOptions = {}): PropensityEstimate & { sets: InterventionSets } {
  let longest = 0;
  for (const log of logs) for (let s = 0; s + 1 < log.sessionOffsets.length; s++) longest = Math.max(longest, log.sessionOffsets[s + 1] - log.sessionOffsets[s]);
  const numRanks = options.numRanks ?? longest;
  const sets = harvestInterventions(logs, numRanks);
  for (let k = 0; k < numRanks; k++) {
    if (!sets.size[k].some((n) => n > 0)) throw new RangeError(`rank ${k + 1}: no document was shown there and at another rank by the logged rankers: nothing to harvest`);
  }
  const K = numRanks;
  // Parameters: a_k (k ≥ 1; p_0 = 1) and b_{k,k′} for k < k′.
  const numParams = K + K * K;
  const params = new Float64Array(numParams);
  let total = 0;
  for (let k = 0; k < K; k++) for (let k2 = 0; k2 < K; k2++) total += sets.size[k][k2];
  for (let k = 0; k < K; k++) {
    for (let k2 = k + 1; k2 < K; k2++) {
      const n = sets.size[k][k2];
      const ctr = n > 0 ? (sets.clicks[k][k2] + sets.clicks[k2][k]) / (2 * n) : 0.5;
      params[K + k * K + k2] = Math.log(Math.max(ctr, 1e-3) / (1 - Math.min(ctr, 0.999)));
    }
  }
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const grad = new Float64Array(numParams);
  const m = new Float64Array(numParams);
  const v = new Float64Array(numParams);
  const iterations = options.iterations ?? 4000;
  const learningRate = 0.05;
  for (let it = 1; it <= iterations; it++) {
    grad.fill(0);
    for (let k = 0; k < K; k++) {
      const p = k === 0 ? 1 : sigmoid(params[k]);
      for (let k2 = 0; k2 < K; k2++) {
        const n = sets.size[k][k2];
        if (k === k2 || n === 0) continue;
        const bIndex = K + Math.min(k, k2) * K + Math.max(k, k2);
        const r = sigmoid(params[bIndex]);
        const x = Math.min(Math.max(p * r, 1e-9), 1 - 1e-9);
        const c = sets.clicks[k][k2];
        // d/dx [c log x + (n − c) log(1 − x)], then the chain rule through p = σ(a), r = σ(b).
        const dx = (c / x - (n - c) / (1 - x)) / total;
        if (k > 0) grad[k] += dx * r * p * (1 - p);
        grad[bIndex] += dx * p * r * (1 - r);
      }
    }
    for (let i = 1; i < numParams; i++) {
      // Adam ascent (β1 = 0.9, β2 = 0.999).
      m[i] = 0.9 * m[i] + 0.1 * grad[i];
      v[i] = 0.999 * v[i] + 0.001 * grad[i] * grad[i];
      const mHat = m[i] / (1 - Math.pow(0.9, it));
      const vHat = v[i] / (1 - Math.pow(0.999, it));
      params[i] += (learningRate * mHat) / (Math.sqrt(vHat) + 1e-12);
    }
  }
  const relative = Array.from({ length: K }, (_, k) => (k === 0 ? 1 : sigmoid(params[k])));
  const clicks = Array.from({ length: K }, (_, k) => sets.clicks[k].reduce((a, b) => a + b, 0));
  const impressions = Array.from({ length: K }, (_, k) => sets.size[k].reduce((a, b) => a + b, 0));
  return { relative, clicks, impressions, sets };
}

/** How far relative propensities are from the truth: per rank, the largest, and the root mean square. */
export function propensityError(estimate: ArrayLike<number>, truth: ArrayLike<number>): { perRank: number[]; maxAbsolute: number; rootMeanSquare: number } {
  const n = Math.min(estimate.length, truth.length);
  const perRank = Array.from({ length: n }, (_, k) => estimate[k] - truth[k]);
  return {
    perRank,
    maxAbsolute: Math.max(...perRank.map(Math.abs)),
    rootMeanSquare: Math.sqrt(perRank.reduce((s, e) => s + e * e, 0) / n),
  };
}
