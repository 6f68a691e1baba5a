/**
 * Float32 columns as text: the shortest decimal that reads back as the same float32, so that a
 * write and a read give back typed arrays equal byte for byte.
 */

/**
 * @internal The shortest decimal that reads back (through `Math.fround`) as the float32 `v`. Nine
 * significant digits always do; fewer usually do, and whether p digits do is monotone in p (a
 * (p+1)-digit rounding is at least as close as a p-digit one), so a binary search finds the fewest.
 */
export function formatFloat32(v: number): string {
  let lo = 1;
  let hi = 9;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  return String(Number(v.toPrecision(lo)));
}

/**
 * @internal `formatFloat32` with a memo: simulated logs repeat few distinct values (one examination
 * probability per rank, one relevance probability per grade), which then cost one map look-up.
 */
export class Float32Formatter {
  private readonly memo = new Map<number, string>();

  format(v: number): string {
    let s = this.memo.get(v);
    if (s === undefined) {
      s = formatFloat32(v);
      // Bounded: a log of many distinct values must not grow the memo without limit.
      if (this.memo.size >= 1 << 16) this.memo.clear();
      this.memo.set(v, s);
    }
    return s;
  }
}

/** @internal Rows per string handed to the file: bounds the memory of text writing, whatever the chunk size. */
export const TEXT_BLOCK_ROWS = 1 << 16;

/** @internal How a schema writes rows as text (see `LogSchema.text`). */
export interface TextStyle {
  /** CSV; otherwise JSON Lines, each value after its prefix. */
  readonly csv: boolean;
  /** For JSON Lines: `{"session":`, `,"query":`, ... (one per column, in the order of `LogSchema.columns`). */
  readonly prefixes: readonly string[];
  /** Kept across chunks, so that its memo serves the whole file. */
  readonly floats: Float32Formatter;
}
