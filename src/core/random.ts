import seedrandom from 'seedrandom';

/**
 * A seeded random stream. Every random draw in clicklab comes from one of these; independent
 * streams are derived from a master seed by name (`derive`), never shared between components,
 * so adding a draw in one place does not shift the numbers anywhere else.
 */
export class RandomStream {
  private readonly next: () => number;

  constructor(readonly seed: string) {
    // alea: fast, well tested, and its output does not depend on the platform.
    this.next = seedrandom.alea(seed);
  }

  /** An independent stream for a named purpose, e.g. `rng.derive('clicks')`. */
  derive(...labels: (string | number)[]): RandomStream {
    return new RandomStream(`${this.seed}/${labels.join('/')}`);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal draw (Box–Muller; one value per call keeps the stream easy to reason about). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Fisher–Yates shuffle of `values` in place; returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  /** `k` distinct integers from [0, n), in random order. */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (k > n) throw new RangeError(`cannot sample ${k} distinct values from ${n}`);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const tmp = all[i];
      all[i] = all[j];
      all[j] = tmp;
    }
    return all.slice(0, k);
  }
}

export function randomStream(seed: string | number): RandomStream {
  return new RandomStream(String(seed));
}
