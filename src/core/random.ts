import seedrandom from 'seedrandom';

/**
 * A seeded random stream. Every random draw in clicklab comes from one of these; independent
 * streams are derived from a master seed by name (`derive`), never shared between components,
 * so adding a draw in one place does not shift the numbers anywhere else.
 *
 * The generator is sfc32 (Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, passes
 * PractRand): a handful of 32-bit integer operations per draw, which V8 inlines into hot loops
 * (simulation draws hundreds of millions of numbers). Its state is seeded from the seed string by
 * seedrandom's alea, which hashes strings well, then warmed up. Uniforms have 32-bit resolution.
 */
export class RandomStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: string) {
    const init = seedrandom.alea(seed);
    this.a = (init() * 4294967296) | 0;
    this.b = (init() * 4294967296) | 0;
    this.c = (init() * 4294967296) | 0;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** An independent stream for a named purpose, e.g. `rng.derive('clicks')`. */
  derive(...labels: (string | number)[]): RandomStream {
    return new RandomStream(`${this.seed}/${labels.join('/')}`);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /**
   * The 128-bit state (a, b, c, d as int32), for a hot loop that steps sfc32 in local variables,
   * exactly as `nextUint32` does, and hands the state back with `setState`: V8 keeps locals in
   * registers but loads and stores an object's fields at every draw (see pbm-sessions.ts).
   */
  getState(): Int32Array {
    return Int32Array.of(this.a, this.b, this.c, this.d);
  }

  setState(state: Int32Array): void {
    if (state.length !== 4) throw new RangeError(`an sfc32 state is 4 int32 values, found ${state.length}`);
    [this.a, this.b, this.c, this.d] = state;
  }

  /** Uniform in [0, 1), in steps of 2^−32. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) for n ≤ 2^32 (the bias of the multiply is below 2^−32 · n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal draw (Box–Muller; one value per call keeps the stream easy to reason about). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Fisher–Yates shuffle of `values[start .. start + length − 1]` (default: all of it) in place; returns `values`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(values: T, start = 0, length = values.length - start): T {
    for (let i = length - 1; i > 0; i--) {
      const j = start + this.int(i + 1);
      const tmp = values[start + i];
      values[start + i] = values[j];
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
