/**
 * CLAX-style hashing of (query, document) pairs into buckets (Hager et al., 2025), for click models
 * whose per-pair parameters exceed a memory budget: the pairs of a bucket share its parameters.
 * Carter–Wegman's universal hash, ((A q + C d + E) mod P) mod B with P = 2^61 − 1 (prime): with
 * A, C, E < 2^30 and ids below 2^31 every term stays below 2^62, so DuckDB computes it exactly in
 * BIGINT and anyone can compute it again (the saved parameters name it, `PAIR_HASH_TEXT`).
 */

const A = 739_391_231;
const C = 1_009_462_063;
const E = 296_281_337;
const P = '2305843009213693951';

/** The hash as text, for saved parameters. */
export const PAIR_HASH_TEXT = `((${A} q + ${C} d + ${E}) mod (2^61 - 1)) mod buckets`;

/** The bucket of the SQL integer expressions `q` and `d` among `buckets`, in SQL (INTEGER). */
export function pairBucketSql(q: string, d: string, buckets: number): string {
  return `CAST(((CAST(${q} AS BIGINT) * ${A} + CAST(${d} AS BIGINT) * ${C} + ${E}) % ${P}) % ${buckets} AS INTEGER)`;
}
