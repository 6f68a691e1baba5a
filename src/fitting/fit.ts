import { ClickLabError, ConfigError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { randomStream } from '../core/random.js';
import type { ClickLog } from '../core/types.js';
import { evaluateClickModel, type FitQuality } from './evaluation.js';
import { type FittedPbm, pbmPropensities } from './pbm.js';
import { FITTED_MODEL_TYPES, fitterOf, type FittedClickModel, type FittedModelType } from './registry.js';
import { indexClickLog, splitSessions, type IndexedLog } from './sessions.js';

/** PyClick's default number of EM iterations. */
export const DEFAULT_EM_ITERATIONS = 50;

export interface FitOptions {
  readonly model: FittedModelType;
  /** EM iterations (default 50, PyClick's); the cascade model's closed form needs one pass. */
  readonly iterations?: number;
  /** Fraction of sessions held out for evaluation, drawn with `seed` (default 0.25; 0 evaluates on the training sessions only). */
  readonly testFraction?: number;
  /**
   * The first session of a separate test log joined after the training sessions (`joinTrainTest`):
   * sessions from here on are the test set, the ones before it the training set, and `testFraction`
   * is not used.
   */
  readonly testFrom?: number;
  readonly seed?: number | string;
  /** Ranks the model has parameters for (default: the longest session); a longer session is an error. */
  readonly listLength?: number;
  /** Names the log in messages. */
  readonly source?: string;
  readonly progress?: Progress;
}

export interface FitReport {
  readonly model: FittedClickModel;
  readonly log: IndexedLog;
  readonly train: Int32Array;
  readonly test: Int32Array;
  readonly iterations: number;
  /** Wall time of the EM iterations. */
  readonly fitSeconds: number;
  readonly trainQuality: FitQuality;
  /** Null when nothing was held out. */
  readonly testQuality: FitQuality | null;
  /** Test slots whose (query, document) pair never occurs in the training sessions (their α is 0.5). */
  readonly unseenTestSlots: number;
}

/** A model of `type` with every parameter at PyClick's starting value 0.5 (SDBN's γ at 1): its fitter's (`CLICK_MODELS` in registry.ts). */
export function createFittableModel(type: FittedModelType, numPairs: number, listLength: number): FittedClickModel {
  const fitter = fitterOf(type);
  if (!fitter) throw new ConfigError('model', `expected one of ${FITTED_MODEL_TYPES.join(', ')}, found ${JSON.stringify(type)}`);
  return fitter.create(numPairs, listLength);
}

/**
 * Fit a click model to a click log by EM (maximum likelihood), with PyClick's conventions: every
 * parameter starts at 0.5 and is re-estimated as (1 + expected successes) / (2 + expected trials),
 * capped at 1 − 10⁻⁶, for 50 iterations; pairs unseen in training keep 0.5. The sessions are split
 * into training and test sets (seeded), and both are scored (`evaluateClickModel`).
 */
export function fitClickModel(log: ClickLog, options: FitOptions): FitReport {
  const source = options.source ?? 'click log';
  const iterations = options.iterations ?? DEFAULT_EM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError('iterations', `expected an integer ≥ 1, found ${iterations}`);
  const indexed = indexClickLog(log, source);
  const listLength = options.listLength ?? indexed.longestSession;
  if (!Number.isInteger(listLength) || listLength < 1) throw new ConfigError('listLength', `expected an integer ≥ 1, found ${listLength}`);
  if (indexed.longestSession > listLength) {
    const s = longSession(indexed, listLength);
    throw new ClickLabError(`${source}: session ${s} shows ${indexed.offsets[s + 1] - indexed.offsets[s]} results, beyond the model's list length of ${listLength} ranks`);
  }
  const { train, test } =
    options.testFrom === undefined
      ? splitSessions(log.sessionQuery.length, options.testFraction ?? 0.25, randomStream(options.seed ?? 1).derive('split'))
      : splitAt(log.sessionQuery.length, options.testFrom);
  const model = createFittableModel(options.model, indexed.pairQuery.length, listLength);
  const progress = options.progress ?? silentProgress;
  const rounds = model.closedForm ? 1 : iterations;
  progress.start(`fitting ${model.type} on ${train.length} sessions`, rounds);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    model.iterate(indexed, train);
    progress.update(i + 1);
  }
  const fitSeconds = (performance.now() - started) / 1000;
  progress.finish();
  return {
    model,
    log: indexed,
    train,
    test,
    iterations: rounds,
    fitSeconds,
    trainQuality: evaluateClickModel(model, indexed, train),
    testQuality: test.length > 0 ? evaluateClickModel(model, indexed, test) : null,
    unseenTestSlots: unseenSlots(indexed, train, test),
  };
}

function splitAt(numSessions: number, testFrom: number): { train: Int32Array; test: Int32Array } {
  if (!Number.isInteger(testFrom) || testFrom < 1 || testFrom > numSessions) throw new ConfigError('testFrom', `expected an integer in [1, ${numSessions}], found ${testFrom}`);
  const train = new Int32Array(testFrom);
  for (let s = 0; s < testFrom; s++) train[s] = s;
  const test = new Int32Array(numSessions - testFrom);
  for (let s = testFrom; s < numSessions; s++) test[s - testFrom] = s;
  return { train, test };
}

function longSession(log: IndexedLog, listLength: number): number {
  for (let s = 0; ; s++) if (log.offsets[s + 1] - log.offsets[s] > listLength) return s;
}

function unseenSlots(log: IndexedLog, train: Int32Array, test: Int32Array): number {
  const seen = new Uint8Array(log.pairQuery.length);
  for (const s of train) for (let row = log.offsets[s]; row < log.offsets[s + 1]; row++) seen[log.pair[row]] = 1;
  let unseen = 0;
  for (const s of test) for (let row = log.offsets[s]; row < log.offsets[s + 1]; row++) unseen += 1 - seen[log.pair[row]];
  return unseen;
}

/**
 * The "EM under PBM" propensity estimate from a click log: fit a PBM to every session and return
 * its examination per rank relative to rank 1 (`pbmPropensities`). PBM separates examination from
 * attractiveness only where documents are seen at several ranks (interventions such as RandTop-n,
 * or several rankers in one log); with one fixed ranking per query the split is not identified.
 */
export function estimatePropensitiesByEm(log: ClickLog, options: { readonly iterations?: number; readonly listLength?: number } = {}): number[] {
  const report = fitClickModel(log, { model: 'pbm', testFraction: 0, ...options });
  return pbmPropensities(report.model as FittedPbm);
}
