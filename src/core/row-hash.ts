/**
 * Hashes of a row's index (or any non-negative integer id) under a seed, for draws that must not
 * depend on how a log is cut into batches: the Poisson-bootstrap counts of a streamed estimate
 * (evaluation/streaming.ts) and the cross-fitting fold of a reward model's row
 * (evaluation/reward-model.ts) are functions of (seed, row) alone, so a stream and an in-memory
 * array give the same draws.
 */

/** murmur3's 32-bit finaliser: a bijection of 32-bit integers that mixes every input bit into every output bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit key of a seed (a number or a string). */
export function seedKey(seed: string | number): number {
  const text = String(seed);
  let h = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) h = mix32(h ^ text.charCodeAt(i)) + i;
  return mix32(h);
}

/** The 32-bit key of row `row` (an integer in [0, 2^53)) under a seed key. */
export function rowKey(seed: number, row: number): number {
  const lo = row >>> 0;
  const hi = Math.floor(row / 2 ** 32) >>> 0;
  return mix32(mix32(seed ^ lo) ^ Math.imul(hi + 1, 0x27d4eb2f));
}
