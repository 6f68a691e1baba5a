/**
 * Click logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and Parquet, all with the
 * columns of click-log-table.ts (1-based `position`, the Open Bandit Pipeline's names where they
 * overlap, `truth_*` only when asked for). The formats themselves are log-format.ts, shared with
 * interaction logs; this module is the click-log entry points over the `CLICK_LOG` schema.
 */
import { IdVocabulary } from './id-vocabulary.js';
import type { ReplayedClicks } from './replayed-log.js';
import { CLICK_LOG, clickLogIds, type ClickLogColumnMapping, type IdEncoders, type LoggedClicks } from './click-log-table.js';
import { LogWriter, logFormatOf, readLog, readLogOrigin, type LogFormat, type LogOrigin, type LogReadOptions, type LogWriteOptions } from './log-format.js';

export type ClickLogFormat = LogFormat;

/** The click-log schema with the names of its files and writers in messages. */
const CLICK_LOG_FILES = { ...CLICK_LOG, file: 'click-log', writer: 'ClickLogWriter', writeWhole: 'writeClickLog' };

export type ClickLogWriteOptions = LogWriteOptions;

export interface ClickLogReadOptions extends LogReadOptions {
  /** The file's own column names by role, for logs not written by clicklab (see `ClickLogColumnMapping`). */
  readonly columns?: ClickLogColumnMapping;
}

export interface GenericClickLogReadOptions extends ClickLogReadOptions {
  /**
   * 'integer' (default): query and item ids must be integers in [0, 2^31 − 1] and are kept as they are.
   * 'text': any ids (URLs, hashes, numbers) are mapped to dense indices in order of first appearance,
   * and the result's `queryIds` / `itemIds` give the id behind each index.
   */
  readonly ids?: 'integer' | 'text';
}

/** The format a file name implies: `.csv`, `.jsonl`, `.arrow` or `.feather` (Arrow IPC), `.parquet`. */
export function clickLogFormatOf(path: string): ClickLogFormat {
  return logFormatOf(path, CLICK_LOG_FILES.file);
}

/**
 * Writes a click log a chunk of sessions at a time (see `LogWriter`); sessions are numbered on
 * across chunks.
 *
 *     const writer = await ClickLogWriter.open('clicks.csv');
 *     for (...) await writer.write(simulateSessions(lists, options));
 *     await writer.close();
 */
export class ClickLogWriter extends LogWriter<LoggedClicks> {
  /** @internal The kind `open` writes: its schema and names. */
  static readonly kind = CLICK_LOG_FILES;

  /** Sessions written so far. */
  get sessions(): number {
    return this.sessionsWritten;
  }
}

/** Writes a whole click log in the format of the file's extension (or `options.format`). */
export async function writeClickLog(path: string, logged: LoggedClicks, options: ClickLogWriteOptions = {}): Promise<void> {
  return LogWriter.writeWhole(CLICK_LOG_FILES, path, logged, options);
}

/** Reads a click log in the format of the file's extension (or `options.format`), validating every row. */
export async function readClickLog(path: string, options: ClickLogReadOptions = {}): Promise<LoggedClicks> {
  return readLog(CLICK_LOG, path, options.format ?? clickLogFormatOf(path), { truth: options.truth === true, columns: options.columns ?? {}, ids: null });
}

/**
 * What a click log records its query and item ids to index (the data set, fold and split it was
 * simulated on), or null for a log without the record (written by another tool, or converted).
 */
export async function readClickLogOrigin(path: string, options: { format?: ClickLogFormat } = {}): Promise<LogOrigin | null> {
  return readLogOrigin(path, options.format ?? clickLogFormatOf(path));
}

/**
 * Reads a query/document/position/click log that another tool wrote (CSV, JSON Lines, Arrow or
 * Parquet): the same reader and checks as `readClickLog`, with the file's column names mapped to
 * clicklab's roles (`columns`), optionally no session column, and optionally text ids. Example: a
 * CSV with header `qid,url,rank,clicked` and no sessions reads with
 * `{ columns: { session: null, query: 'qid', item: 'url', position: 'rank', click: 'clicked' }, ids: 'text' }`.
 */
export async function readGenericClickLog(path: string, options: GenericClickLogReadOptions = {}): Promise<ReplayedClicks> {
  const ids: IdEncoders | null = options.ids === 'text' ? { query: new IdVocabulary(), item: new IdVocabulary() } : null;
  const format = options.format ?? clickLogFormatOf(path);
  const logged = await readLog(CLICK_LOG, path, format, { truth: options.truth === true, columns: options.columns ?? {}, ids: clickLogIds(ids) });
  return { logged, queryIds: ids?.query.ids ?? null, itemIds: ids?.item.ids ?? null };
}
