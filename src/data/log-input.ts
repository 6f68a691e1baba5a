/**
 * A click log as commands take it: a clicklab log, or any query/document/position/click table with
 * its columns named by role (`--columns`) and optionally text ids (`--ids text`); and two such logs
 * (training and test) read into one, with one id space, for fitting on one and scoring on the other.
 */
import { DataFormatError } from '../core/errors.js';
import type { ClickLogColumnMapping } from './click-log-table.js';
import { readClickLog, readGenericClickLog, type ClickLogFormat } from './click-log-io.js';
import { IdVocabulary } from './id-vocabulary.js';
import { concatChunks } from './log-concat.js';
import type { ReplayedClicks } from './replayed-log.js';

export interface LogInputOptions {
  /** The file's column names by role (a generic table). */
  readonly columns?: ClickLogColumnMapping;
  /** 'text' encodes query and item ids as dense indices (default 'integer'). */
  readonly ids?: 'integer' | 'text';
  /** The format when the extension does not say. */
  readonly format?: ClickLogFormat;
}

const TEXT_ID_HINT = "; if the query or document ids are text (URLs, hashes, '98435_1'), read them with --ids text";

/**
 * The log `read` resolves to; a number or integer expected in some column and not found there (the
 * sign of text ids read as integers) is rethrown with a hint to use `--ids text`, unless ids are text already.
 */
export async function withTextIdHint<T>(read: Promise<T>, ids: 'integer' | 'text' | undefined): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (ids !== 'text' && error instanceof DataFormatError && /expected (a number|an integer)/.test(error.problem) && !error.problem.includes('--ids text')) {
      throw new DataFormatError(error.file, error.line, `${error.problem}${TEXT_ID_HINT}`);
    }
    throw error;
  }
}

/** Reads a click log: clicklab's own columns, or a generic table when `columns` or `ids` is given. */
export async function readLogInput(path: string, options: LogInputOptions = {}): Promise<ReplayedClicks> {
  if (options.columns === undefined && options.ids === undefined) {
    const logged = await withTextIdHint(readClickLog(path, { format: options.format }), undefined);
    return { logged, queryIds: null, itemIds: null };
  }
  return withTextIdHint(readGenericClickLog(path, { columns: options.columns, ids: options.ids, format: options.format }), options.ids);
}

/** A training and a test log as one: the training sessions first, then the test sessions from `testFrom` on. */
export interface TrainTestLog extends ReplayedClicks {
  /** Index of the first test session. */
  readonly testFrom: number;
}

/**
 * Joins a training and a test log into one log whose test sessions come last. Where the ids are text
 * (vocabularies), the test log's indices are renumbered into the training log's vocabularies (new ids
 * appended), so that a (query, document) pair has one index in both; integer ids are kept as they are.
 */
export function joinTrainTest(train: ReplayedClicks, test: ReplayedClicks): TrainTestLog {
  const testFrom = train.logged.log.sessionQuery.length;
  const queries = remap(train.queryIds, test.queryIds);
  const items = remap(train.itemIds, test.itemIds);
  const t = test.logged.log;
  const renumbered = {
    log: {
      ...t,
      sessionQuery: queries.map ? t.sessionQuery.map((q) => queries.map![q]) : t.sessionQuery,
      document: items.map ? t.document.map((d) => items.map![d]) : t.document,
    },
  };
  const logged = concatChunks([{ log: train.logged.log }, renumbered]);
  return { logged, queryIds: queries.ids, itemIds: items.ids, testFrom };
}

function remap(trainIds: readonly string[] | null, testIds: readonly string[] | null): { map: Int32Array | null; ids: readonly string[] | null } {
  if (trainIds === null && testIds === null) return { map: null, ids: null };
  if (trainIds === null || testIds === null) throw new Error('expected both logs read with the same --ids, found one with text ids and one without');
  const vocabulary = new IdVocabulary();
  for (const id of trainIds) vocabulary.encode(id);
  const map = Int32Array.from(testIds, (id) => vocabulary.encode(id));
  return { map, ids: vocabulary.ids };
}
