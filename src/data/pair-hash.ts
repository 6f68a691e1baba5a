/**
 * CLAX-style hashing of (query, document) pairs into buckets (Hager et al., 2025), for click models
 * whose per-pair parameters exceed a memory budget: the pairs of a bucket share its parameters.
 * Modulo the prime P = 2^61 − 1, with constants drawn in [1, P):
 *   h = (A q + C d + E) mod P,   bucket = ((F h² mod P) + G h + H) mod P mod B.
 * Every product stays below 2^123, so DuckDB computes it exactly in HUGEINT and anyone can compute it
 * again (the saved parameters name it, `PAIR_HASH_TEXT`; mod is the non-negative remainder). The linear step alone (Carter–Wegman) is
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

/** P · 2^32, added to the linear step so that it stays non-negative for negative 32-bit ids (the same value mod P). */
const OFFSET = ((2n ** 61n - 1n) * 2n ** 32n).toString();

/**
 * The relation `relation` (columns q and d, 32-bit integers) with one more column, `bucket` (INTEGER):
 * the bucket of its pair among `buckets`. Each value is bound once by a nested select, and "mod P"
 * is the Mersenne reduction x ↦ (x & P) + (x >> 61) (twice below 2^123), then one conditional
 * subtraction: no 128-bit division, which made DuckDB take about 10 µs a pair (32× slower, measured).
 */
export function withPairBucket(relation: string, buckets: number): string {
  const reduce = (x: string) => `(${x} & ${P}) + (${x} >> 61)`;
  const below = (x: string) => `CASE WHEN ${x} >= ${P} THEN ${x} - ${P} ELSE ${x} END`;
  const steps: [string, string][] = [
    ['pair_hash_x1', `CAST(q AS HUGEINT) * ${A} + CAST(d AS HUGEINT) * ${C} + ${E} + ${OFFSET}`],
    ['pair_hash_y1', reduce('pair_hash_x1')],
    ['pair_hash_h', below('pair_hash_y1')],
    ['pair_hash_x2', 'pair_hash_h * pair_hash_h'],
    ['pair_hash_y2', reduce('pair_hash_x2')],
    ['pair_hash_z2', reduce('pair_hash_y2')],
    ['pair_hash_r2', below('pair_hash_z2')],
    ['pair_hash_x3', `pair_hash_r2 * ${F} + pair_hash_h * ${G} + ${H}`],
    ['pair_hash_y3', reduce('pair_hash_x3')],
    ['pair_hash_z3', reduce('pair_hash_y3')],
  ];
  const hashed = steps.reduce((from, [name, value]) => `(SELECT *, ${value} AS ${name} FROM ${from})`, `(SELECT * FROM ${relation})`);
  return `(SELECT * EXCLUDE (${steps.map(([name]) => name).join(', ')}), CAST(CAST(${below('pair_hash_z3')} AS BIGINT) % ${buckets} AS INTEGER) AS bucket FROM ${hashed})`;
}
