import { describe, expect, it } from 'vitest';
import { confidenceHalfWidth, pairedTTest, standardDeviation, studentTCdf, studentTQuantile } from '../../src/evaluation/statistics.js';

describe('Student-t inference', () => {
  it('matches tabulated quantiles of the t distribution', () => {
    // Standard tables: t_{0.975} for df = 1, 4, 10, 30 and the normal limit.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042, 3);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.96, 2);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(-2.776, 4)).toBeCloseTo(0.025, 3);
  });

  it('gives the 95% half-width and a paired test', () => {
    const values = [1, 2, 3, 4, 5];
    expect(standardDeviation(values)).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(confidenceHalfWidth(values)).toBeCloseTo(2.776 * (Math.sqrt(2.5) / Math.sqrt(5)), 2);
    // differences [1, 1, 2, 0]: mean 1, sd sqrt(2/3), t = 1 / (sd / 2) = 2.449, df 3 → p ≈ 0.0917
    const test = pairedTTest([2, 3, 5, 4], [1, 2, 3, 4]);
    expect(test.meanDifference).toBeCloseTo(1, 12);
    expect(test.t).toBeCloseTo(2.4495, 3);
    expect(test.p).toBeCloseTo(0.0917, 3);
  });
});
