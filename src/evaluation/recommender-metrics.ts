import { ConfigError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';

/** Anything that scores a (user, item) pair; higher is recommended first. */
export interface PairScorer {
  score(user: number, item: number): number;
}

/**
 * Rated test pairs free of exposure bias (Coat's and Yahoo! R3's ratings on random items, or a
 * simulator's uniform test set): binary relevance per pair and, on simulated worlds, the true
 * P(R_ui = 1).
 */
export interface RatedPairs {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly relevant: Uint8Array;
  readonly preferenceProbability?: Float32Array;
}

export const RECOMMENDER_METRICS = ['DCG', 'Recall', 'MAP'] as const;
export type RecommenderMetric = (typeof RECOMMENDER_METRICS)[number] | 'DCG (expected)';

export interface RecommenderMetricValue {
  readonly metric: RecommenderMetric;
  readonly k: number;
  /** Mean over the users it is defined for. */
  readonly value: number;
  readonly users: number;
}

/**
 * Ranking metrics on a test set, per user then averaged. Each user's test items (those passing
 * `includeItem`: all items, or rare ones) are ranked by score (ties: lower item first); r_k ∈ {0, 1}
 * is the relevance at rank k, n⁺ the user's relevant test items:
 *   DCG@K    = Σ_{k ≤ K} r_k / log2(k + 1)
 *   Recall@K = Σ_{k ≤ K} r_k / n⁺
 *   MAP@K    = Σ_{k ≤ K} r_k · Precision@k / min(K, n⁺)
 * averaged over the users with n⁺ ≥ 1 (the others have no defined recall). Where the true P(R_ui = 1)
 * is known, "DCG (expected)" = Σ_{k ≤ K} P_k / log2(k + 1), the DCG expected over the outcomes,
 * averaged over every user with a test item.
 *
 * Rel-MF's evaluator (aoa_evaluator) differs: it smooths labels to 0.001 + 0.999·r so every user
 * counts, gives ranks 1 and 2 both weight 1 in DCG, and does not divide AP by min(K, n⁺); its
 * numbers are therefore not comparable with these.
 */
export function recommenderMetrics(scorer: PairScorer, test: RatedPairs, options: { ks?: readonly number[]; includeItem?: (item: number) => boolean } = {}): RecommenderMetricValue[] {
  const ks = options.ks ?? [1, 3, 5];
  for (const k of ks) if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError('metrics.k', `expected integers ≥ 1, found ${k}`);
  const include = options.includeItem ?? (() => true);
  const sums = new Map<string, number>();
  const add = (metric: string, k: number, v: number) => sums.set(`${metric}@${k}`, (sums.get(`${metric}@${k}`) ?? 0) + v);
  let usersWithRelevant = 0;
  let usersWithItems = 0;
  for (const rows of rowsByUser(test.user)) {
    const kept = rows.filter((r) => include(test.item[r]));
    if (kept.length === 0) continue;
    usersWithItems++;
    const u = test.user[kept[0]];
    const score = new Map(kept.map((r) => [r, scorer.score(u, test.item[r])]));
    kept.sort((a, b) => score.get(b)! - score.get(a)! || test.item[a] - test.item[b]);
    const relevant = kept.map((r) => test.relevant[r]);
    const total = relevant.reduce((s, r) => s + r, 0);
    for (const k of ks) {
      if (test.preferenceProbability) {
        let expected = 0;
        for (let j = 0; j < Math.min(k, kept.length); j++) expected += test.preferenceProbability[kept[j]] / Math.log2(j + 2);
        add('DCG (expected)', k, expected);
      }
      if (total === 0) continue;
      let dcg = 0;
      let hits = 0;
      let precisionSum = 0;
      for (let j = 0; j < Math.min(k, kept.length); j++) {
        if (!relevant[j]) continue;
        dcg += 1 / Math.log2(j + 2);
        hits++;
        precisionSum += hits / (j + 1);
      }
      add('DCG', k, dcg);
      add('Recall', k, hits / total);
      add('MAP', k, precisionSum / Math.min(k, total));
    }
    if (total > 0) usersWithRelevant++;
  }
  const out: RecommenderMetricValue[] = [];
  const metrics: RecommenderMetric[] = [...RECOMMENDER_METRICS, ...(test.preferenceProbability ? (['DCG (expected)'] as const) : [])];
  for (const metric of metrics) {
    const users = metric === 'DCG (expected)' ? usersWithItems : usersWithRelevant;
    for (const k of ks) out.push({ metric, k, users, value: users > 0 ? (sums.get(`${metric}@${k}`) ?? 0) / users : Number.NaN });
  }
  return out;
}

/**
 * Rel-MF's "rare items" (the authors' Trainer: test rows whose item has at most 500 clicks in the
 * training data of Yahoo! R3's 15,400 users). The count threshold is scaled to the number of
 * training users, 500 · users / 15,400 (about 3.2% of users), so that it means the same on Coat
 * (290 users: ≤ 9 clicks) and on simulated worlds; `threshold` overrides it.
 */
export function rareItems(itemClicks: Int32Array, numUsers: number, threshold = Math.round((500 * numUsers) / 15_400)): { isRare: (item: number) => boolean; threshold: number } {
  return { isRare: (item) => itemClicks[item] <= threshold, threshold };
}

/**
 * A validation score from held-out clicks, as Rel-MF's `unbiased_evaluator`: for each validation
 * user, the held-out clicked items plus up to `negatives` items the user never clicked (drawn once,
 * here, so every look scores the same candidates) are ranked, and the self-normalised
 * inverse-propensity DCG@k is averaged over users:
 *     Σ_{rank j ≤ k, clicked} 1 / (θ'_j log2(j + 1))  /  Σ_{clicked} 1 / θ'_j,     θ' = max(θ, 0.01).
 */
export function ipsValidation(
  validation: { user: Int32Array; item: Int32Array },
  clickedElsewhere: (user: number, item: number) => boolean,
  numItems: number,
  propensity: (user: number, item: number) => number,
  rng: RandomStream,
  options: { k?: number; negatives?: number } = {},
): (scorer: PairScorer) => number {
  const k = options.k ?? 5;
  const negatives = options.negatives ?? 100;
  const lists: { user: number; items: Int32Array; clicked: Uint8Array; weight: Float64Array; norm: number }[] = [];
  for (const rows of rowsByUser(validation.user)) {
    const user = validation.user[rows[0]];
    const positives = new Set(rows.map((r) => validation.item[r]));
    const pool: number[] = [];
    for (let i = 0; i < numItems; i++) if (!positives.has(i) && !clickedElsewhere(user, i)) pool.push(i);
    const picked = rng.shuffle(pool).slice(0, negatives);
    const items = Int32Array.from([...positives, ...picked]);
    const clicked = Uint8Array.from(items, (_, j) => (j < positives.size ? 1 : 0));
    const weight = Float64Array.from(items, (i) => 1 / Math.max(propensity(user, i), 0.01));
    let norm = 0;
    for (let j = 0; j < positives.size; j++) norm += weight[j];
    lists.push({ user, items, clicked, weight, norm });
  }
  if (lists.length === 0) throw new ConfigError('validation', 'expected at least one held-out click, found none');
  return (scorer) => {
    let total = 0;
    for (const { user, items, clicked, weight, norm } of lists) {
      const scores = Float64Array.from(items, (i) => scorer.score(user, i));
      const order = Array.from(items.keys()).sort((a, b) => scores[b] - scores[a] || items[a] - items[b]);
      let dcg = 0;
      for (let j = 0; j < Math.min(k, order.length); j++) if (clicked[order[j]]) dcg += weight[order[j]] / Math.log2(j + 2);
      total += dcg / norm;
    }
    return total / lists.length;
  };
}

/** Row indices grouped by user, users in order of first appearance. */
function rowsByUser(user: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  for (let r = 0; r < user.length; r++) {
    const g = groups.get(user[r]);
    if (g) g.push(r);
    else groups.set(user[r], [r]);
  }
  return [...groups.values()];
}
