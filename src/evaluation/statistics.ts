/** Summary statistics and Student-t inference for comparing methods over seeds and queries. */

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length > 0 ? sum / values.length : Number.NaN;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
export function standardDeviation(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return 0;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - m) * (values[i] - m);
  return Math.sqrt(ss / (n - 1));
}

/** Half-width of the two-sided t confidence interval for the mean (0 for fewer than 2 values). */
export function confidenceHalfWidth(values: ArrayLike<number>, level = 0.95): number {
  const n = values.length;
  if (n < 2) return 0;
  return studentTQuantile(1 - (1 - level) / 2, n - 1) * (standardDeviation(values) / Math.sqrt(n));
}

/**
 * "mean ± half-width" of the 95% t interval, with `digits` decimals; only the mean where there are
 * fewer than 2 values (no interval, rather than "± 0"), and "n/a" where the mean is not a number
 * (no values, or a metric with nothing to average).
 */
export function formatMeanInterval(meanValue: number, halfWidth: number, n: number, digits: number): string {
  if (!Number.isFinite(meanValue)) return 'n/a';
  return n < 2 ? meanValue.toFixed(digits) : `${meanValue.toFixed(digits)} ± ${halfWidth.toFixed(digits)}`;
}

export interface PairedTest {
  /** Mean of a − b. */
  readonly meanDifference: number;
  readonly t: number;
  /** Two-sided p-value. */
  readonly p: number;
  readonly n: number;
}

/** Paired two-sided t-test of a against b (e.g. per-query nDCG of a method against the naive one). */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTest {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  const d = Float64Array.from({ length: a.length }, (_, i) => a[i] - b[i]);
  const n = d.length;
  const md = mean(d);
  const sd = standardDeviation(d);
  if (n < 2 || sd === 0) return { meanDifference: md, t: md === 0 ? 0 : Math.sign(md) * Infinity, p: md === 0 ? 1 : 0, n };
  const t = md / (sd / Math.sqrt(n));
  return { meanDifference: md, t, p: 2 * (1 - studentTCdf(Math.abs(t), n - 1)), n };
}

/** CDF of Student's t with `df` degrees of freedom, through the regularised incomplete beta function. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t by bisection on the CDF (accurate to 1e-10). */
export function studentTQuantile(p: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** I_x(a, b) by Lentz's continued fraction (Numerical Recipes §6.4). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedIncompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return (front * f) / a;
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9). */
export function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0];
  const t = xx + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}
