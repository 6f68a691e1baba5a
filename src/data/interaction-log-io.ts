/**
 * Recommender interaction logs on disk: CSV, JSON Lines, Arrow IPC (`.arrow`, `.feather`) and
 * Parquet, with the columns of interaction-log-table.ts (`user_id`, `item_id`, `click`, optional
 * `pscore`, `truth_*` only when asked for). The formats are the click logs' (log-format.ts, one
 * implementation for both kinds), so the two kinds of log behave alike; this module is the
 * interaction-log entry points over the `INTERACTION_LOG` schema.
 */
import { INTERACTION_LOG, type LoggedInteractions } from './interaction-log-table.js';
import { LogWriter, logFormatOf, readLog, writeArrowLog, type LogFormat } from './log-format.js';

/** The same four formats as click logs. */
export type InteractionLogFormat = LogFormat;

export interface InteractionLogWriteOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: InteractionLogFormat;
  /** Write the hidden `truth_*` columns (default false); every chunk must then carry its truth. */
  readonly truth?: boolean;
}

export interface InteractionLogReadOptions {
  /** Overrides the format the file extension implies. */
  readonly format?: InteractionLogFormat;
  /** Read the `truth_*` columns (default false), which must then be in the file. */
  readonly truth?: boolean;
}

/** The format a file name implies: `.csv`, `.jsonl`, `.arrow` or `.feather` (Arrow IPC), `.parquet`. */
export function interactionLogFormatOf(path: string): InteractionLogFormat {
  return logFormatOf(path, 'interaction-log');
}

const INTERACTION_LOG_WRITER = { ...INTERACTION_LOG, writer: 'InteractionLogWriter', writeWhole: 'writeInteractionLog' };

/**
 * Writes an interaction log to CSV, JSON Lines or Parquet a chunk of users at a time, so that a log
 * larger than memory can be simulated and written piece by piece. Rows are written as they come:
 * chunks must not repeat a user of an earlier chunk (except that the last user of one chunk may
 * continue at the start of the next), or the file will not read back. Whether the file has `pscore`
 * is fixed by the first chunk; later chunks must agree. Each Parquet `write` becomes its own row
 * group(s) of at most 2^20 rows. Arrow has no streaming writer: use `writeInteractionLog`.
 *
 *     const writer = await InteractionLogWriter.open('interactions.parquet');
 *     await simulateRecommenderLog(spec, rng, (chunk) => writer.write(chunk));
 *     await writer.close();
 */
export class InteractionLogWriter extends LogWriter<LoggedInteractions> {
  static async open(path: string, options: InteractionLogWriteOptions = {}): Promise<InteractionLogWriter> {
    const format = options.format ?? interactionLogFormatOf(path);
    return new InteractionLogWriter(...(await LogWriter.openSink(INTERACTION_LOG_WRITER, path, format, options.truth === true)));
  }
}

/** Writes a whole interaction log in the format of the file's extension (or `options.format`). */
export async function writeInteractionLog(path: string, logged: LoggedInteractions, options: InteractionLogWriteOptions = {}): Promise<void> {
  const format = options.format ?? interactionLogFormatOf(path);
  const truth = options.truth === true;
  if (format === 'arrow') return writeArrowLog(INTERACTION_LOG, path, logged, truth);
  INTERACTION_LOG.check(logged, truth); // before the file is created
  const writer = await InteractionLogWriter.open(path, { ...options, format });
  try {
    await writer.write(logged);
  } finally {
    await writer.close();
  }
}

/** Reads an interaction log in the format of the file's extension (or `options.format`), validating every row. */
export async function readInteractionLog(path: string, options: InteractionLogReadOptions = {}): Promise<LoggedInteractions> {
  return readLog(INTERACTION_LOG, path, options.format ?? interactionLogFormatOf(path), { truth: options.truth === true, ids: null });
}
