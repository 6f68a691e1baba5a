import { describe, expect, it } from 'vitest';
import { randomStream } from '../../src/core/random.js';

describe('seeded random streams', () => {
  it('repeat from the same seed; derived streams are independent of draws elsewhere', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, randomStream(seed).uniform.bind(randomStream(seed)));
    const a = randomStream(42);
    const b = randomStream(42);
    expect(Array.from({ length: 5 }, () => a.uniform())).toEqual(Array.from({ length: 5 }, () => b.uniform()));
    // Drawing from the parent does not shift a derived stream.
    const fresh = randomStream(42).derive('clicks').uniform();
    expect(a.derive('clicks').uniform()).toBe(fresh);
    expect(randomStream(42).derive('queries').uniform()).not.toBe(fresh);
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('draws integers, normals, shuffles and samples with the right distributions', () => {
    const rng = randomStream('dist');
    const n = 100_000;
    const counts = new Array(5).fill(0);
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      counts[rng.int(5)]++;
      const z = rng.normal();
      sum += z;
      sumSquares += z * z;
    }
    // Four standard errors: binomial for the counts, 1/√n for the normal mean, √(2/n) for its variance.
    for (const c of counts) expect(Math.abs(c / n - 0.2)).toBeLessThan(4 * Math.sqrt(0.16 / n));
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sumSquares / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    const shuffled = rng.shuffle(Int32Array.from({ length: 10 }, (_, i) => i));
    expect(Array.from(shuffled).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const sample = rng.sampleWithoutReplacement(100, 30);
    expect(new Set(sample).size).toBe(30);
    expect(() => rng.sampleWithoutReplacement(3, 4)).toThrow(RangeError);
  });
});
