import type { WorldRankings } from '../../src/fitting/index.js';

/**
 * A world's rankings as `query|doc,doc,…` → logged sessions, read from its stream; with `ids`, the
 * query and documents by their text (index = id).
 */
export async function rankingsOf(world: WorldRankings, ids?: { readonly query: readonly string[] | null; readonly document: readonly string[] | null }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const batch of world.batches()) {
    for (let r = 0; r < batch.sessions.length; r++) {
      const docs = Array.from(batch.document.subarray(batch.offsets[r], batch.offsets[r + 1]), (d) => ids?.document?.[d] ?? d);
      const key = `${ids?.query?.[batch.query[r]] ?? batch.query[r]}|${docs}`;
      out.set(key, (out.get(key) ?? 0) + batch.sessions[r]);
    }
  }
  return out;
}

/** Each slot's logged propensity by `query/document/rank`, read from the world's stream. */
export async function propensitiesOf(world: WorldRankings): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const batch of world.batches()) {
    for (let r = 0; r < batch.sessions.length; r++) {
      for (let i = batch.offsets[r]; i < batch.offsets[r + 1]; i++) out.set(`${batch.query[r]}/${batch.document[i]}/${i - batch.offsets[r]}`, batch.propensity[i]);
    }
  }
  return out;
}
