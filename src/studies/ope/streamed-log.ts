/**
 * Off-policy estimates on an Open Bandit log too large for memory (`clicklab ope --log DIR|GLOB
 * --stream`): the files are read in path order, a batch of rows at a time (data/open-bandit.ts
 * `openBanditRowBatches`), and the estimators accumulate sums with Poisson-bootstrap intervals
 * (evaluation/streaming.ts). Memory: a batch of rows with its rows × actions × positions slice of
 * π_e, and 4 × resamples sums per estimator — nothing that grows with the log.
 *
 * The estimators are those that need no reward model (IPW, clipped IPW, SNIPW): DM and the DR family
 * need the cross-fitted logistic reward model, which is fitted in memory only (a streamed Newton
 * fit would take a pass over the log per iteration and fold; not built yet).
 */
import { ConfigError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { silentProgress } from '../../core/progress.js';
import { NpyRounds } from '../../data/action-dist.js';
import { openBanditRowBatches, OPEN_BANDIT_POSITIONS } from '../../data/open-bandit.js';
import { weightWarning } from '../../evaluation/off-policy.js';
import { rewardFreeEstimators } from '../../evaluation/registry.js';
import { StreamingOffPolicyEstimates } from '../../evaluation/streaming.js';
import type { OpeTableRow } from './open-bandit-protocol.js';

export interface StreamedOpenBanditOptions {
  /** Poisson-bootstrap replicates (default 10,000; the cost is rows × replicates hash draws). */
  readonly resamples?: number;
  readonly level?: number;
  /** λ of clipped IPW (default 10). */
  readonly lambda?: number;
  readonly seed?: number;
  /** Rows per batch (default 8,192); the results do not depend on it. */
  readonly batchRows?: number;
  /** The evaluated policy's true value, for relative errors. */
  readonly groundTruth?: number;
  readonly progress?: Progress;
}

export interface StreamedOpenBanditResult {
  readonly rows: number;
  readonly clicks: number;
  readonly numItems: number;
  readonly table: OpeTableRow[];
}

/**
 * The evaluation policy's π_e: the same items × positions distribution for every row (a function of
 * the number of items, which the first file's header gives), or a `.npy` file with one round per row
 * of the log (OBP's action_dist, read a slice at a time).
 */
export type StreamedPolicy = { readonly perItemPosition: (numItems: number) => Float64Array } | { readonly npy: string };

/** IPW, clipped IPW and SNIPW of `policy` over the Open Bandit log `files` (in this order), with Poisson-bootstrap intervals. */
export async function estimateOnOpenBanditStream(files: readonly string[], policy: StreamedPolicy, options: StreamedOpenBanditOptions = {}): Promise<StreamedOpenBanditResult> {
  if (files.length === 0) throw new ConfigError('--log', 'expected at least one Open Bandit file, found none');
  const K = OPEN_BANDIT_POSITIONS;
  const batchRows = options.batchRows ?? 8192;
  const estimators = rewardFreeEstimators(options.lambda ?? 10);
  const estimates = new StreamingOffPolicyEstimates(estimators, { resamples: options.resamples, level: options.level, seed: options.seed ?? 1 });
  const progress = options.progress ?? silentProgress;
  let numItems = -1;
  let perItemPosition: Float64Array | null = null;
  let npy: NpyRounds | null = null;
  let rows = 0;
  let clicks = 0;
  progress.start('rows', 0);
  try {
    for (const file of files) {
      for await (const batch of openBanditRowBatches(file, batchRows)) {
        if (numItems === -1) {
          numItems = batch.numItems;
          if ('npy' in policy) npy = await NpyRounds.open(policy.npy, { rounds: null, actions: numItems, positions: K });
          else perItemPosition = policy.perItemPosition(numItems);
        } else if (batch.numItems !== numItems) {
          throw new ConfigError('--log', `expected the same items in every file, found ${numItems} in ${files[0]} and ${batch.numItems} in ${file}`);
        }
        const n = batch.reward.length;
        let values: Float64Array;
        if (npy !== null) {
          values = await npy.read(rows, n);
        } else {
          values = new Float64Array(n * numItems * K);
          for (let i = 0; i < n; i++) values.set(perItemPosition!, i * numItems * K);
        }
        estimates.add({
          reward: batch.reward,
          action: batch.action,
          position: batch.position,
          pscore: batch.pscore,
          actionDist: { numActions: numItems, numPositions: K, values },
        });
        for (let i = 0; i < n; i++) clicks += batch.reward[i];
        rows += n;
        progress.update(rows);
      }
    }
    if (npy !== null && npy.rounds !== rows) {
      throw new ConfigError('--action-dist', `expected one round per row of the log (${rows} rows), found ${npy.rounds} rounds in ${'npy' in policy ? policy.npy : ''}`);
    }
  } finally {
    await npy?.close();
  }
  progress.finish();
  const truth = options.groundTruth;
  const table = estimates.result().map((interval, e): OpeTableRow => {
    const name = estimators[e].name;
    return {
      estimator: name,
      estimate: interval.estimate,
      lower: interval.lower,
      upper: interval.upper,
      relativeError: truth === undefined ? null : Math.abs(interval.estimate - truth) / truth,
      weights: interval.weights,
      warning: weightWarning(name, interval.weights),
    };
  });
  return { rows, clicks, numItems, table };
}
