/**
 * The cascade family (DCM, DBN, SDBN, CCM, CM) fitted on session groups kept in DuckDB
 * (data/engine-groups.ts): each EM iteration streams the training groups in batches, accumulating
 * the E-step's expected counts batch by batch (`CascadeFamilyModel.startIteration`,
 * `accumulateSessions`, `finishIteration`), and the log-likelihood and per-rank perplexity are summed
 * over the same batches (`QualitySums`). The groups are read in the order of the in-memory fit
 * (`fitOnGroups`), so with exact pair indices the sums are the same, in the same order. What memory
 * holds is one batch and the parameters: one per pair, or per hash bucket beyond the budget.
 */
import { ClickLabError, ConfigError } from '../core/errors.js';
import type { GroupBatch, StoredGroups } from '../data/engine-groups.js';
import { CascadeFamilyModel } from './cascade-family.js';
import { type FitQuality, QualitySums } from './evaluation.js';
import { createFittableModel } from './fit.js';
import type { FittableClickModel } from './model.js';
import type { FittedModelType } from './registry.js';
import type { IndexedLog } from './sessions.js';

export interface StreamedFitOptions {
  readonly model: FittedModelType;
  readonly iterations: number;
  /** Ranks of the model (default the longest group). */
  readonly listLength?: number;
  /** Called after each iteration with its number (1-based). */
  readonly onIteration?: (iteration: number) => void;
}

/** A cascade-family model fitted by EM on the stored training groups, one streamed pass per iteration. */
export async function fitOnStoredGroups(stored: StoredGroups, options: StreamedFitOptions): Promise<CascadeFamilyModel> {
  const L = options.listLength ?? stored.longest;
  if (stored.longest > L) throw new ClickLabError(`the log holds lists of ${stored.longest} results, beyond the model's list length of ${L} ranks`);
  if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new ConfigError('iterations', `expected an integer ≥ 1, found ${options.iterations}`);
  const model = createFittableModel(options.model, stored.indexing.parameters, L);
  if (!(model instanceof CascadeFamilyModel)) throw new ClickLabError(`${options.model} is not of the cascade family: it is fitted from counts, not from session groups`);
  const rounds = model.closedForm ? 1 : options.iterations;
  for (let it = 1; it <= rounds; it++) {
    model.startIteration();
    for await (const batch of stored.batches(stored.train)) model.accumulateSessions(batchLog(batch, L), everyGroup(batch));
    model.finishIteration();
    options.onIteration?.(it);
  }
  return model;
}

/** Log-likelihood and perplexity of `model` (over the groups' parameter indices) on the stored training or test groups, in one streamed pass. */
export async function evaluateStoredGroups(model: FittableClickModel, stored: StoredGroups, which: 'train' | 'test'): Promise<FitQuality> {
  const log = which === 'train' ? stored.train : stored.test;
  if (log === null) throw new ClickLabError('no test groups were stored');
  const sums = new QualitySums(model);
  for await (const batch of stored.batches(log)) sums.add(batchLog(batch, model.listLength), everyGroup(batch));
  return sums.quality();
}

const NO_PAIRS = new Int32Array(0);

/** A batch as the weighted log the models read (its pair ids are the parameter indices). */
function batchLog(batch: GroupBatch, listLength: number): IndexedLog {
  return { offsets: batch.offsets, pair: batch.pair, click: batch.click, weight: batch.weight, pairQuery: NO_PAIRS, pairDocument: NO_PAIRS, longestSession: listLength };
}

let indices = new Int32Array(0);

/** 0 .. groups − 1 (one shared array, grown when a batch is longer). */
function everyGroup(batch: GroupBatch): Int32Array {
  if (indices.length < batch.groups) indices = Int32Array.from({ length: Math.max(batch.groups, 2048) }, (_, i) => i);
  return indices.subarray(0, batch.groups);
}
