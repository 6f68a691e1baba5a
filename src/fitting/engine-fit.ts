/**
 * `clicklab fit --engine duckdb`: a click model fitted out of core. The training log (a file, a
 * folder of partitions or a glob) reduces to the model's sufficient statistics by GROUP BYs in
 * DuckDB: PBM's and UBM's per-slot counts grouped into classes of pairs with equal counts
 * (data/count-classes.ts; EM in counts.ts), the cascade family's distinct (query, ranking, click
 * pattern) groups with their session counts (data/engine.ts; EM in session-groups.ts). The test
 * log, if any, is scored from its own counts (per training class) or groups. Memory holds the
 * classes or groups and the parameters, never the sessions; per-pair parameters only when asked for.
 * Text query or document ids are numbered in DuckDB (data/engine-ids.ts; the test log through the
 * training log's dictionary) and the report, the JSON and the world give them back as text.
 */
import { ConfigError } from '../core/errors.js';
import type { PairClasses, StoredClassCounts } from '../data/count-classes.js';
import { alignColumns } from '../core/text-table.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { ClickLogColumnMapping } from '../data/click-log-table.js';
import type { EngineOptions } from '../data/engine.js';
import type { EngineIds } from '../data/engine-ids.js';
import { PAIR_HASH_TEXT } from '../data/pair-hash.js';
import {
  type CountBatches,
  classCountBatches,
  classSlotCounts,
  COUNT_MODELS,
  type CountModel,
  evaluateCountBatches,
  evaluateSlotCounts,
  fitFromCountBatches,
  fitFromCounts,
  onPairs,
  type SlotCounts,
} from './counts.js';
import { evaluateClickModel, type FitQuality } from './evaluation.js';
import { FITTED_MODEL_TYPES, fittedModelName, type FittedClickModel, type FittedModelType } from './registry.js';
import { evaluateOnGroups, fitOnGroups, type IndexedGroups, indexGroups, onGroupPairs, rankingsOfGroups } from './session-groups.js';
import { writeCountedWorld } from './parquet-world.js';
import { FittedPbm } from './pbm.js';
import { FittedUbm } from './ubm.js';
import { evaluateStoredGroups, fitOnStoredGroups } from './streamed-groups.js';
import { FittedWorld, type WorldTextIds } from './world.js';

export interface EngineFitOptions extends EngineOptions {
  readonly model: string;
  /** The training log (a file, a folder of partitions or a glob); or, instead, `counts`. */
  readonly log?: string;
  /** A counts table written by another engine from `clicklab fit --emit-sql` (data/counts-sql.ts), fitted instead of a log. */
  readonly counts?: string;
  readonly testLog?: string;
  readonly iterations: number;
  readonly listLength?: number;
  readonly columns?: ClickLogColumnMapping;
  /** Query and document ids (default 'auto': text where a column is not an integer type; see data/engine-ids.ts). */
  readonly ids?: EngineIds;
  readonly progress?: Progress;
  /** UBM: score it on session groups too, for its per-rank perplexity (default true; one more GROUP BY per log). */
  readonly perplexity?: boolean;
  /**
   * PBM, UBM: give the model per (query, document) pair (default true). False keeps it per class of
   * pairs with equal counts (`report.classes` α's; data/count-classes.ts), with no per-pair array: memory then
   * independent of the number of pairs.
   */
  readonly pairs?: boolean;
  /** Also build the fitted world in memory (the training log's distinct rankings with their sessions; PBM: one more GROUP BY), to save for `clicklab simulate --world`. */
  readonly world?: boolean;
  /**
   * Save the fitted world as a Parquet world in this folder (for `clicklab simulate --world`). PBM and
   * UBM: written by DuckDB, nothing per pair or per ranking in memory (fitting/parquet-world.ts); the
   * cascade family: its in-memory world, saved.
   */
  readonly worldFolder?: string;
  /** Slots of a log aggregated per pass over parts of its queries (PBM's and UBM's classes, the session groups; default data/engine.ts's `SLOTS_PER_PASS`). */
  readonly slotsPerPass?: number;
  /**
   * The cascade family: at most this many per-pair parameter sets (default `DEFAULT_MAX_PAIR_PARAMETERS`).
   * Beyond it the pairs are hashed into this many buckets, each bucket one set (data/engine-groups.ts),
   * and the report says so (`hashedPairs`). A world needs one per pair: with more pairs it is an error.
   */
  readonly maxPairParameters?: number;
  /**
   * The cascade family: logs (training and test together) of at most this many rows are fitted in memory; PBM and UBM: count tables
   * of at most this many rows are read into memory. Longer ones are streamed from DuckDB (default 2^24; tests give 0 to stream).
   */
  readonly inMemoryRows?: number;
  /** PBM and UBM with `worldFolder`: the slots of the logged rankings per part while the world is written (default 2²²; tests use fewer). */
  readonly worldSlotsPerPart?: number;
}

export interface EngineFitReport {
  readonly model: FittedClickModel;
  readonly trainSessions: number;
  readonly testSessions: number;
  /** Rows of the training counts (PBM, UBM: distinct (query, document, rank, [distance,] length); the cascade family: distinct (query, ranking, clicks) groups). */
  readonly countRows: number;
  readonly pairs: number;
  /** PBM, UBM: classes of pairs with equal counts, on which EM ran (the cascade family: the pairs). */
  readonly classes: number;
  /** Query and document of each pair id of the model (empty with `pairs: false`). */
  readonly pairQuery: Int32Array;
  readonly pairDocument: Int32Array;
  /** The text of each query and document id where the log's ids are text (index = id). */
  readonly textIds: WorldTextIds;
  readonly iterations: number;
  readonly seconds: { readonly aggregate: number; readonly fit: number; readonly test: number };
  readonly trainQuality: FitQuality;
  readonly testQuality: FitQuality | null;
  /** Test impressions whose pair is not in the training log (α = 0.5). */
  readonly unseenTestSlots: number;
  /**
   * The cascade family: the pairs hashed into `buckets` buckets beyond `maxPairParameters`, or null. The
   * model's per-pair parameters are then one per bucket in use (`used`), `bucket` giving each one's
   * bucket (data/pair-hash.ts; empty with `pairs: false`).
   */
  readonly hashedPairs: { readonly buckets: number; readonly pairs: number; readonly used: number; readonly bucket: Int32Array } | null;
  /** With `world`: the fitted world. */
  readonly world?: FittedWorld;
  /** With `worldFolder`: the pairs and rankings of the world saved there. */
  readonly savedWorld?: { readonly pairs: number; readonly rankings: number };
}

/** The world of an engine fit: the model over the groups' pairs and the training log's rankings. */
function worldOf(model: FittedClickModel, groups: IndexedGroups, source: string, report: Omit<EngineFitReport, 'world'>): FittedWorld {
  const rankings = rankingsOfGroups(groups);
  return new FittedWorld(
    model,
    groups.log.pairQuery,
    groups.log.pairDocument,
    rankings.offsets,
    rankings.pairs,
    rankings.sessions,
    source,
    {
      iterations: report.iterations,
      seconds: report.seconds.fit,
      trainSessions: report.trainSessions,
      testSessions: report.testSessions,
      unseenTestSlots: report.unseenTestSlots,
      train: report.trainQuality,
      test: report.testQuality,
    },
    report.textIds,
  );
}

function rate(n: number, seconds: number): string {
  return `${Math.round(n / Math.max(seconds, 1e-9)).toLocaleString('en-US')} sessions/s`;
}

/** Fits a click model on the engine's sufficient statistics (see the top of this file). */
export async function fitWithEngine(options: EngineFitOptions): Promise<EngineFitReport> {
  const type = fittedModelName(options.model);
  if (!FITTED_MODEL_TYPES.includes(type as FittedModelType)) throw new ConfigError('--model', `expected one of ${FITTED_MODEL_TYPES.join(', ')}, found '${options.model}'`);
  if ((options.log === undefined) === (options.counts === undefined)) throw new ConfigError('--log', 'expected either a log (--log) or a counts table (--counts) to fit');
  const counted = COUNT_MODELS.includes(type as CountModel);
  if (!counted && options.counts !== undefined)
    throw new ConfigError('--counts', `expected --model pbm or ubm with a counts table (the cascade family needs whole sessions: give --log), found '${options.model}'`);
  // Loaded on use: DuckDB's native binding stays out of every other command's start-up.
  const { LogEngine } = await import('../data/engine.js');
  const engine = await LogEngine.open(options);
  try {
    return counted ? await fitCounted(engine, type as CountModel, options) : await fitGrouped(engine, type as FittedModelType, options);
  } catch (error) {
    throw outOfMemoryHint(textIdHint(error, options), options);
  } finally {
    engine.close();
  }
}

type Engine = import('../data/engine.js').LogEngine;

/**
 * The default budget of per-pair parameter sets for the cascade family: 2^24 (16.8M) pairs. DBN holds
 * two per pair (α and σ), each a value, a numerator and a denominator in doubles: 48 bytes a pair,
 * 805 MB at the budget, taken from DuckDB's memory limit while EM streams the groups (`fitStreamed`).
 */
export const DEFAULT_MAX_PAIR_PARAMETERS = 2 ** 24;

/**
 * DuckDB's error for a CSV whose sniffed sample (its first 20,480 rows) showed a column of numbers
 * and a later row text, as one line that says to read the ids as text; any other error as it is.
 */
function textIdHint(error: unknown, options: EngineFitOptions): unknown {
  const m = /CSV Error on Line: (\d+)[\s\S]*?converting column "([^"]*)"\. Could not convert string "([^"]*)" to '(\w+)'/.exec(error instanceof Error ? error.message : '');
  if (m === null || options.ids === 'text') return error;
  const file = /\n\s*file = ([^\n]+)/.exec((error as Error).message)?.[1] ?? options.log ?? '--log';
  return new ConfigError(`${file}:${m[1]}`, `column '${m[2]}' has '${m[3]}' where DuckDB's sample of the file showed ${m[4]}; if the ids are text, give --ids text`);
}

/** DuckDB's out-of-memory error (an operator that could not spill within `memory_limit`) as one line that says what to change; any other error as it is. */
export function outOfMemoryHint(error: unknown, options: { readonly memoryLimit?: string }): unknown {
  const m = /Out of Memory Error: ([^\n]*)/.exec(error instanceof Error ? error.message : '');
  if (m === null) return error;
  return new ConfigError('--memory-limit', `DuckDB ran out of its memory limit of ${options.memoryLimit ?? '1GB'} (${m[1].trim()}); give a larger --memory-limit, e.g. 4GB`);
}

function logOptions(options: EngineFitOptions) {
  return { columns: options.columns, ids: options.ids ?? 'auto', progress: options.progress, slotsPerPass: options.slotsPerPass };
}

/** The text behind the ids of the logs read (data/engine-ids.ts). */
async function textIdsOf(engine: Engine): Promise<WorldTextIds> {
  const { query, item } = await engine.idTexts();
  return { query, document: item };
}

/** EM under a progress line of `label` (sessions/s after each iteration): its result and seconds. */
async function emWithProgress<T>(
  progress: Progress,
  label: string,
  options: EngineFitOptions,
  sessions: number,
  em: (settings: { readonly iterations: number; readonly listLength?: number; readonly onIteration: (i: number) => void }) => T | Promise<T>,
): Promise<{ readonly result: T; readonly seconds: number }> {
  const t = performance.now();
  progress.start(label, options.iterations);
  const result = await em({ iterations: options.iterations, listLength: options.listLength, onIteration: (i) => progress.update(i, rate(sessions * i, (performance.now() - t) / 1000)) });
  const seconds = (performance.now() - t) / 1000;
  progress.finish();
  return { result, seconds };
}

/**
 * EM on the training classes' counts and their quality: read into memory when they number at most
 * `inMemoryRows` rows, else streamed from DuckDB once per iteration (UBM at 10⁸ sessions: its cells,
 * keyed by the distance to the last click too, held 4.7 GB in memory). The counts are dropped on return.
 */
async function emOnClasses(classes: PairClasses, model: CountModel, options: EngineFitOptions, progress: Progress, started: number) {
  const stored = await classes.storedCounts();
  try {
    const train = await countsOf(stored, classes.classes, options);
    const aggregate = (performance.now() - started) / 1000;
    const { sessions, rows } = stored;
    progress.log(
      `${options.counts !== undefined ? 'read counts' : 'aggregated'} ${options.counts ?? options.log}: ${sessions} sessions, ${classes.pairs} pairs in ${classes.classes} classes of equal counts (${rows} count rows${'batches' in train ? ', streamed from DuckDB' : ''}) in ${aggregate.toFixed(2)} s (${rate(sessions, aggregate)})`,
    );
    const { result: onClasses, seconds: fit } = await emWithProgress(progress, `fitting ${model} on counts of ${sessions} sessions`, options, sessions, (settings) =>
      'batches' in train ? fitFromCountBatches(train, { model, ...settings }) : fitFromCounts(train, { model, ...settings }),
    );
    return { onClasses, sessions, countRows: rows, aggregate, fit, trainQuality: await evaluateCounts(onClasses, train) };
  } finally {
    await stored.drop();
  }
}

/** Stored class counts in memory (at most `inMemoryRows` rows) or as batches streamed from DuckDB. */
async function countsOf(stored: StoredClassCounts, classes: number, options: EngineFitOptions): Promise<SlotCounts | CountBatches> {
  return stored.rows <= (options.inMemoryRows ?? IN_MEMORY_ROWS) ? classSlotCounts({ ...(await stored.read()), multiplicity: stored.multiplicity }, classes) : classCountBatches(stored, classes);
}

async function evaluateCounts(model: FittedPbm | FittedUbm, counts: SlotCounts | CountBatches): Promise<FitQuality> {
  return 'batches' in counts ? evaluateCountBatches(model, counts) : evaluateSlotCounts(model, counts);
}

/** PBM and UBM: EM on the classes of pairs with equal counts; UBM's quality (its per-rank perplexity needs the documents above each slot) on session groups. */
async function fitCounted(engine: Engine, model: CountModel, options: EngineFitOptions): Promise<EngineFitReport> {
  const progress = options.progress ?? silentProgress;
  const distance = model === 'ubm';
  const { PairClasses } = await import('../data/count-classes.js');
  let t = performance.now();
  const classes =
    options.counts !== undefined
      ? await PairClasses.ofCountsTable(engine, options.counts, { distance, progress })
      : await PairClasses.ofLog(engine, options.log!, { ...logOptions(options), distance });
  if (options.counts !== undefined && distance && (await classes.distanceAlwaysZero())) {
    throw new ConfigError(
      '--counts',
      `${options.counts}: every slot below the first has distance 0, as in PBM's counts (or a log where every result above every slot was clicked): emit UBM's counts with fit --emit-sql --model ubm`,
    );
  }
  // The class counts live only in emOnClasses: the world written below (DuckDB) has their memory back.
  const { onClasses, sessions, countRows, aggregate, fit, trainQuality: onCounts } = await emOnClasses(classes, model, options, progress, t);
  let trainQuality: FitQuality = onCounts;
  t = performance.now();
  let testQuality: FitQuality | null = null;
  let unseen = 0;
  if (options.testLog !== undefined) {
    const stored = await classes.storedHeldOut(options.testLog, logOptions(options));
    try {
      unseen = stored.unseenImpressions;
      testQuality = await evaluateCounts(onClasses, await countsOf(stored, classes.classes, options));
    } finally {
      await stored.drop();
    }
  }
  if ((options.world || options.worldFolder !== undefined) && options.log === undefined)
    throw new ConfigError('--out', 'expected --log to save a world (a counts table has no rankings): save the parameters as .json');
  const wantsPerplexity = model === 'ubm' && options.perplexity !== false && options.log !== undefined;
  // UBM's groups scored streamed from DuckDB, each pair by its class, for logs beyond inMemoryRows rows (nothing per pair in memory).
  const streamGroups = wantsPerplexity && !options.world && (await logRows(engine, [options.log!, options.testLog])) > (options.inMemoryRows ?? IN_MEMORY_ROWS);
  const groupsInMemory = (wantsPerplexity && !streamGroups) || options.world === true;
  // The per-pair parameters (each pair its class's α), for a world, a parameters file or the groups' perplexity in memory.
  const pairList = options.pairs !== false || groupsInMemory ? await classes.pairList() : null;
  const fitted = pairList === null ? onClasses : onPairs(onClasses, pairList.pairClass);
  const pairs = { pairQuery: pairList?.query ?? new Int32Array(0), pairDocument: pairList?.document ?? new Int32Array(0) };
  let groups: IndexedGroups | null = null;
  if (groupsInMemory) {
    const trainGroups = await engine.sessionGroups(options.log!, logOptions(options));
    const testGroups = wantsPerplexity && options.testLog !== undefined ? await engine.sessionGroups(options.testLog, logOptions(options)) : undefined;
    groups = indexGroups(trainGroups, testGroups, options.log);
  }
  if (wantsPerplexity) {
    // The session groups of both logs, scored with the fitted parameters: the same log-likelihood, and the perplexity.
    // The log-likelihood stays the counts' (the same up to rounding; so fit --counts and fit --log agree on it), the perplexity is the groups'.
    const scored =
      groups === null
        ? await scoreStreamedGroups(engine, onClasses, classes, options)
        : { train: evaluateOnGroups(fitted, pairs, groups, groups.train), test: testQuality === null ? null : evaluateOnGroups(fitted, pairs, groups, groups.test) };
    const withPerplexity = (counts: FitQuality, fromGroups: FitQuality): FitQuality => ({ ...counts, perplexityAtRank: fromGroups.perplexityAtRank, perplexity: fromGroups.perplexity });
    trainQuality = withPerplexity(trainQuality, scored.train);
    if (testQuality !== null && scored.test !== null) testQuality = withPerplexity(testQuality, scored.test);
  }
  const quality = { iterations: options.iterations, seconds: fit, trainSessions: sessions, testSessions: testQuality?.sessions ?? 0, unseenTestSlots: unseen, train: trainQuality, test: testQuality };
  const savedWorld =
    options.worldFolder === undefined
      ? undefined
      : await writeCountedWorld(engine, options.worldFolder, {
          log: options.log!,
          logOptions: logOptions(options),
          pairTable: await classes.pairTable(),
          classAttractiveness: onClasses.attractiveness.value,
          meta: { model, listLength: onClasses.listLength, source: options.log!, parameters: onClasses.parameters(), pairParameters: [], fit: quality },
          slotsPerPart: options.worldSlotsPerPart,
        });
  await classes.drop();
  const report = {
    model: fitted,
    trainSessions: sessions,
    testSessions: testQuality?.sessions ?? 0,
    countRows,
    pairs: classes.pairs,
    classes: classes.classes,
    ...pairs,
    textIds: await textIdsOf(engine),
    iterations: options.iterations,
    seconds: { aggregate, fit, test: (performance.now() - t) / 1000 },
    trainQuality,
    testQuality,
    unseenTestSlots: unseen,
    hashedPairs: null,
    ...(savedWorld ? { savedWorld } : {}),
  };
  return options.world && groups !== null ? { ...report, world: worldOf(onGroupPairs(fitted, pairs, groups), groups, options.log!, report) } : report;
}

/**
 * A model fitted on pair classes scored on the session groups of the training (and test) log kept in
 * DuckDB (data/engine-groups.ts), each group's pairs indexed by their training class and the pairs
 * the training log lacks by one more index at 0.5: one streamed pass per log, nothing per pair in memory.
 */
async function scoreStreamedGroups(engine: Engine, onClasses: FittedPbm | FittedUbm, classes: PairClasses, options: EngineFitOptions) {
  const { StoredGroups } = await import('../data/engine-groups.js');
  const stored = await StoredGroups.ofLogs(engine, options.log!, options.testLog, {
    ...logOptions(options),
    maxPairParameters: classes.classes + 1,
    pairClasses: { table: await classes.pairTable(), unseen: classes.classes },
  });
  try {
    const attractiveness = new Float64Array(classes.classes + 1).fill(0.5);
    attractiveness.set(onClasses.attractiveness.value);
    const model = onClasses.type === 'pbm' ? FittedPbm.restore(attractiveness, { examination: onClasses.examination.value }) : FittedUbm.restore(attractiveness, { gamma: onClasses.table() });
    return { train: await evaluateStoredGroups(model, stored, 'train'), test: stored.test === null ? null : await evaluateStoredGroups(model, stored, 'test') };
  } finally {
    await stored.drop();
  }
}

/** Rows of the logs given (a count from the files' metadata where they are Parquet). */
async function logRows(engine: Engine, logs: readonly (string | undefined)[]): Promise<number> {
  const { logSourceSql } = await import('../data/engine.js');
  let rows = 0;
  for (const log of logs) if (log !== undefined) rows += (await engine.numbers(`SELECT count(*) FROM ${logSourceSql(log)}`))[0];
  return rows;
}

/**
 * The cascade family: EM on the distinct (query, ranking, click pattern) groups, each weighted by its
 * sessions. Streamed from DuckDB (fitting/streamed-groups.ts), except for a world (which keeps the
 * groups' rankings and one parameter per pair) and for logs of at most `inMemoryRows` rows, whose
 * groups are read into memory: 1.6× faster there (1M sessions, docs/scale.md), with memory that grows
 * with the log.
 */
async function fitGrouped(engine: Engine, model: FittedModelType, options: EngineFitOptions): Promise<EngineFitReport> {
  const budget = maxPairParameters(options);
  if (options.world || options.worldFolder !== undefined) return fitGroupedInMemory(engine, model, options, budget);
  const rows = await logRows(engine, [options.log!, options.testLog]);
  // Rows bound the pairs: a log within the budget needs no hashing.
  const small = rows <= Math.min(options.inMemoryRows ?? IN_MEMORY_ROWS, budget);
  return small ? fitGroupedInMemory(engine, model, options, budget) : fitStreamed(engine, model, options, budget);
}

/** The most bytes a cascade-family model holds per parameter set (DBN: α and σ, each a value, a numerator and a denominator in doubles). */
const PARAMETER_SET_BYTES = 48;
/** DuckDB's memory limit while streaming groups never goes below this. */
const MIN_STREAMING_MEMORY = 256 * 2 ** 20;

/** Logs (training and test) of at most this many rows are fitted in memory (`EngineFitOptions.inMemoryRows`): about 1.7M sessions of 10 results, a few hundred MB. */
const IN_MEMORY_ROWS = 2 ** 24;

/** The per-pair parameter budget (`maxPairParameters`), checked. */
function maxPairParameters(options: EngineFitOptions): number {
  const budget = options.maxPairParameters ?? DEFAULT_MAX_PAIR_PARAMETERS;
  if (!(Number.isInteger(budget) && budget >= 1 && budget < 2 ** 31)) throw new ConfigError('--max-pair-parameters', `expected an integer in [1, 2^31), found ${options.maxPairParameters}`);
  return budget;
}

/** The groups stay in DuckDB; each EM iteration and each evaluation is one streamed pass over them. */
async function fitStreamed(engine: Engine, model: FittedModelType, options: EngineFitOptions, budget: number): Promise<EngineFitReport> {
  const progress = options.progress ?? silentProgress;
  let t = performance.now();
  const { StoredGroups } = await import('../data/engine-groups.js');
  const stored = await StoredGroups.ofLogs(engine, options.log!, options.testLog, { ...logOptions(options), maxPairParameters: budget });
  try {
    const { indexing } = stored;
    const sessions = stored.train.sessions;
    const aggregate = (performance.now() - t) / 1000;
    const hashedPairs = indexing.hashed ? { buckets: indexing.buckets, pairs: indexing.pairs, used: indexing.parameters } : null;
    progress.log(
      `grouped ${options.log}: ${sessions} sessions into ${stored.train.groups} distinct (query, ranking, clicks) groups, ${indexing.pairs} pairs in ${aggregate.toFixed(2)} s (${rate(sessions, aggregate)})`,
    );
    if (hashedPairs !== null) progress.log(hashingNote(hashedPairs));
    // The parameters take their share of DuckDB's memory while EM streams the groups (DuckDB then caches
    // less of the table it reads): at 10⁸ sessions 805 MB of hashed DBN parameters beside DuckDB's 1 GB
    // held the process at 2.18 GB through EM (2.51 GB peak).
    const limit = await engine.memoryLimit();
    await engine.setMemoryLimit(Math.max(MIN_STREAMING_MEMORY, limit - indexing.parameters * PARAMETER_SET_BYTES));
    const { result: fitted, seconds: fit } = await emWithProgress(
      progress,
      `fitting ${model} on ${stored.train.groups} groups of ${sessions} sessions (streamed from DuckDB)`,
      options,
      sessions,
      (settings) => fitOnStoredGroups(stored, { model, ...settings }),
    );
    t = performance.now();
    const trainQuality = await evaluateStoredGroups(fitted, stored, 'train');
    const testQuality = stored.test === null ? null : await evaluateStoredGroups(fitted, stored, 'test');
    await engine.setMemoryLimit(limit);
    const pairList = indexing.hashed || options.pairs === false ? null : await stored.pairList();
    return {
      model: fitted as FittedClickModel,
      trainSessions: sessions,
      testSessions: testQuality?.sessions ?? 0,
      countRows: stored.train.groups,
      pairs: indexing.pairs,
      classes: indexing.pairs,
      pairQuery: pairList?.query ?? new Int32Array(0),
      pairDocument: pairList?.document ?? new Int32Array(0),
      textIds: await textIdsOf(engine),
      iterations: fitted.closedForm ? 1 : options.iterations,
      seconds: { aggregate, fit, test: (performance.now() - t) / 1000 },
      trainQuality,
      testQuality,
      unseenTestSlots: stored.unseenTestSlots,
      hashedPairs: hashedPairs === null ? null : { ...hashedPairs, bucket: options.pairs === false ? new Int32Array(0) : await stored.bucketList() },
    };
  } finally {
    await stored.drop();
  }
}

/** One line saying that the pairs were hashed into buckets, how many per bucket, and which flag changes it. */
function hashingNote(hashed: { readonly buckets: number; readonly pairs: number; readonly used: number }): string {
  return `hashed ${hashed.pairs} (query, document) pairs into ${hashed.buckets} buckets, ${hashed.used} of them used (${(hashed.pairs / hashed.used).toFixed(2)} pairs per used bucket share their parameters; CLAX-style hashing, as the pairs exceed --max-pair-parameters ${hashed.buckets})`;
}

/** The groups and one parameter per pair in memory: small logs, and the fitted world (`world`, `worldFolder`). */
async function fitGroupedInMemory(engine: Engine, model: FittedModelType, options: EngineFitOptions, budget: number): Promise<EngineFitReport> {
  const progress = options.progress ?? silentProgress;
  let t = performance.now();
  const trainGroups = await engine.sessionGroups(options.log!, logOptions(options));
  const testGroups = options.testLog === undefined ? undefined : await engine.sessionGroups(options.testLog, logOptions(options));
  const groups = indexGroups(trainGroups, testGroups, options.log);
  const pairs = groups.log.pairQuery.length;
  if (pairs > budget)
    throw new ConfigError(
      '--max-pair-parameters',
      `a fitted world keeps one parameter per pair, and the log has ${pairs} pairs, beyond the budget of ${budget}: give --max-pair-parameters ${pairs} (and the memory for it), or save the parameters (.json), which hashes the pairs`,
    );
  const aggregate = (performance.now() - t) / 1000;
  progress.log(
    `grouped ${options.log}: ${trainGroups.sessions} sessions into ${groups.train.length} distinct (query, ranking, clicks) groups, ${pairs} pairs in ${aggregate.toFixed(2)} s (${rate(trainGroups.sessions, aggregate)})`,
  );
  const { result: fitted, seconds: fit } = await emWithProgress(
    progress,
    `fitting ${model} on ${groups.train.length} groups of ${trainGroups.sessions} sessions`,
    options,
    trainGroups.sessions,
    (settings) => fitOnGroups(groups, { model, ...settings }),
  );
  t = performance.now();
  const trainQuality = evaluateClickModel(fitted, groups.log, groups.train);
  const testQuality = groups.test.length > 0 ? evaluateClickModel(fitted, groups.log, groups.test) : null;
  const report = {
    model: fitted,
    trainSessions: trainGroups.sessions,
    testSessions: testQuality?.sessions ?? 0,
    countRows: groups.train.length,
    pairs: groups.log.pairQuery.length,
    classes: groups.log.pairQuery.length,
    pairQuery: groups.log.pairQuery,
    pairDocument: groups.log.pairDocument,
    textIds: await textIdsOf(engine),
    iterations: fitted.closedForm ? 1 : options.iterations,
    seconds: { aggregate, fit, test: (performance.now() - t) / 1000 },
    trainQuality,
    testQuality,
    unseenTestSlots: unseenGroupSlots(groups),
    hashedPairs: null,
  };
  const world = options.world || options.worldFolder !== undefined ? worldOf(fitted, groups, options.log!, report) : undefined;
  if (world === undefined) return report;
  if (options.worldFolder !== undefined) await world.saveParquet(options.worldFolder);
  const saved = options.worldFolder === undefined ? {} : { savedWorld: { pairs: world.pairQuery.length, rankings: world.rankingSessions.length } };
  return { ...report, ...saved, ...(options.world ? { world } : {}) };
}

/** Test slots (counted with their groups' weights) whose pair occurs in no training group. */
function unseenGroupSlots(groups: IndexedGroups): number {
  const { offsets, pair, weight } = groups.log;
  const seen = new Uint8Array(groups.log.pairQuery.length);
  for (const g of groups.train) for (let row = offsets[g]; row < offsets[g + 1]; row++) seen[pair[row]] = 1;
  let unseen = 0;
  for (const g of groups.test) for (let row = offsets[g]; row < offsets[g + 1]; row++) unseen += weight[g] * (1 - seen[pair[row]]);
  return unseen;
}

/** The JSON `clicklab fit --engine duckdb` saves: the model's parameters per pair (by their text where the ids are text) and per rank (not yet a world for `simulate`). */
export function engineFitJson(report: EngineFitReport, source: string): Record<string, unknown> {
  const texts = (ids: Int32Array, text: readonly string[] | null) => (text ? Array.from(ids, (i) => text[i]) : Array.from(ids));
  return {
    format: 'clicklab/fitted-counts@1',
    model: report.model.type,
    listLength: report.model.listLength,
    source,
    pairs: { query: texts(report.pairQuery, report.textIds.query), document: texts(report.pairDocument, report.textIds.document), attractiveness: report.model.attractiveness.toArray() },
    // Hashed: the attractiveness (and any per-pair parameter) is per used bucket, `bucket` its number under this hash (data/pair-hash.ts).
    ...(report.hashedPairs ? { hashedPairs: { buckets: report.hashedPairs.buckets, pairs: report.hashedPairs.pairs, hash: PAIR_HASH_TEXT, bucket: Array.from(report.hashedPairs.bucket) } } : {}),
    parameters: report.model.parameters(),
    fit: { iterations: report.iterations, seconds: report.seconds, trainSessions: report.trainSessions, testSessions: report.testSessions, train: report.trainQuality, test: report.testQuality },
  };
}

/** The quality table of an engine fit (the layout of `formatFitReport`). */
export function formatEngineFitReport(report: EngineFitReport, source: string): string {
  const qualities = [report.trainQuality, ...(report.testQuality ? [report.testQuality] : [])];
  const number = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
  const ranks = Math.max(...qualities.map((q) => q.perplexityAtRank.length));
  const rows = [
    ['measure', 'train', ...(report.testQuality ? ['test'] : [])],
    ['log-likelihood', ...qualities.map((q) => number(q.logLikelihood))],
    ['perplexity', ...qualities.map((q) => number(q.perplexity))],
    ...Array.from({ length: ranks }, (_, k) => [`perplexity @${k + 1}`, ...qualities.map((q) => (k < q.perplexityAtRank.length ? number(q.perplexityAtRank[k]) : '-'))]),
  ];
  const s = report.seconds;
  return [
    `${report.model.type} fitted from ${COUNT_MODELS.includes(report.model.type as CountModel) ? 'counts' : 'session groups'} (DuckDB GROUP BY) of ${source}: ${report.trainSessions} training sessions, ${report.testSessions} test sessions, ${report.pairs} (query, document) pairs${report.classes < report.pairs ? ` in ${report.classes} classes of equal counts` : ''}, ${report.countRows} count rows; aggregation ${s.aggregate.toFixed(2)} s, ${report.iterations} EM iterations ${s.fit.toFixed(2)} s, test ${s.test.toFixed(2)} s`,
    '',
    alignColumns(rows),
    ...(report.hashedPairs ? ['', hashingNote(report.hashedPairs)] : []),
    ...(report.testQuality ? ['', `test slots whose pair is not in the training log (${report.hashedPairs ? 'their bucket’s parameters' : 'α = 0.5'}): ${report.unseenTestSlots}`] : []),
    ...(report.model.type === 'ubm' && Number.isNaN(report.trainQuality.perplexity)
      ? ['', "UBM's perplexity needs the documents above each slot, which the counts do not keep: not reported (n/a) without session groups"]
      : []),
  ].join('\n');
}
