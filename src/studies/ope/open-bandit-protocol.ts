/**
 * The Open Bandit protocol (Saito et al. 2021): estimate one policy's value from the other
 * policy's log of the same campaign, and score each estimator by its relative error against the
 * evaluated policy's on-policy CTR in its own log, |V̂ − V_on| / V_on.
 *
 * - Bernoulli TS evaluated on the random log: π_e(a at k) by Monte Carlo over clicklab's own
 *   `BernoulliTS` with ZOZOTOWN's per-item Beta priors (OBP's `is_zozotown_prior`, no updates),
 *   as OBP computes it (`compute_batch_action_dist`); the same for every row (it has no context).
 * - The random policy evaluated on the BTS log: π_e(a at k) = 1/#items.
 *
 * - Any other π_e from a file (`actionDistFile`, OBP's rounds × actions × positions layout, see
 *   data/action-dist.ts), per round.
 *
 * The logs are the shipped sample of the campaign, or any campaign's random and BTS logs named by
 * `randomLog` and `btsLog` (both, or neither).
 *
 * The reward model of DM and the DR family is a cross-fitted logistic regression on the logging
 * log: intercept, item, position, the four hashed user features (one-hot) and the user's affinity
 * to the item.
 */
import { ConfigError } from '../../core/errors.js';
import { readActionDistribution } from '../../data/action-dist.js';
import { type BetaPriors, loadOpenBanditPriors, loadOpenBanditSample, readOpenBanditLog, type OpenBanditCampaign, type OpenBanditLog, type OpenBanditPolicy } from '../../data/open-bandit.js';
import { type ActionArray, type OffPolicyInputs, type WeightDiagnostics, weightWarning } from '../../evaluation/off-policy.js';
import { standardEstimators } from '../../evaluation/registry.js';
import { crossFitRewardModel, oneHotRewardFeatures, type RewardFeatures } from '../../evaluation/reward-model.js';
import { mean } from '../../evaluation/statistics.js';
import { bernoulliTsActionDistribution } from '../../policies/bandits/bernoulli-ts.js';

export interface OpenBanditProtocolOptions extends Omit<OpenBanditLogEstimateOptions, 'groundTruth'> {
  readonly campaign?: OpenBanditCampaign;
  /** The evaluated policy: 'bts' (from the random log, the default) or 'random' (from the BTS log). */
  readonly evaluate?: OpenBanditPolicy;
  /**
   * How π_e of Bernoulli TS is obtained: 'prior' (default, OBP's way) by Monte Carlo from the
   * ZOZOTOWN priors, or 'empirical': the frequency of each (item, position) among the BTS log's rows
   * at that position (the production policy's distribution averaged over the week; its actions only,
   * no rewards).
   */
  readonly btsActionDist?: 'prior' | 'empirical';
  /** Monte Carlo draws of Bernoulli TS's slate for π_e (default 100,000, as OBP). */
  readonly draws?: number;
  /** The campaign's uniform-random log (Open Bandit CSV, plain or gzip) instead of the shipped sample; with `btsLog`. */
  readonly randomLog?: string;
  /** The campaign's Bernoulli TS log instead of the shipped sample; with `randomLog`. */
  readonly btsLog?: string;
  /** Beta priors of Bernoulli TS (one per item; `source` names them in errors) instead of the shipped ones of `campaign`. */
  readonly priors?: BetaPriors & { readonly source: string };
  /** π_e from a file in OBP's layout (rounds × actions × positions of the logging log) instead of the built-in ones. */
  readonly actionDistFile?: string;
  /** Called with π_e per round (OBP's rounds × actions × positions of the logging log) before the estimates, e.g. to export it. */
  readonly onActionDist?: (actionDist: ActionArray) => void;
}

export interface OpeTableRow {
  readonly estimator: string;
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  /** |V̂ − V| / V against the ground truth, when there is one. */
  readonly relativeError: number | null;
  /** Kish's effective sample size and the largest importance weight's share of the total (null for DM, which has no weights). */
  readonly weights: WeightDiagnostics | null;
  /** The estimator's warning by WEIGHT_WARNING's rule (one row dominates), or null. */
  readonly warning: string | null;
}

export interface OpenBanditProtocolResult {
  readonly campaign: OpenBanditCampaign;
  readonly evaluated: OpenBanditPolicy;
  readonly logging: OpenBanditPolicy;
  /** How π_e was obtained ('uniform' for the random policy, 'file' from `actionDistFile`). */
  readonly actionDist: 'prior' | 'empirical' | 'uniform' | 'file';
  /** The logging and evaluated policies' log files. */
  readonly loggingLog: string;
  readonly evaluatedLog: string;
  readonly rows: number;
  readonly clicks: number;
  /** The evaluated policy's on-policy CTR in its own log (the ground truth). */
  readonly groundTruth: number;
  /** The logging policy's own CTR (what not correcting at all would report). */
  readonly loggingValue: number;
  readonly level: number;
  readonly resamples: number;
  readonly table: OpeTableRow[];
}

/**
 * π_e(item at position) of the policy to evaluate on `log`, items × K row-major: uniform, or
 * Bernoulli TS from Beta priors (one per item; `field` and `source` name them in errors) by Monte
 * Carlo over `draws` slates.
 */
export function policyActionDistribution(
  log: Pick<OpenBanditLog, 'numItems' | 'numPositions'>,
  policy: 'uniform' | { readonly alpha: Float64Array; readonly beta: Float64Array; readonly field: string; readonly source: string },
  draws: number,
  seed: number,
): Float64Array {
  const A = log.numItems;
  if (policy === 'uniform') return new Float64Array(A * log.numPositions).fill(1 / A);
  if (policy.alpha.length !== A) throw new ConfigError(policy.field, `expected ${A} priors (one per item of ${policy.source}), found ${policy.alpha.length}`);
  return bernoulliTsActionDistribution(policy.alpha, policy.beta, log.numPositions, draws, seed);
}

/** The frequency of each item at each position among a log's rows at that position: items × K, row-major. */
export function empiricalActionDistribution(log: OpenBanditLog): Float64Array {
  const K = log.numPositions;
  const counts = new Float64Array(log.numItems * K);
  const atPosition = new Float64Array(K);
  for (let i = 0; i < log.action.length; i++) {
    counts[log.action[i] * K + log.position[i]]++;
    atPosition[log.position[i]]++;
  }
  for (let j = 0; j < counts.length; j++) counts[j] /= atPosition[j % K];
  return counts;
}

/**
 * OBP's (n_rounds, n_actions, len_list) array from a distribution that is either the same for every
 * row (items × K, repeated) or already per round (rows × items × K, taken as is, not copied).
 */
export function roundActionDistribution(dist: Float64Array, rows: number, numActions: number, numPositions: number, source: string): ActionArray {
  if (dist.length === numActions * numPositions) return repeatActionDistribution(dist, rows, numActions, numPositions);
  if (dist.length === rows * numActions * numPositions) return { numActions, numPositions, values: dist };
  throw new ConfigError(
    'actionDist',
    `expected ${numActions} × ${numPositions} probabilities (items × positions of ${source}) or ${rows} × ${numActions} × ${numPositions} (rounds × items × positions), found ${dist.length}`,
  );
}

/** The same items × K distribution for every row: OBP's (n_rounds, n_actions, len_list) array. */
export function repeatActionDistribution(perItemPosition: Float64Array, rows: number, numActions: number, numPositions: number): ActionArray {
  const values = new Float64Array(rows * numActions * numPositions);
  for (let i = 0; i < rows; i++) values.set(perItemPosition, i * numActions * numPositions);
  return { numActions, numPositions, values };
}

/** The reward-model features of an Open Bandit log (see the module comment). */
export function openBanditRewardFeatures(log: OpenBanditLog): RewardFeatures {
  return oneHotRewardFeatures({
    numActions: log.numItems,
    numPositions: log.numPositions,
    context: { codes: log.userFeatures, cardinalities: log.userFeatureValues.map((v) => v.length) },
    actionValue: log.affinity,
  });
}

/** Runs the protocol on the shipped sample (men by default: BTS from the random log), or on the campaign logs named by `randomLog` and `btsLog`. */
export async function runOpenBanditProtocol(options: OpenBanditProtocolOptions = {}): Promise<OpenBanditProtocolResult> {
  const campaign = options.campaign ?? 'men';
  const evaluated = options.evaluate ?? 'bts';
  if (evaluated !== 'bts' && evaluated !== 'random') throw new ConfigError('evaluate', `expected 'bts' or 'random', found '${String(evaluated)}'`);
  const logging: OpenBanditPolicy = evaluated === 'bts' ? 'random' : 'bts';
  const seed = options.seed ?? 1;
  const draws = options.draws ?? 100_000;
  const lambda = options.lambda ?? 10;
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 10_000;
  if ((options.randomLog === undefined) !== (options.btsLog === undefined)) {
    throw new ConfigError(options.randomLog === undefined ? 'randomLog' : 'btsLog', "expected both the campaign's random log and its BTS log, found only one");
  }
  const files = options.randomLog !== undefined && options.btsLog !== undefined ? { random: options.randomLog, bts: options.btsLog } : null;
  const load = async (policy: OpenBanditPolicy): Promise<OpenBanditLog> => (files === null ? (await loadOpenBanditSample(policy, campaign)).log : readOpenBanditLog(files[policy]));
  const [log, truthLog] = await Promise.all([load(logging), load(evaluated)]);
  if (truthLog.numItems !== log.numItems) {
    throw new ConfigError(
      evaluated === 'bts' ? 'btsLog' : 'randomLog',
      `expected the same items in both logs of the campaign, found ${log.numItems} in ${log.source} and ${truthLog.numItems} in ${truthLog.source}`,
    );
  }
  const priors = async () => options.priors ?? { ...(await loadOpenBanditPriors(campaign)), source: `the shipped ${campaign} priors` };
  let perItemPosition: Float64Array;
  if (options.actionDistFile !== undefined) {
    perItemPosition = await readActionDistribution(options.actionDistFile, { rounds: log.reward.length, actions: log.numItems, positions: log.numPositions });
  } else if (evaluated === 'bts' && options.btsActionDist === 'empirical') {
    perItemPosition = empiricalActionDistribution(truthLog);
  } else if (evaluated === 'bts') {
    const p = await priors();
    perItemPosition = policyActionDistribution(
      log,
      { alpha: p.alpha, beta: p.beta, field: options.priors === undefined ? 'priors' : 'prior', source: `${log.source} (priors: ${p.source})` },
      draws,
      seed,
    );
  } else {
    perItemPosition = policyActionDistribution(log, 'uniform', draws, seed);
  }
  const groundTruth = mean(truthLog.reward);
  if (options.onActionDist !== undefined) {
    const perRound = roundActionDistribution(perItemPosition, log.reward.length, log.numItems, log.numPositions, log.source);
    options.onActionDist(perRound);
    perItemPosition = perRound.values;
  }
  const table = estimateOnOpenBanditLog(log, perItemPosition, { ...options, seed, lambda, level, resamples, groundTruth });
  let clicks = 0;
  for (let i = 0; i < log.reward.length; i++) clicks += log.reward[i];
  return {
    campaign,
    evaluated,
    logging,
    actionDist: options.actionDistFile !== undefined ? 'file' : evaluated === 'random' ? 'uniform' : (options.btsActionDist ?? 'prior'),
    loggingLog: log.source,
    evaluatedLog: truthLog.source,
    rows: log.reward.length,
    clicks,
    groundTruth,
    loggingValue: mean(log.reward),
    level,
    resamples,
    table,
  };
}

export interface OpenBanditLogEstimateOptions {
  /** Bootstrap resamples per estimator (default 10,000). */
  readonly resamples?: number;
  readonly level?: number;
  /** Cross-fitting folds of the reward model (default 3) and its L2 penalty (default 1). */
  readonly folds?: number;
  readonly l2?: number;
  /** λ of clipped IPW, clipped DR, Switch-DR and DRos (default 10). */
  readonly lambda?: number;
  readonly seed?: number;
  /** The evaluated policy's true value, for relative errors (none: relativeError is null). */
  readonly groundTruth?: number;
  /** Called after each estimator's interval (progress). */
  readonly onEstimator?: (done: number, total: number, name: string) => void;
}

/**
 * Every standard estimator on an Open Bandit log for an evaluation policy that puts item a at
 * position k with probability `dist[a · K + k]` whatever the context (items × K), or
 * `dist[(i · A + a) · K + k]` in round i (rows × items × K, OBP's action_dist): estimates,
 * bootstrap intervals and, given the truth, relative errors.
 */
export function estimateOnOpenBanditLog(log: OpenBanditLog, dist: Float64Array, options: OpenBanditLogEstimateOptions = {}): OpeTableRow[] {
  const A = log.numItems;
  const K = log.numPositions;
  const actionDist = roundActionDistribution(dist, log.reward.length, A, K, log.source);
  const seed = options.seed ?? 1;
  const inputs: OffPolicyInputs = {
    reward: log.reward,
    action: log.action,
    position: log.position,
    pscore: log.pscore,
    actionDist,
    estimatedRewards: crossFitRewardModel(log, openBanditRewardFeatures(log), A, K, { folds: options.folds ?? 3, l2: options.l2 ?? 1, seed }),
  };
  const truth = options.groundTruth;
  const estimators = standardEstimators(options.lambda ?? 10);
  return estimators.map((estimator, j) => {
    const interval = estimator.estimateInterval(inputs, { level: options.level ?? 0.95, resamples: options.resamples ?? 10_000, seed });
    options.onEstimator?.(j + 1, estimators.length, estimator.name);
    return {
      estimator: estimator.name,
      estimate: interval.estimate,
      lower: interval.lower,
      upper: interval.upper,
      relativeError: truth === undefined ? null : Math.abs(interval.estimate - truth) / truth,
      weights: interval.weights,
      warning: weightWarning(estimator.name, interval.weights),
    };
  });
}

/** A plain-text table of estimates, intervals and relative errors. */
export function formatOpeTable(table: readonly OpeTableRow[], level: number): string {
  const pct = Math.round(level * 100);
  const header = ['estimator', 'estimate', `${pct}% CI`, 'relative error', 'ESS', 'max w share'];
  const rows = table.map((r) => [
    r.estimator,
    r.estimate.toFixed(5),
    `[${r.lower.toFixed(5)}, ${r.upper.toFixed(5)}]`,
    r.relativeError === null ? '' : r.relativeError.toFixed(3),
    r.weights === null ? '' : r.weights.effectiveSampleSize.toFixed(1),
    r.weights === null ? '' : r.weights.maxWeightShare.toFixed(4),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
