/**
 * CLAX-style hashing of (query, document) pairs into buckets (Hager et al., 2025), for click models
 * whose per-pair parameters exceed a memory budget: the pairs of a bucket share its parameters.
 * Modulo the prime P = 2^61 − 1, with constants drawn in [1, P):
 *   h = (A q + C d + E) mod P,   bucket = ((F h² mod P) + G h + H) mod P mod B.
 * Every product stays below 2^123, so DuckDB computes it exactly in HUGEINT and anyone can compute it
 * again (the saved parameters name it, `PAIR_HASH_TEXT`). The linear step alone (Carter–Wegman) is
 * linear in the ids for a fixed draw, and real ids are structured (a query's documents numbered
 * together): it used half of 2^24 buckets at 10M sessions with small constants, and 4% fewer buckets
 * than random throws on 12,000 such pairs with large ones; the quadratic step breaks the linearity
 * (tests/fitting/streamed-groups.test.ts).
 */

const A = '1442695040888963407';
const C = '1181783497276652981';
const E = '1609587929392839161';
const F = '2039575427463517591';
const G = '1875293844713214407';
const H = '662811743121497027';
const P = '2305843009213693951';

/** The hash as text, for saved parameters. */
export const PAIR_HASH_TEXT = `h = (${A} q + ${C} d + ${E}) mod P; bucket = ((${F} h^2 mod P) + ${G} h + ${H}) mod P mod buckets; P = 2^61 - 1`;

/** The bucket of the SQL integer expressions `q` and `d` among `buckets`, in SQL (INTEGER). */
export function pairBucketSql(q: string, d: string, buckets: number): string {
  const h = `((CAST(${q} AS HUGEINT) * ${A} + CAST(${d} AS HUGEINT) * ${C} + ${E}) % ${P})`;
  return `CAST((((${h} * ${h}) % ${P} * ${F} % ${P} + ${h} * ${G} + ${H}) % ${P}) % ${buckets} AS INTEGER)`;
}
