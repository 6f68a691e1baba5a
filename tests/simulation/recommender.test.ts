import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { randomStream } from '../../src/core/random.js';
import { ExposureModel, PopularityExposure, RecommenderWorld, simulateInteractions, truePreference, uniformTestSet } from '../../src/simulation/recommender/index.js';

/** Four standard errors of a binomial proportion: a false alarm about once in 16,000 checks. */
const tolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

/** Spearman's rank correlation (ties get their average rank). */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>) => {
    const order = Array.from({ length: v.length }, (_, i) => i).sort((x, y) => v[x] - v[y]);
    const r = new Float64Array(v.length);
    for (let s = 0; s < order.length; ) {
      let e = s;
      while (e + 1 < order.length && v[order[e + 1]] === v[order[s]]) e++;
      for (let k = s; k <= e; k++) r[order[k]] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = ra.length;
  const m = (n - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - m) * (rb[i] - m);
    da += (ra[i] - m) ** 2;
    db += (rb[i] - m) ** 2;
  }
  return num / Math.sqrt(da * db);
}

function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('recommender world', () => {
  it('gives items Zipf popularity π_i = r_i^(−α) / Σ r^(−α) over a seeded permutation of ranks', () => {
    const world = new RecommenderWorld({ numUsers: 10, numItems: 1000, popularityExponent: 1.3, rng: randomStream(1) });
    let total = 0;
    for (let r = 1; r <= 1000; r++) total += r ** -1.3;
    const seen = new Uint8Array(1001);
    let violations = 0;
    let moved = 0;
    let sum = 0;
    for (let i = 0; i < 1000; i++) {
      const r = world.popularityRank[i];
      seen[r]++;
      if (r !== i + 1) moved++;
      if (Math.abs(world.popularity[i] - r ** -1.3 / total) > 1e-15 * world.popularity[i]) violations++;
      sum += world.popularity[i];
    }
    expect(violations).toBe(0);
    expect(seen.subarray(1).every((c) => c === 1)).toBe(true);
    expect(moved).toBeGreaterThan(900);
    expect(sum).toBeCloseTo(1, 12);
    const flat = new RecommenderWorld({ numUsers: 1, numItems: 50, popularityExponent: 0, rng: randomStream(1) });
    expect(flat.popularity.every((p) => Math.abs(p - 1 / 50) < 1e-15)).toBe(true);
  });

  it('calibrates b so that the mean preference over all pairs hits the target', () => {
    // 10M pairs, calibrated on S = 131,072 of them: the population mean is within 4·sd(P)/√S of m.
    const world = new RecommenderWorld({ numUsers: 2000, numItems: 5000, meanPreference: 0.05, rng: randomStream(2) });
    const items = Int32Array.from({ length: 5000 }, (_, i) => i);
    const p = new Float32Array(5000);
    let sum = 0;
    let sumSquares = 0;
    for (let u = 0; u < 2000; u++) {
      world.preference(u, items, p);
      for (let i = 0; i < 5000; i++) {
        sum += p[i];
        sumSquares += p[i] * p[i];
      }
    }
    const mean = sum / 1e7;
    const sd = Math.sqrt(sumSquares / 1e7 - mean * mean);
    expect(Math.abs(mean - 0.05)).toBeLessThan((4 * sd) / Math.sqrt(world.params.calibrationSamples));
    // When U·I ≤ S every pair is used and the target is met up to Float32 rounding.
    const small = new RecommenderWorld({ numUsers: 100, numItems: 300, meanPreference: 0.2, popularityEffect: 0.5, rng: randomStream(3) });
    const q = new Float32Array(300);
    let smallSum = 0;
    for (let u = 0; u < 100; u++) {
      small.preference(u, items.subarray(0, 300), q);
      for (let i = 0; i < 300; i++) smallSum += q[i];
    }
    expect(Math.abs(smallSum / 30_000 - 0.2)).toBeLessThan(1e-6);
  });

  it('finds the exact top-k items of a user (ties to the lower index)', () => {
    const world = new RecommenderWorld({ numUsers: 50, numItems: 700, rng: randomStream(4) });
    const items = Int32Array.from({ length: 700 }, (_, i) => i);
    const p = new Float32Array(700);
    let violations = 0;
    for (const u of [0, 17, 49]) {
      world.preference(u, items, p);
      const expected = Array.from(items).sort((a, b) => p[b] - p[a] || a - b);
      for (const k of [1, 10, 700]) {
        const top = world.topItems(u, k);
        for (let j = 0; j < k; j++) {
          // topItems ranks by the exact logit; Float32 preferences may tie where logits do not.
          if (top.preference[j] !== p[expected[j]]) violations++;
          if (top.preference[j] !== p[top.items[j]]) violations++;
        }
      }
    }
    expect(violations).toBe(0);
    expect(world.topItems(3, 0).items.length).toBe(0);
    // Equal logits (τ = 0, β = 0): the lowest indices win, in index order.
    const flat = new RecommenderWorld({ numUsers: 2, numItems: 9, affinityScale: 0, popularityEffect: 0, rng: randomStream(4) });
    expect(Array.from(flat.topItems(1, 4).items)).toEqual([0, 1, 2, 3]);
  });

  it('builds 1M users × 100k items from factors alone (~70 MB) and answers queries', () => {
    const world = new RecommenderWorld({ numUsers: 1_000_000, numItems: 100_000, rng: randomStream('big') });
    expect(world.byteLength).toBeLessThan(75e6);
    const items = Int32Array.from({ length: 100_000 }, (_, i) => i);
    const p = new Float32Array(100_000);
    world.preference(999_999, items, p);
    const best = Array.from(items).sort((a, b) => p[b] - p[a] || a - b)[0];
    const top = world.topItems(999_999, 20);
    expect(top.preference[0]).toBe(p[best]);
    expect(world.topItems(123_456, 20).items.length).toBe(20);
  });

  it('is reproducible from the seed', () => {
    const a = new RecommenderWorld({ numUsers: 300, numItems: 200, rng: randomStream(9) });
    const b = new RecommenderWorld({ numUsers: 300, numItems: 200, rng: randomStream(9) });
    const c = new RecommenderWorld({ numUsers: 300, numItems: 200, rng: randomStream(10) });
    expect(Buffer.from(a.userFactors.buffer).equals(Buffer.from(b.userFactors.buffer))).toBe(true);
    expect(Array.from(a.popularityRank)).toEqual(Array.from(b.popularityRank));
    expect(a.offset).toBe(b.offset);
    expect(Buffer.from(a.itemFactors.buffer).equals(Buffer.from(c.itemFactors.buffer))).toBe(false);
  });
});

describe('popularity exposure', () => {
  const world = new RecommenderWorld({ numUsers: 1, numItems: 10_000, rng: randomStream(11) });
  const exposure = new PopularityExposure(world.popularity, { expectedExposures: 50, popularityExponent: 1 });

  it('sets θ_i = clamp(c · π_i^γ, θ_min, 1) with Σθ = n', () => {
    expect(exposure.expectedExposures).toBeCloseTo(50, 9);
    let violations = 0;
    for (let i = 0; i < 10_000; i++) {
      if (Math.abs(exposure.probability[i] - Math.min(1, exposure.scale * world.popularity[i])) > 1e-15) violations++;
    }
    expect(violations).toBe(0);
    expect(exposure.probability.filter((t) => t === 1).length).toBeGreaterThan(0); // the head saturates
    const uniform = new PopularityExposure(world.popularity, { expectedExposures: 50, popularityExponent: 0 });
    expect(uniform.probability.every((t) => Math.abs(t - 0.005) < 1e-15)).toBe(true);
    const floored = new PopularityExposure(world.popularity, { expectedExposures: 50, popularityExponent: 2, minProbability: 0.002 });
    expect(floored.expectedExposures).toBeCloseTo(50, 9);
    expect(Math.min(...floored.probability)).toBe(0.002);
  });

  it('exposes each item independently with probability exactly θ_i', () => {
    const N = 100_000;
    const rng = randomStream(12);
    const out = new Int32Array(10_000);
    const shown = new Float64Array(10_000);
    let sum = 0;
    let sumSquares = 0;
    let disorder = 0;
    for (let u = 0; u < N; u++) {
      const count = exposure.sample(rng, out);
      for (let j = 0; j < count; j++) {
        shown[out[j]]++;
        if (j > 0 && out[j] <= out[j - 1]) disorder++;
      }
      sum += count;
      sumSquares += count * count;
    }
    expect(disorder).toBe(0);
    const theta = exposure.probability;
    // A handful of items across the θ range, from the saturated head to the tail.
    const byRank = new Int32Array(10_001);
    for (let i = 0; i < 10_000; i++) byRank[world.popularityRank[i]] = i;
    for (const r of [1, 3, 10, 30, 100, 300, 1000, 3000, 10_000]) {
      const i = byRank[r];
      expect(Math.abs(shown[i] / N - theta[i])).toBeLessThanOrEqual(tolerance(theta[i], N));
    }
    // Every item: about 0.6 four-SE violations are expected among 10,000.
    let violations = 0;
    for (let i = 0; i < 10_000; i++) if (Math.abs(shown[i] / N - theta[i]) > tolerance(theta[i], N)) violations++;
    expect(violations).toBeLessThanOrEqual(4);
    // The count per user is a sum of independent Bernoullis: mean Σθ = n, variance Σθ(1 − θ).
    let variance = 0;
    for (let i = 0; i < 10_000; i++) variance += theta[i] * (1 - theta[i]);
    const mean = sum / N;
    expect(Math.abs(mean - 50)).toBeLessThan(4 * Math.sqrt(variance / N));
    expect(Math.abs(sumSquares / N - mean * mean - variance)).toBeLessThan(4 * variance * Math.sqrt(2 / N));
  });

  it('samples exactly for any θ, including 0, 1 and values straddling the thinning runs', () => {
    const theta = Float64Array.from([1, 0, 0.5, 0.3, 1e-3, 0.9, 0.49, 0.251, 0.25, 1, 0.02]);
    const model = new ExposureModel(theta);
    const N = 200_000;
    const rng = randomStream(13);
    const out = new Int32Array(theta.length);
    const shown = new Float64Array(theta.length);
    for (let u = 0; u < N; u++) {
      const count = model.sample(rng, out);
      for (let j = 0; j < count; j++) shown[out[j]]++;
    }
    expect(shown[0]).toBe(N);
    expect(shown[9]).toBe(N);
    expect(shown[1]).toBe(0);
    for (let i = 0; i < theta.length; i++) expect(Math.abs(shown[i] / N - theta[i])).toBeLessThanOrEqual(tolerance(theta[i], N));
  });
});

describe('interaction logs', () => {
  const world = new RecommenderWorld({ numUsers: 20_000, numItems: 2000, rng: randomStream(21) });
  const exposure = new PopularityExposure(world.popularity, { expectedExposures: 50, popularityExponent: 1 });
  const { log, truth } = simulateInteractions(world, exposure, { users: 20_000, rng: randomStream(22) });
  const rows = log.user.length;

  it('logs exposed pairs grouped by user, items ascending, with the hidden truth aligned', () => {
    expect(Math.abs(rows / 20_000 - 50)).toBeLessThan(1);
    let violations = 0;
    for (let r = 1; r < rows; r++) {
      if (log.user[r] < log.user[r - 1]) violations++;
      if (log.user[r] === log.user[r - 1] && log.item[r] <= log.item[r - 1]) violations++;
    }
    const preference = truePreference(world, log);
    const check = new Float32Array(1);
    const relevant = new Uint8Array(1);
    for (let r = 0; r < rows; r++) {
      if (truth.exposureProbability[r] !== Math.fround(exposure.probability[log.item[r]])) violations++;
      if (truth.preferenceProbability[r] !== preference[r]) violations++;
      // Y = O · R and O = 1 on every row: a click is exactly the world's outcome for the pair.
      world.relevance(log.user[r], log.item.subarray(r, r + 1), check, relevant);
      if (log.click[r] !== relevant[0]) violations++;
    }
    expect(violations).toBe(0);
  });

  it('shows items at rate θ_i and clicks on shown items at the rate of their true preference', () => {
    const shown = new Float64Array(2000);
    const clicks = new Float64Array(2000);
    const expected = new Float64Array(2000);
    const variance = new Float64Array(2000);
    for (let r = 0; r < rows; r++) {
      const i = log.item[r];
      const p = truth.preferenceProbability[r];
      shown[i]++;
      clicks[i] += log.click[r];
      expected[i] += p;
      variance[i] += p * (1 - p);
    }
    let exposureViolations = 0;
    let clickViolations = 0;
    let checkedItems = 0;
    let totalClicks = 0;
    let totalExpected = 0;
    let totalVariance = 0;
    for (let i = 0; i < 2000; i++) {
      const theta = exposure.probability[i];
      if (Math.abs(shown[i] / 20_000 - theta) > tolerance(theta, 20_000)) exposureViolations++;
      // Clicks on item i given who saw it: a sum of independent Bernoulli(P(R_ui = 1)).
      if (shown[i] >= 200) {
        checkedItems++;
        if (Math.abs(clicks[i] - expected[i]) > 4 * Math.sqrt(variance[i])) clickViolations++;
      }
      totalClicks += clicks[i];
      totalExpected += expected[i];
      totalVariance += variance[i];
    }
    expect(exposureViolations).toBeLessThanOrEqual(2);
    expect(checkedItems).toBeGreaterThan(500);
    expect(clickViolations).toBeLessThanOrEqual(2);
    expect(Math.abs(totalClicks - totalExpected)).toBeLessThan(4 * Math.sqrt(totalVariance));
  });

  it('makes click counts track popularity more than true preference does when γ > 0', () => {
    // Mean true preference per item over the first 2000 users.
    const items = Int32Array.from({ length: 2000 }, (_, i) => i);
    const p = new Float32Array(2000);
    const meanPreference = new Float64Array(2000);
    for (let u = 0; u < 2000; u++) {
      world.preference(u, items, p);
      for (let i = 0; i < 2000; i++) meanPreference[i] += p[i] / 2000;
    }
    const clicksPerItem = (clickLog: { item: Int32Array; click: Uint8Array }) => {
      const c = new Float64Array(2000);
      for (let r = 0; r < clickLog.item.length; r++) c[clickLog.item[r]] += clickLog.click[r];
      return c;
    };
    const uniform = new PopularityExposure(world.popularity, { expectedExposures: 50, popularityExponent: 0 });
    const unbiased = simulateInteractions(world, uniform, { users: 20_000, rng: randomStream(23) }).log;
    const truthRho = spearman(meanPreference, world.popularity);
    const biasedRho = spearman(clicksPerItem(log), world.popularity);
    const uniformRho = spearman(clicksPerItem(unbiased), world.popularity);
    expect(truthRho).toBeGreaterThan(0.1); // β > 0: popular items are somewhat better
    expect(biasedRho).toBeGreaterThan(truthRho + 0.25);
    // Under uniform exposure clicks are a noisy measure of preference, not a more popular one.
    expect(uniformRho).toBeLessThan(truthRho + 0.05);
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const users = Int32Array.from([5, 3, 900, 12_000]);
    const a = simulateInteractions(world, exposure, { users, rng: randomStream(31) });
    const b = simulateInteractions(world, exposure, { users, rng: randomStream(31) });
    const c = simulateInteractions(world, exposure, { users, rng: randomStream(32) });
    expect(Array.from(new Set(a.log.user))).toEqual([5, 3, 900, 12_000]);
    expect(Buffer.from(a.log.item.buffer).equals(Buffer.from(b.log.item.buffer))).toBe(true);
    expect(Buffer.from(a.log.click).equals(Buffer.from(b.log.click))).toBe(true);
    expect(Buffer.from(a.truth.preferenceProbability.buffer).equals(Buffer.from(b.truth.preferenceProbability.buffer))).toBe(true);
    expect(Buffer.from(a.log.item.buffer).equals(Buffer.from(c.log.item.buffer))).toBe(false);
  });

  it('draws a uniform test set whose outcomes agree with the log on shared pairs', () => {
    const test = uniformTestSet(world, { usersSample: 5000, itemsPerUser: 16, rng: randomStream(41) });
    const n = test.user.length;
    expect(n).toBe(80_000);
    let violations = 0;
    const perItem = new Float64Array(2000);
    let relevantSum = 0;
    let expectedSum = 0;
    let variance = 0;
    for (let r = 0; r < n; r++) {
      perItem[test.item[r]]++;
      if (r % 16 !== 0 && test.item[r] <= test.item[r - 1]) violations++;
      if (r % 16 === 0 && r > 0 && test.user[r] <= test.user[r - 1]) violations++;
      if (r % 16 !== 0 && test.user[r] !== test.user[r - 1]) violations++;
      const p = test.preferenceProbability[r];
      relevantSum += test.relevant[r];
      expectedSum += p;
      variance += p * (1 - p);
    }
    expect(violations).toBe(0);
    expect(Math.abs(relevantSum - expectedSum)).toBeLessThan(4 * Math.sqrt(variance));
    // Items are uniform: each is drawn with probability 16/2000 per user.
    let itemViolations = 0;
    for (let i = 0; i < 2000; i++) if (Math.abs(perItem[i] / 5000 - 0.008) > tolerance(0.008, 5000)) itemViolations++;
    expect(itemViolations).toBeLessThanOrEqual(2);
    // A pair in both the log and the test set has one outcome R_ui.
    const logRow = new Map<number, number>();
    for (let r = 0; r < rows; r++) logRow.set(log.user[r] * 2000 + log.item[r], r);
    let shared = 0;
    let disagreements = 0;
    for (let r = 0; r < n; r++) {
      const l = logRow.get(test.user[r] * 2000 + test.item[r]);
      if (l === undefined) continue;
      shared++;
      if (log.click[l] !== test.relevant[r]) disagreements++;
    }
    expect(shared).toBeGreaterThan(1000);
    expect(disagreements).toBe(0);
    expect(Array.from(truePreference(world, test).subarray(0, 16))).toEqual(Array.from(test.preferenceProbability.subarray(0, 16)));
  });
});

describe('validation', () => {
  const rng = randomStream(0);
  const world = new RecommenderWorld({ numUsers: 10, numItems: 20, rng });

  it('names the field and what was expected and found', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => new RecommenderWorld({ numUsers: -1, numItems: 5, rng }), 'world.numUsers', /integer ≥ 1, found -1/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 2.5, rng }), 'world.numItems', /integer ≥ 1, found 2.5/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 5, popularityExponent: -0.5, rng }), 'world.popularityExponent', /≥ 0, found -0.5/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 5, meanPreference: 1, rng }), 'world.meanPreference', /\(0, 1\), found 1/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 5, meanPreference: 0, rng }), 'world.meanPreference', /\(0, 1\), found 0/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 5, dimension: 0, rng }), 'world.dimension', /found 0/],
      [() => new RecommenderWorld({ numUsers: 5, numItems: 5, affinityScale: Number.NaN, rng }), 'world.affinityScale', /found NaN/],
      [() => new PopularityExposure(world.popularity, { expectedExposures: 21 }), 'exposure.expectedExposures', /\(0, 20\].*found 21/],
      [() => new PopularityExposure(world.popularity, { expectedExposures: 0 }), 'exposure.expectedExposures', /found 0/],
      [() => new PopularityExposure(world.popularity, { popularityExponent: -1, expectedExposures: 5 }), 'exposure.popularityExponent', /≥ 0, found -1/],
      [() => new PopularityExposure(world.popularity, { expectedExposures: 5, minProbability: 0.5 }), 'exposure.minProbability', /≤ expectedExposures = 5, found θ_min = 0.5/],
      [() => new ExposureModel(Float64Array.from([0.5, 1.5])), 'exposure.probability', /\[0, 1\], found 1.5 at item 1/],
      [() => world.topItems(10, 1), 'topItems.user', /\[0, 10\), found 10/],
      [() => world.topItems(0, 21), 'topItems.k', /\[0, 20\], found 21/],
      [() => world.preference(0, Int32Array.from([20]), new Float32Array(1)), 'preference.items', /found 20/],
      [() => simulateInteractions(world, new ExposureModel(new Float64Array(3)), { users: 1, rng }), 'interactions.exposure', /over 20 items.*found 3/],
      [() => simulateInteractions(world, new PopularityExposure(world.popularity, { expectedExposures: 2 }), { users: 11, rng }), 'interactions.users', /found 11/],
      [
        () => simulateInteractions(world, new PopularityExposure(world.popularity, { expectedExposures: 2 }), { users: Int32Array.from([1, 2, 1]), rng }),
        'interactions.users[2]',
        /distinct users, found user 1 again/,
      ],
      [() => uniformTestSet(world, { usersSample: 3, itemsPerUser: 21, rng }), 'testSet.itemsPerUser', /\[1, 20\], found 21/],
    ];
    for (const [build, path, message] of cases) {
      const error = configErrorOf(build);
      expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
    }
  });
});
