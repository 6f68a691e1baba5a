/**
 * The cross-fitted logistic reward model of reward-model.ts, fitted on a log read in batches,
 * without holding it: each Newton step is one pass over the log. A row goes to fold
 * `crossFitFold(seed, F)(row)` (its index in the log), as in memory; during a pass every row adds
 * its gradient and Hessian terms, at the current β, to the F − 1 models of the other folds (all F
 * models step together, each stopping at its own convergence), so each model sees its training rows
 * in the log's order and ends with the β `crossFitRewardModel` finds on the same rows, bit for bit.
 * Memory: F models of d + d² numbers (d the feature dimension), nothing per row.
 *
 * Use: `new StreamedCrossFit(...)`; while `!done`: `beginPass()`, `add` every batch in order (or
 * `addBlock` the feature rows an earlier pass's `add` returned, spilled to disk: feature-spill.ts),
 * `endPass()`; then `predict` each batch of the estimate pass.
 */
import { ConfigError } from '../core/errors.js';
import type { FeatureBlock } from './feature-spill.js';
import type { ActionArray } from './off-policy.js';
import { type CrossFitOptions, crossFitFold, LogisticNewton, logisticSettings, predictLogistic, type RewardFeatures } from './reward-model.js';

export class StreamedCrossFit {
  private readonly models: LogisticNewton[];
  private readonly foldOf: (row: number) => number;
  private readonly folds: number;
  private readonly nonZeros: number;
  private row = 0;

  /** `rows`: the log's length (known from a first pass), for the check on the number of folds. */
  constructor(dimension: number, nonZeros: number, rows: number, options: Omit<CrossFitOptions, 'groups'> = {}) {
    const folds = options.folds ?? 3;
    if (!Number.isInteger(folds) || folds < 1 || folds > rows) throw new ConfigError('folds', `expected an integer in [1, ${rows}] (rows), found ${folds}`);
    const { l2, maxIterations } = logisticSettings(options);
    this.folds = folds;
    this.nonZeros = nonZeros;
    this.foldOf = crossFitFold(options.seed ?? 1, folds);
    this.models = Array.from({ length: folds }, () => new LogisticNewton(dimension, l2, maxIterations));
  }

  /** Whether every fold's model has converged or reached the step limit. */
  get done(): boolean {
    return this.models.every((m) => !m.active);
  }

  /** Newton steps taken, per fold's model. */
  get iterations(): number[] {
    return this.models.map((m) => m.iterations);
  }

  beginPass(): void {
    this.row = 0;
    for (const m of this.models) if (m.active) m.begin();
  }

  /**
   * The feature rows of the next `n` rows of the log: row j has features `features.write(j, ...)`
   * and binary reward `reward[j]`. Returns them as a block, to add again in later passes (`addBlock`).
   */
  add(features: RewardFeatures, n: number, action: ArrayLike<number>, position: ArrayLike<number>, reward: ArrayLike<number>): FeatureBlock {
    const m = this.nonZeros;
    const block: FeatureBlock = { rows: n, index: new Int32Array(n * m), value: new Float64Array(n * m), reward: Uint8Array.from({ length: n }, (_, j) => reward[j]) };
    for (let j = 0; j < n; j++) features.write(j, action[j], position[j], block.index, block.value, j * m);
    this.addBlock(block);
    return block;
  }

  /** The next rows of the log as feature rows (as `add` returns them). */
  addBlock(block: FeatureBlock): void {
    const m = this.nonZeros;
    for (let j = 0; j < block.rows; j++) {
      const fold = this.foldOf(this.row + j);
      for (let f = 0; f < this.folds; f++) {
        const model = this.models[f];
        if ((this.folds === 1 || f !== fold) && model.active) model.add(block.index, block.value, j * m, m, block.reward[j]);
      }
    }
    this.row += block.rows;
  }

  /** Steps every model still active. */
  endPass(): void {
    for (const m of this.models) if (m.active) m.step();
  }

  /**
   * q̂(x_j, a, k) for the `n` rows of a batch that starts at row `firstRow` of the log, every action
   * and position: each row's from the model fitted without its fold.
   */
  predict(features: RewardFeatures, n: number, firstRow: number, numActions: number, numPositions: number): ActionArray {
    const values = new Float64Array(n * numActions * numPositions);
    const index = new Int32Array(this.nonZeros);
    const value = new Float64Array(this.nonZeros);
    for (let j = 0; j < n; j++) {
      const model = this.models[this.foldOf(firstRow + j)];
      const fitted = { weights: model.weights, iterations: model.iterations };
      for (let a = 0; a < numActions; a++) {
        for (let k = 0; k < numPositions; k++) values[(j * numActions + a) * numPositions + k] = predictLogistic(fitted, features, j, a, k, index, value);
      }
    }
    return { numActions, numPositions, values };
  }
}
