import type { LoggedClicks } from './click-log-table.js';
import type { LoggedInteractions } from './interaction-log-table.js';

// Kept apart from the log readers and writers: worker threads that simulate chunks load this
// module, and should not wait for Arrow and Parquet to load.

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
