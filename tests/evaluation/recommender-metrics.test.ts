import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';
import { ipsValidation, rareItems, recommenderMetrics, type PairScorer } from '../../src/evaluation/recommender-metrics.js';

/** Scores an item by its index, descending: item 0 is ranked first. */
const byIndex: PairScorer = { score: (_u, i) => -i };

describe('recommender metrics (hand-computed)', () => {
  // User 7: items 0..4 ranked in that order, relevant at ranks 2 and 4 (n⁺ = 2).
  // User 3: items 0, 1 with nothing relevant (excluded from the averages).
  // User 5: item 2 only, relevant.
  const test = {
    user: Int32Array.from([7, 7, 7, 7, 7, 3, 3, 5]),
    item: Int32Array.from([4, 1, 0, 3, 2, 0, 1, 2]),
    relevant: Uint8Array.from([0, 1, 0, 1, 0, 0, 0, 1]),
  };
  const value = (rows: ReturnType<typeof recommenderMetrics>, metric: string, k: number) => rows.find((r) => r.metric === metric && r.k === k)!.value;

  it('DCG, Recall and MAP at 1, 3, 5', () => {
    const rows = recommenderMetrics(byIndex, test);
    // User 7: ranks 1..5 carry relevance 0 1 0 1 0.
    const u7 = { dcg1: 0, dcg3: 1 / Math.log2(3), dcg5: 1 / Math.log2(3) + 1 / Math.log2(5), r1: 0, r3: 0.5, r5: 1, map1: 0, map3: 0.5 / 2, map5: (1 / 2 + 2 / 4) / 2 };
    const u5 = { dcg: 1, r: 1, map: 1 };
    expect(value(rows, 'DCG', 1)).toBeCloseTo((u7.dcg1 + u5.dcg) / 2, 12);
    expect(value(rows, 'DCG', 3)).toBeCloseTo((u7.dcg3 + u5.dcg) / 2, 12);
    expect(value(rows, 'DCG', 5)).toBeCloseTo((u7.dcg5 + u5.dcg) / 2, 12);
    expect(value(rows, 'Recall', 1)).toBeCloseTo((u7.r1 + u5.r) / 2, 12);
    expect(value(rows, 'Recall', 3)).toBeCloseTo((u7.r3 + u5.r) / 2, 12);
    expect(value(rows, 'Recall', 5)).toBeCloseTo((u7.r5 + u5.r) / 2, 12);
    expect(value(rows, 'MAP', 1)).toBeCloseTo((u7.map1 + u5.map) / 2, 12);
    expect(value(rows, 'MAP', 3)).toBeCloseTo((u7.map3 + u5.map) / 2, 12);
    expect(value(rows, 'MAP', 5)).toBeCloseTo((u7.map5 + u5.map) / 2, 12);
    expect(rows.every((r) => r.users === 2)).toBe(true);
  });

  it('restricted to some items (rare ones) and with the true preference as expected DCG', () => {
    const withTruth = { ...test, preferenceProbability: Float32Array.from([0.1, 0.8, 0.2, 0.6, 0.3, 0.5, 0.5, 0.9]) };
    // Only items 1 and 3: user 7 ranks 1 (relevant) then 3 (relevant); user 3 has item 1 only; user 5 none.
    const rows = recommenderMetrics(byIndex, withTruth, { ks: [1, 3], includeItem: (i) => i === 1 || i === 3 });
    expect(value(rows, 'DCG', 3)).toBeCloseTo(1 + 1 / Math.log2(3), 6); // user 7: items 1, 3 at ranks 1, 2
    expect(value(rows, 'MAP', 1)).toBe(1);
    expect(value(rows, 'Recall', 1)).toBe(0.5);
    // Expected DCG@1 over users 7 and 3 (both have test items): (0.8 + 0.5) / 2.
    expect(value(rows, 'DCG (expected)', 1)).toBeCloseTo(0.65, 6);
  });

  it('rare items: at most 500 clicks per 15,400 users, scaled to the data', () => {
    const clicks = Int32Array.from([0, 9, 10, 65, 66]);
    expect(rareItems(clicks, 290).threshold).toBe(9);
    expect([0, 1, 2].map(rareItems(clicks, 290).isRare)).toEqual([true, true, false]);
    expect(rareItems(clicks, 2000).threshold).toBe(65);
    expect(rareItems(clicks, 15_400).threshold).toBe(500);
  });
});

describe('IPS validation (Rel-MF unbiased_evaluator)', () => {
  it('self-normalised IPS DCG@k over held-out clicks and sampled unclicked items', () => {
    // One user, 3 items, held-out clicks on items 1 and 2, item 0 unclicked; θ = 0.5, 0.25, 0.005 (→ 0.01).
    const validate = ipsValidation(
      { user: Int32Array.from([0, 0]), item: Int32Array.from([1, 2]) },
      () => false,
      3,
      (_u, i) => [0.5, 0.25, 0.005][i],
      randomStream(1),
      { k: 2 },
    );
    // Ranking by index: 0, 1, 2 → within top 2 only item 1 (rank 2) is clicked: (4 / log2 3) / (4 + 100).
    expect(validate(byIndex)).toBeCloseTo(4 / Math.log2(3) / 104, 12);
    // Reversed: 2 then 1 → (100 + 4 / log2 3) / 104.
    expect(validate({ score: (_u, i) => i })).toBeCloseTo((100 + 4 / Math.log2(3)) / 104, 12);
  });
});
