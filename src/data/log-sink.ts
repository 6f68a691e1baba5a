import { ConfigError } from '../core/errors.js';
import type { LoggedClicks } from './click-log-table.js';
import { ClickLogWriter, clickLogFormatOf, writeClickLog } from './click-log-io.js';
import type { LoggedInteractions } from './interaction-log-table.js';
import { InteractionLogWriter, interactionLogFormatOf, writeInteractionLog } from './interaction-log-io.js';

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
  close(): Promise<void>;
}

function logSink<Chunk>(writer: { write(chunk: Chunk): Promise<void>; close(): Promise<void> } | null, writeWhole: (chunks: Chunk[]) => Promise<void>): LogSink<Chunk> {
  if (writer) return { streaming: true, write: (chunk) => writer.write(chunk), close: () => writer.close() };
  const chunks: Chunk[] = [];
  return {
    streaming: false,
    write: async (chunk) => {
      chunks.push(chunk);
    },
    close: () => writeWhole(chunks),
  };
}

/**
 * A click-log sink for `path` (format by extension). `sessions`: how many sessions will be
 * written, so that an Arrow file too large to hold in memory is refused before any work.
 */
export async function openClickLogSink(path: string, options: { truth?: boolean; sessions?: number } = {}): Promise<LogSink<LoggedClicks>> {
  const truth = options.truth === true;
  if (clickLogFormatOf(path) !== 'arrow') return logSink(await ClickLogWriter.open(path, { truth }), async () => {});
  if (options.sessions !== undefined && options.sessions > ARROW_MAX_SESSIONS) {
    throw new ConfigError(path, `Arrow files are written whole, from memory: use at most ${ARROW_MAX_SESSIONS} sessions, or .csv, .jsonl or .parquet to stream`);
  }
  return logSink<LoggedClicks>(null, (chunks) => writeClickLog(path, concatChunks(chunks), { truth }));
}

/** An interaction-log sink for `path` (format by extension). */
export async function openInteractionLogSink(path: string, options: { truth?: boolean } = {}): Promise<LogSink<LoggedInteractions>> {
  const truth = options.truth === true;
  if (interactionLogFormatOf(path) !== 'arrow') return logSink(await InteractionLogWriter.open(path, { truth }), async () => {});
  return logSink<LoggedInteractions>(null, (chunks) => writeInteractionLog(path, concatInteractions(chunks), { truth }));
}

type Column = Int32Array | Uint16Array | Uint8Array | Float32Array;

/** The parts one after another, in one array of their type. */
function joined<T extends Column>(parts: readonly T[]): T {
  const out = new (parts[0].constructor as new (length: number) => T)(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, at);
    at += p.length;
  }
  return out;
}

/** Each named column of every chunk, joined; undefined unless every chunk has the group. */
function joinedGroup<G extends { readonly [K in keyof G]: Column }>(groups: readonly (G | undefined)[]): G | undefined {
  if (groups.length === 0 || !groups.every((g) => g)) return undefined;
  const keys = Object.keys(groups[0]!) as (keyof G)[];
  return Object.fromEntries(keys.map((key) => [key, joined(groups.map((g) => g![key]))])) as unknown as G;
}

/** Consecutive chunks of one click log as a single log (session offsets run on). */
export function concatChunks(chunks: readonly LoggedClicks[]): LoggedClicks {
  if (chunks.length === 1) return chunks[0];
  const offsets = new Int32Array(chunks.reduce((n, c) => n + c.log.sessionQuery.length, 0) + 1);
  let session = 0;
  for (const { log } of chunks) {
    const base = offsets[session];
    for (let s = 1; s < log.sessionOffsets.length; s++) offsets[session + s] = base + log.sessionOffsets[s];
    session += log.sessionQuery.length;
  }
  const logs = chunks.map((c) => c.log);
  return {
    log: {
      sessionQuery: joined(logs.map((l) => l.sessionQuery)),
      sessionOffsets: offsets,
      document: joined(logs.map((l) => l.document)),
      position: joined(logs.map((l) => l.position)),
      click: joined(logs.map((l) => l.click)),
    },
    propensity: chunks.every((c) => c.propensity) ? joined(chunks.map((c) => c.propensity!)) : undefined,
    truth: joinedGroup(chunks.map((c) => c.truth)),
  };
}

/** Consecutive chunks of one interaction log as a single log. */
export function concatInteractions(chunks: readonly LoggedInteractions[]): LoggedInteractions {
  if (chunks.length === 1) return chunks[0];
  if (chunks.length === 0) return { log: { user: new Int32Array(0), item: new Int32Array(0), click: new Uint8Array(0) } };
  return {
    log: joinedGroup(chunks.map((c) => c.log))!,
    propensity: chunks.every((c) => c.propensity) ? joined(chunks.map((c) => c.propensity!)) : undefined,
    truth: joinedGroup(chunks.map((c) => c.truth)),
  };
}
