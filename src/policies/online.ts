import type { RandomStream } from '../core/random.js';
import type { ClickLog } from '../core/types.js';
import type { BanditWorld } from '../simulation/bandit-world.js';
import { allObserved, cascadeObserved } from './bandits/common.js';
import type { SlatePolicy } from './slate-policy.js';

export interface OnlineOptions {
  readonly rounds: number;
  /** Feedback reaches the policy every `batchSize` rounds (1 = immediately): delayed feedback. */
  readonly batchSize: number;
  readonly rng: RandomStream;
  /** Monte Carlo draws per batch for the logged propensities of stochastic policies; 0 logs none. */
  readonly propensityDraws: number;
  /** Record the cumulative curves every this many rounds (default: every round). */
  readonly recordEvery?: number;
  readonly onProgress?: (round: number) => void;
}

export interface OnlineResult {
  /** One session per round (its query is the round's user), results in slate order. */
  readonly log: ClickLog;
  /** P(item at its position) under the policy when it chose, per row (when propensityDraws > 0). */
  readonly propensity?: Float32Array;
  /** P(the whole slate) per round, for policies with a closed form (when propensityDraws > 0). */
  readonly slatePropensity?: Float64Array;
  /** Rounds at which the curves were recorded. */
  readonly rounds: Int32Array;
  readonly cumulativeClicks: Float64Array;
  /** Σ over rounds of E[clicks | best slate] − E[clicks | chosen slate], under the true model. */
  readonly cumulativeRegret: Float64Array;
  /** E[clicks] of the best slate, per user. */
  readonly bestExpectedClicks: Float64Array;
}

/**
 * The best slate under the true model: the K most attractive items, most attractive first. It
 * maximises expected clicks under the PBM with decreasing examination (rearrangement inequality)
 * and under the cascade model (whose expected clicks do not depend on the order); for the other
 * models it is the reference the regret is measured against.
 */
export function bestSlate(attractiveness: Float64Array, slateSize: number): Int32Array {
  return Int32Array.from({ length: attractiveness.length }, (_, i) => i)
    .sort((a, b) => attractiveness[b] - attractiveness[a] || a - b)
    .slice(0, slateSize);
}

/** E[clicks] of a slate shown to `user` under the true model. */
export function expectedClicks(world: BanditWorld, user: number, slate: Int32Array, scratch: Float64Array, probabilities: Float64Array): number {
  for (let k = 0; k < slate.length; k++) scratch[k] = world.attractiveness[user * world.numItems + slate[k]];
  world.clickModel.clickProbabilities(scratch, slate.length, probabilities);
  let total = 0;
  for (let k = 0; k < slate.length; k++) total += probabilities[k];
  return total;
}

/**
 * Run a policy against a simulated world for `rounds` rounds: each round the policy chooses a
 * slate (and, with propensityDraws > 0, reports the probability of each item at its position),
 * the click model draws the clicks, and every `batchSize` rounds the policy learns from the batch.
 */
export function runOnline(policy: SlatePolicy, world: BanditWorld, options: OnlineOptions): OnlineResult {
  const { rounds, batchSize, rng, propensityDraws } = options;
  const K = policy.slateSize;
  const recordEvery = options.recordEvery ?? 1;
  const numUsers = world.numUsers ?? 1;
  if (world.numItems !== policy.numItems || world.attractiveness.length !== numUsers * world.numItems) {
    throw new RangeError(`the world has ${world.numItems} items (${world.attractiveness.length} attractiveness values for ${numUsers} users), the policy ${policy.numItems}`);
  }
  const userRng = rng.derive('users');
  const chooseRng = rng.derive('choose');
  const clickRng = rng.derive('clicks');
  const propensityRng = rng.derive('propensities');
  const rows = rounds * K;
  const document = new Int32Array(rows);
  const position = new Uint16Array(rows);
  const click = new Uint8Array(rows);
  const propensity = propensityDraws > 0 ? new Float32Array(rows) : undefined;
  const marginals = propensityDraws > 0 ? new Float64Array(policy.numItems * K) : undefined;
  const slatePropensity = propensityDraws > 0 && policy.slateProbability ? new Float64Array(rounds) : undefined;
  const numRecords = Math.ceil(rounds / recordEvery);
  const recordedRounds = new Int32Array(numRecords);
  const cumulativeClicks = new Float64Array(numRecords);
  const cumulativeRegret = new Float64Array(numRecords);

  const scratch = new Float64Array(K);
  const probabilities = new Float64Array(K);
  const best = Float64Array.from({ length: numUsers }, (_, u) =>
    expectedClicks(world, u, bestSlate(world.attractiveness.subarray(u * world.numItems, (u + 1) * world.numItems), K), scratch, probabilities),
  );
  const sessionQuery = new Int32Array(rounds);
  const slotRelevance = new Float32Array(K);
  const out = { click: new Uint8Array(K), examined: new Uint8Array(K), examinationProbability: new Float32Array(K) };
  const observed = new Uint8Array(K);
  let clicks = 0;
  let regret = 0;
  let batchStart = 0;

  const learn = (end: number) => {
    for (let round = batchStart; round < end; round++) {
      const slate = document.subarray(round * K, round * K + K);
      const clicked = click.subarray(round * K, round * K + K);
      if (policy.feedback === 'cascade') cascadeObserved(clicked, observed, K);
      else allObserved(observed, K);
      policy.update(slate, clicked, observed, sessionQuery[round]);
    }
    batchStart = end;
  };

  for (let round = 0; round < rounds; round++) {
    const user = numUsers > 1 ? userRng.int(numUsers) : 0;
    sessionQuery[round] = user;
    const slate = document.subarray(round * K, round * K + K);
    // The policy's state changes only between batches, and so do its propensities (per user).
    if (marginals && (round % batchSize === 0 || numUsers > 1)) policy.positionPropensities(propensityRng, propensityDraws, marginals, user);
    policy.choose(chooseRng, slate, user);
    if (slatePropensity) slatePropensity[round] = policy.slateProbability!(slate, user);
    for (let k = 0; k < K; k++) {
      position[round * K + k] = k;
      slotRelevance[k] = world.attractiveness[user * world.numItems + slate[k]];
      // What was shown cannot have probability 0: a Monte Carlo estimate that missed it is raised to
      // its resolution, 1/(draws + 1). Exact propensities of shown items are never 0.
      if (marginals && propensity) propensity[round * K + k] = Math.max(marginals[slate[k] * K + k], 1 / (propensityDraws + 1));
    }
    world.clickModel.simulate(slotRelevance, 0, K, clickRng, out);
    click.set(out.click, round * K);
    for (let k = 0; k < K; k++) clicks += out.click[k];
    regret += best[user] - expectedClicks(world, user, slate, scratch, probabilities);
    if ((round + 1) % batchSize === 0) learn(round + 1);
    if ((round + 1) % recordEvery === 0 || round + 1 === rounds) {
      const r = Math.floor(round / recordEvery);
      recordedRounds[r] = round + 1;
      cumulativeClicks[r] = clicks;
      cumulativeRegret[r] = regret;
    }
    if (options.onProgress && (round + 1) % 10_000 === 0) options.onProgress(round + 1);
  }
  learn(rounds);
  const sessionOffsets = Int32Array.from({ length: rounds + 1 }, (_, s) => s * K);
  return {
    log: { sessionQuery, sessionOffsets, document, position, click },
    propensity,
    slatePropensity,
    rounds: recordedRounds,
    cumulativeClicks,
    cumulativeRegret,
    bestExpectedClicks: best,
  };
}
