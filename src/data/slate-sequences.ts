/**
 * Users' slate histories in the layout of FINN.no's `data.npz` (Eide, Leslie & Frigessi 2021):
 * U users × T interaction steps × S slots, row-major, as flat typed arrays. The FINN.no reader
 * yields them in blocks of users (streamed, memory bounded by the block), the GRU slate world
 * simulates them, and the GRU slate model trains on them.
 *
 * Item indices: 0 = padding (no interaction at this step / slot not shown), 1 = "no click"
 * (FINN puts it in slot 0 of every slate), 2 = an item that cannot be identified, ≥ 3 real items.
 */
export interface SlateSequences {
  /** U: users in this block. */
  readonly users: number;
  /** T: interaction steps per user (FINN: 20). */
  readonly steps: number;
  /** S: slots per slate (FINN: 25). */
  readonly slots: number;
  /** [U] the user of each row. */
  readonly userId: Int32Array;
  /** [U·T] the item clicked at each step (0 padding, 1 no click, 2 unknown, ≥ 3 an item). */
  readonly click: Int32Array;
  /** [U·T] the slot of the clicked item in the step's slate (0 for a no-click, which FINN shows in slot 0). */
  readonly clickIdx: Int32Array;
  /** [U·T] how many of the S slots were shown (0 on padding steps). */
  readonly slateLengths: Int32Array;
  /** [U·T·S] the items shown; slots at or beyond the slate's length are 0. */
  readonly slate: Int32Array;
  /** [U·T] 1 search, 2 recommendation, 0 undefined. */
  readonly interactionType: Uint8Array;
}

export const PAD_ITEM = 0;
export const NO_CLICK_ITEM = 1;
export const UNKNOWN_ITEM = 2;
/** The smallest index of a real item. */
export const FIRST_REAL_ITEM = 3;
