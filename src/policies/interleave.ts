/**
 * The in-slate Thompson sampling interleave (Eide, Leslie & Frigessi): given n ranked lists
 * L_1..L_n (row-major in `lists`, `listLength` each), walk L_1[0], L_2[0], …, L_n[0], L_1[1], …
 * and place each item not yet placed into `slate[offset ..]` until `size` are placed. `used` is a
 * scratch flag per item index, zero on entry and left zero. Returns how many were placed (fewer
 * than `size` only when the lists hold fewer distinct items).
 */
export function interleaveLists(lists: Int32Array, numLists: number, listLength: number, size: number, slate: Int32Array, offset: number, used: Uint8Array): number {
  let filled = 0;
  for (let r = 0; r < listLength && filled < size; r++) {
    for (let s = 0; s < numLists && filled < size; s++) {
      const item = lists[s * listLength + r];
      if (used[item]) continue;
      used[item] = 1;
      slate[offset + filled++] = item;
    }
  }
  for (let k = 0; k < filled; k++) used[slate[offset + k]] = 0;
  return filled;
}
