/**
 * Recommender interaction logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and
 * Parquet, with the columns of interaction-log-table.ts (`user_id`, `item_id`, `click`, optional
 * `pscore`, `truth_*` only when asked for). The formats are the click logs' (log-format.ts, one
 * implementation for both kinds), so the two kinds of log behave alike; this module is the
 * interaction-log entry points over the `INTERACTION_LOG` schema.
 */
import { INTERACTION_LOG, type LoggedInteractions } from './interaction-log-table.js';
import { LogWriter, logFormatOf, readLog, type LogFormat, type LogReadOptions, type LogWriteOptions } from './log-format.js';

/** The same four formats as click logs. */
export type InteractionLogFormat = LogFormat;

/** The interaction-log schema with the names of its files and writers in messages. */
const INTERACTION_LOG_FILES = { ...INTERACTION_LOG, file: 'interaction-log', writer: 'InteractionLogWriter', writeWhole: 'writeInteractionLog' };

export type InteractionLogWriteOptions = LogWriteOptions;

export type InteractionLogReadOptions = LogReadOptions;

/** The format a file name implies: `.csv`, `.jsonl`, `.arrow` or `.feather` (Arrow IPC), `.parquet`. */
export function interactionLogFormatOf(path: string): InteractionLogFormat {
  return logFormatOf(path, INTERACTION_LOG_FILES.file);
}

/**
 * Writes an interaction log a chunk of users at a time (see `LogWriter`). Rows are written as they
 * come: chunks must not repeat a user of an earlier chunk (except that the last user of one chunk
 * may continue at the start of the next), or the file will not read back.
 *
 *     const writer = await InteractionLogWriter.open('interactions.parquet');
 *     await simulateRecommenderLog(spec, rng, (chunk) => writer.write(chunk));
 *     await writer.close();
 */
export class InteractionLogWriter extends LogWriter<LoggedInteractions> {
  /** @internal The kind `open` writes: its schema and names. */
  static readonly kind = INTERACTION_LOG_FILES;
}

/** Writes a whole interaction log in the format of the file's extension (or `options.format`). */
export async function writeInteractionLog(path: string, logged: LoggedInteractions, options: InteractionLogWriteOptions = {}): Promise<void> {
  return LogWriter.writeWhole(INTERACTION_LOG_FILES, path, logged, options);
}

/** Reads an interaction log in the format of the file's extension (or `options.format`), validating every row. */
export async function readInteractionLog(path: string, options: InteractionLogReadOptions = {}): Promise<LoggedInteractions> {
  return readLog(INTERACTION_LOG, path, options.format ?? interactionLogFormatOf(path), { truth: options.truth === true, ids: null });
}
