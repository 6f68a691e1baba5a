import { describe, expect, it } from 'vitest';
import { interleaveLists } from '../../src/policies/interleave.js';

describe('in-slate TS interleave', () => {
  it('walks every list’s first, then every second, …, skipping duplicates (hand example)', () => {
    // L1 = [5, 3, 9], L2 = [5, 7, 3], L3 = [4, 5, 8]: walk 5, 5×, 4, 3, 7, 5×, 9 → [5, 4, 3] for 3 slots.
    const lists = Int32Array.from([5, 3, 9, 5, 7, 3, 4, 5, 8]);
    const used = new Uint8Array(10);
    const slate = new Int32Array(5).fill(-1);
    expect(interleaveLists(lists, 3, 3, 3, slate, 1, used)).toBe(3);
    expect(Array.from(slate)).toEqual([-1, 5, 4, 3, -1]);
    expect(used.every((x) => x === 0)).toBe(true);
    // Five slots: … 3, 7, then 9 (5 and 3 again skipped), then 8.
    const five = new Int32Array(5);
    expect(interleaveLists(lists, 3, 3, 5, five, 0, used)).toBe(5);
    expect(Array.from(five)).toEqual([5, 4, 3, 7, 9]);
  });

  it('places fewer when the lists hold fewer distinct items', () => {
    const used = new Uint8Array(4);
    const slate = new Int32Array(3);
    expect(interleaveLists(Int32Array.from([1, 2, 1, 2]), 2, 2, 3, slate, 0, used)).toBe(2);
    expect(Array.from(slate.subarray(0, 2))).toEqual([1, 2]);
  });
});
