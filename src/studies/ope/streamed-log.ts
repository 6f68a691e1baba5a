/**
 * Off-policy estimates on an Open Bandit log too large for memory (`clicklab ope --log DIR|GLOB
 * --stream`): the files are read in path order, a batch of rows at a time (data/open-bandit.ts
 * `openBanditRowBatches`), and the estimators accumulate sums with Poisson-bootstrap intervals
 * (evaluation/streaming.ts). The passes over the log:
 *
 * 1. (with the reward model) the rows and the codes of the hashed user features, which fix the
 *    reward model's feature dimension;
 * 2. (with the reward model) one pass per Newton step of the cross-fitted logistic reward model
 *    (evaluation/streamed-reward-model.ts), until every fold's model has converged: the first reads
 *    the log and spills the feature rows to a temporary file (evaluation/feature-spill.ts, 97 bytes a
 *    row), the others read that file;
 * 3. the estimates: per batch, π_e (the same table every row, or the batch's rounds of an action
 *    distribution file), the reward model's q̂ and, with `slates`, the slates of the batch.
 *
 * Memory: a batch of rows with its rows × actions × positions slices of π_e and q̂, the F models'
 * d + d² numbers, the user-feature codes, and (2 + 2G) × resamples sums per estimator (G = 1, or the
 * positions for a slate estimator) — nothing that grows with the log's length. The estimates equal
 * the in-memory ones (`estimateOnOpenBanditLog`, and `openBanditSlateInputs` on the whole log).
 */
import { ConfigError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import { silentProgress } from '../../core/progress.js';
import { type ActionDistRounds, openActionDistRounds } from '../../data/action-dist.js';
import { OPEN_BANDIT_POSITIONS, type OpenBanditRowBatch, OpenBanditVocabulary, openBanditRowBatches } from '../../data/open-bandit.js';
import { weightWarning } from '../../evaluation/off-policy.js';
import { allSlateEstimators, rewardFreeEstimators, standardEstimators } from '../../evaluation/registry.js';
import { oneHotRewardFeatures, type RewardFeatures } from '../../evaluation/reward-model.js';
import { FeatureSpill } from '../../evaluation/feature-spill.js';
import { StreamedCrossFit } from '../../evaluation/streamed-reward-model.js';
import { StreamingOffPolicyEstimates, StreamingTermSums } from '../../evaluation/streaming.js';
import { openBanditSlateInputs } from './open-bandit-slates.js';
import type { OpeTableRow } from './open-bandit-protocol.js';

export interface StreamedOpenBanditOptions {
  /** Poisson-bootstrap replicates (default 10,000; the cost is rows × replicates hash draws). */
  readonly resamples?: number;
  readonly level?: number;
  /** λ of clipped IPW, Switch-DR and DRos (default 10). */
  readonly lambda?: number;
  readonly seed?: number;
  /** Rows per batch (default 8,192); the results do not depend on it. */
  readonly batchRows?: number;
  /** DM and the DR family, with the reward model fitted over the stream (default true; false: one pass, IPW, clipped IPW and SNIPW). */
  readonly rewardModel?: boolean;
  /** Cross-fitting folds (default 3) and L2 penalty (default 1) of the reward model. */
  readonly folds?: number;
  readonly l2?: number;
  /** Also the six slate estimators, on the log's slates (open-bandit-slates.ts; default false). */
  readonly slates?: boolean;
  /** Where the reward model's feature rows are spilled between Newton passes (default: the system's temporary folder, TMPDIR). */
  readonly tempDirectory?: string;
  /** The evaluated policy's true value, for relative errors. */
  readonly groundTruth?: number;
  readonly progress?: Progress;
}

export interface StreamedOpenBanditResult {
  readonly rows: number;
  readonly clicks: number;
  readonly numItems: number;
  /** Passes over the log (1 without the reward model). */
  readonly passes: number;
  /** Newton steps of each fold's reward model (empty without it). */
  readonly rewardModelIterations: number[];
  /** Slates of the log (null without `slates`). */
  readonly slates: number | null;
  readonly table: OpeTableRow[];
}

/**
 * The evaluation policy's π_e: the same items × positions distribution for every row (a function of
 * the number of items, which the first file's header gives), or a file (`.npy` or the long
 * `.parquet` layout, data/action-dist.ts) with one round per row of the log, read a batch at a time.
 */
export type StreamedPolicy = { readonly perItemPosition: (numItems: number) => Float64Array } | { readonly file: string };

/** One pass over the files: every batch to `onBatch` with its first row's index; returns the rows and items. */
async function pass(
  files: readonly string[],
  batchRows: number,
  vocabulary: OpenBanditVocabulary | undefined,
  progress: Progress,
  label: string,
  total: number,
  onBatch: (batch: OpenBanditRowBatch, firstRow: number) => void | Promise<void>,
): Promise<{ rows: number; numItems: number }> {
  const started = Date.now();
  let numItems = -1;
  let rows = 0;
  progress.start(label, total);
  for (const file of files) {
    for await (const batch of openBanditRowBatches(file, batchRows, vocabulary)) {
      if (numItems === -1) numItems = batch.numItems;
      else if (batch.numItems !== numItems) {
        throw new ConfigError('--log', `expected the same items in every file, found ${numItems} in ${files[0]} and ${batch.numItems} in ${file}`);
      }
      await onBatch(batch, rows);
      rows += batch.reward.length;
      progress.update(rows);
    }
  }
  progress.finish();
  progress.log(`${label}: ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { rows, numItems };
}

/** Every estimator (IPW, clipped IPW, SNIPW; DM and the DR family with the reward model; the slate estimators with `slates`) of `policy` over the Open Bandit log `files` (in this order), with Poisson-bootstrap intervals. */
export async function estimateOnOpenBanditStream(files: readonly string[], policy: StreamedPolicy, options: StreamedOpenBanditOptions = {}): Promise<StreamedOpenBanditResult> {
  if (files.length === 0) throw new ConfigError('--log', 'expected at least one Open Bandit file, found none');
  const K = OPEN_BANDIT_POSITIONS;
  const batchRows = options.batchRows ?? 8192;
  const withModel = options.rewardModel ?? true;
  const withSlates = options.slates ?? false;
  const seed = options.seed ?? 1;
  const lambda = options.lambda ?? 10;
  const progress = options.progress ?? silentProgress;
  const vocabulary = withModel || withSlates ? new OpenBanditVocabulary() : undefined;
  const interval = { resamples: options.resamples, level: options.level, seed };

  // The reward model: a pass for the codes, then a pass per Newton step.
  let passes = 0;
  let fit: StreamedCrossFit | null = null;
  let cardinalities: number[] = [];
  let featuresOf = (_batch: OpenBanditRowBatch): RewardFeatures => {
    throw new RangeError('no reward model');
  };
  let total = 0;
  if (withModel) {
    const first = await pass(files, batchRows, vocabulary, progress, `pass ${++passes}: rows and user-feature codes`, 0, () => {});
    total = first.rows;
    cardinalities = vocabulary!.cardinalities;
    const A = first.numItems;
    featuresOf = (batch) => oneHotRewardFeatures({ numActions: A, numPositions: K, context: { codes: batch.context!.userFeatures, cardinalities }, actionValue: batch.context!.affinity });
    const shape = oneHotRewardFeatures({ numActions: A, numPositions: K, context: { codes: [], cardinalities }, actionValue: [] });
    const model = new StreamedCrossFit(shape.dimension, shape.nonZeros, total, { folds: options.folds ?? 3, l2: options.l2 ?? 1, seed });
    fit = model;
    // Step 1 reads the log and spills its feature rows; the later steps read the spill.
    const spill = await FeatureSpill.create(shape.nonZeros, options.tempDirectory);
    try {
      model.beginPass();
      await pass(
        files,
        batchRows,
        vocabulary,
        progress,
        `pass ${++passes}: reward model, Newton step 1 (${shape.dimension} features, ${model.iterations.length} folds; spilling the feature rows)`,
        total,
        (batch) => spill.append(model.add(featuresOf(batch), batch.reward.length, batch.action, batch.position, batch.reward)),
      );
      model.endPass();
      for (let step = 2; !model.done; step++) {
        const started = Date.now();
        model.beginPass();
        const label = `pass ${++passes}: reward model, Newton step ${step} (from the spill)`;
        progress.start(label, total);
        let rows = 0;
        for await (const block of spill.blocks()) {
          model.addBlock(block);
          rows += block.rows;
          progress.update(rows);
        }
        model.endPass();
        progress.finish();
        progress.log(`${label}: ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    } finally {
      await spill.close();
    }
  }

  // The last pass: the estimates.
  const estimators = withModel ? standardEstimators(lambda) : rewardFreeEstimators(lambda);
  const estimates = new StreamingOffPolicyEstimates(estimators, interval);
  const slateEstimators = withSlates ? allSlateEstimators() : [];
  const slateSums = withSlates
    ? new StreamingTermSums(
        slateEstimators.map((e) => e.name),
        K,
        interval,
      )
    : null;
  let perItemPosition: Float64Array | null = null;
  let rounds: ActionDistRounds | null = null;
  let clicks = 0;
  let numItems = -1;
  let result: { rows: number; numItems: number };
  try {
    result = await pass(files, batchRows, vocabulary, progress, `pass ${++passes}: estimates (${estimators.length + slateEstimators.length} estimators)`, total, async (batch, firstRow) => {
      const n = batch.reward.length;
      if (numItems === -1) {
        numItems = batch.numItems;
        if ('file' in policy) rounds = await openActionDistRounds(policy.file, { actions: numItems, positions: K });
        else perItemPosition = policy.perItemPosition(numItems);
      }
      let values: Float64Array;
      if (rounds !== null) {
        values = await (rounds as ActionDistRounds).read(firstRow, n);
      } else {
        values = new Float64Array(n * numItems * K);
        for (let i = 0; i < n; i++) values.set(perItemPosition!, i * numItems * K);
      }
      const actionDist = { numActions: numItems, numPositions: K, values };
      estimates.add({
        reward: batch.reward,
        action: batch.action,
        position: batch.position,
        pscore: batch.pscore,
        actionDist,
        estimatedRewards: fit === null ? undefined : fit.predict(featuresOf(batch), n, firstRow, numItems, K),
      });
      if (slateSums !== null) {
        const { inputs } = openBanditSlateInputs({ ...batch, timestamp: batch.context!.timestamp }, values, numItems, K, slateSums.unitsSeen);
        slateSums.add(slateEstimators.map((e) => e.terms(inputs)));
      }
      for (let i = 0; i < n; i++) clicks += batch.reward[i];
    });
    if (rounds !== null) await (rounds as ActionDistRounds).finish(result.rows);
  } finally {
    await (rounds as ActionDistRounds | null)?.close();
  }
  const truth = options.groundTruth;
  const row = (name: string, interval: ReturnType<StreamingTermSums['result']>[number], unit: string): OpeTableRow => ({
    estimator: name,
    estimate: interval.estimate,
    lower: interval.lower,
    upper: interval.upper,
    relativeError: truth === undefined ? null : Math.abs(interval.estimate - truth) / truth,
    weights: interval.weights,
    warning: weightWarning(name, interval.weights, unit),
  });
  const table = [...estimates.result().map((r, e) => row(estimators[e].name, r, 'row')), ...(slateSums === null ? [] : slateSums.result().map((r, e) => row(slateEstimators[e].name, r, 'slate')))];
  return {
    rows: result.rows,
    clicks,
    numItems: result.numItems,
    passes,
    rewardModelIterations: fit === null ? [] : fit.iterations,
    slates: slateSums === null ? null : slateSums.unitsSeen,
    table,
  };
}
