import { ConfigError } from '../core/errors.js';
import type { LogOrigin } from './log-format.js';
import type { LoggedClicks } from './click-log-table.js';
import { ClickLogWriter, clickLogFormatOf, writeClickLog } from './click-log-io.js';
import type { LoggedInteractions } from './interaction-log-table.js';
import { InteractionLogWriter, interactionLogFormatOf, writeInteractionLog } from './interaction-log-io.js';
import { concatChunks, concatInteractions } from './log-concat.js';

/** Arrow files are encoded whole, from memory: this bounds the memory a `.arrow` click log takes. */
export const ARROW_MAX_SESSIONS = 1 << 20;

/**
 * Where a log goes chunk by chunk as it is simulated: a streaming writer (CSV, JSON Lines,
 * Parquet), or, for Arrow, which is written whole, the chunks kept in memory and written at
 * `close`. `streaming` says which (a streaming sink is done with a chunk once `write` resolves).
 */
export interface LogSink<Chunk> {
  readonly streaming: boolean;
  write(chunk: Chunk): Promise<void>;
  /** Completes the file and renames it into place (files are written under a temporary name). */
  close(): Promise<void>;
  /** Gives the log up after a failure: no file is left under its name, and a previous one stays as it was. */
  abort(): Promise<void>;
}

interface StreamingWriter<Chunk> {
  write(chunk: Chunk): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

function logSink<Chunk>(writer: StreamingWriter<Chunk> | null, writeWhole: (chunks: Chunk[]) => Promise<void>): LogSink<Chunk> {
  if (writer) return { streaming: true, write: (chunk) => writer.write(chunk), close: () => writer.close(), abort: () => writer.abort() };
  const chunks: Chunk[] = [];
  return {
    streaming: false,
    write: async (chunk) => {
      chunks.push(chunk);
    },
    close: () => writeWhole(chunks),
    abort: async () => {
      chunks.length = 0;
    },
  };
}

/**
 * A click-log sink for `path` (format by extension). `sessions`: how many sessions will be
 * written, so that an Arrow file too large to hold in memory is refused before any work (an
 * error about `field`, by default the path).
 */
export async function openClickLogSink(path: string, options: { truth?: boolean; sessions?: number; field?: string; origin?: LogOrigin } = {}): Promise<LogSink<LoggedClicks>> {
  const truth = options.truth === true;
  const origin = options.origin;
  if (clickLogFormatOf(path) !== 'arrow') return logSink(await ClickLogWriter.open(path, { truth, origin }), async () => {});
  if (options.sessions !== undefined && options.sessions > ARROW_MAX_SESSIONS) {
    throw new ConfigError(options.field ?? path, `Arrow files are written whole, from memory: use at most ${ARROW_MAX_SESSIONS} sessions, or .csv, .jsonl or .parquet to stream`);
  }
  return logSink<LoggedClicks>(null, (chunks) => writeClickLog(path, concatChunks(chunks), { truth, origin }));
}

/** An interaction-log sink for `path` (format by extension). */
export async function openInteractionLogSink(path: string, options: { truth?: boolean } = {}): Promise<LogSink<LoggedInteractions>> {
  const truth = options.truth === true;
  if (interactionLogFormatOf(path) !== 'arrow') return logSink(await InteractionLogWriter.open(path, { truth }), async () => {});
  return logSink<LoggedInteractions>(null, (chunks) => writeInteractionLog(path, concatInteractions(chunks), { truth }));
}
