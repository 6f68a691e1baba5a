/**
 * The FINN.no slate data set (`data.npz`) as a slate log: one row per (user, interaction step,
 * slot) of every slate shown, with the click and where the slate came from.
 *
 * Source: FINN.no (Schibsted), released with Eide, Leslie & Frigessi, "Dynamic Slate Recommendation
 * with Gated Recurrent Units and Thompson Sampling" (2021), in the GitHub repository
 * finn-no/recsys_slates_dataset (its `recsys_slates_dataset` Python package downloads `data.npz`,
 * `ind2val.json` and `itemattr.npz`; a copy is on Hugging Face as simeneide/recsys_slates_dataset).
 * Terms: as stated in that repository (not checked here: read them before redistributing).
 * About 2.28M users (2,277,645 rows), 1.3M items, 37.4M interactions; `data.npz` is 1.27 GB.
 *
 * Arrays of `data.npz` (N users, T = 20 interaction steps, S = 25 slots), integer dtypes:
 *
 *     userId            [N]          the user's id
 *     click             [N, T]       the item clicked at each step; 0 = no interaction (padding),
 *                                    1 = no click on the slate, 2 = an item that cannot be identified
 *     click_idx         [N, T]       the slot of the clicked item in the slate
 *     slate_lengths     [N, T]       how many of the S slots were shown
 *     slate             [N, T, S]    the items shown; 0 = pad, 1 = no-click, 2 = unknown, ≥ 3 real items
 *     interaction_type  [N, T]       1 search, 2 recommendation, 0 undefined
 *
 * The log has a row for each slot s < slate_lengths[u, t] of each step whose click is not 0; a
 * step with click 0 (no interaction) has no rows. A row's click is 1 when its item is the step's
 * clicked item and that item is real (≥ 3); the first slot holding it takes the click. Steps whose
 * click is 1 (no click) or 2 (unknown item) have no clicked row; a real clicked item that is not
 * in the shown slate is counted in `clickCounts.notInSlate` (the data has such steps) and gives no
 * clicked row either. Malformed input (a missing array, shapes that disagree, a length outside
 * [1, S] on a step with an interaction, a pad item inside the shown slots, an unknown interaction type) is a DataFormatError
 * naming the file, the array and the user row and step: the checks are `finnSequenceBlocks`'s
 * (finn-sequences.ts), which this reader consumes.
 *
 * The full slate array is N·T·S ≈ 1.1 billion items: the file is streamed in blocks of users, so
 * memory is the slate log built plus one block; pass `users` to read a prefix of the users (only
 * that prefix of each array is inflated). Models that train on the histories should stream
 * `finnSequenceBlocks` themselves instead of building this log.
 */
import { table as makeTable, type ColumnTable } from 'arquero';
import type { Progress } from '../core/progress.js';
import type { ClickLog } from '../core/types.js';
import { finnSequenceBlocks } from './finn-sequences.js';
import { grown, trimmed } from './log-schema.js';

/**
 * Slates of a recommender log, columnar: slate k occupies rows `slateOffsets[k] .. slateOffsets[k + 1] − 1`
 * in slot order, like a `ClickLog` session (and `slateLogToClickLog` makes it one).
 */
export interface SlateLog {
  /** Length numSlates + 1. */
  readonly slateOffsets: Int32Array;
  /** The user of each slate. */
  readonly slateUser: Int32Array;
  /** The interaction step (0-based) of each slate within its user's history. */
  readonly slateStep: Uint16Array;
  /** Where each slate came from (FINN: 1 search, 2 recommendation, 0 undefined). */
  readonly slateInteractionType: Uint8Array;
  /** The item in each slot. */
  readonly item: Int32Array;
  /** 0-based slot of each row. */
  readonly position: Uint16Array;
  /** 1 if the slot was clicked. */
  readonly click: Uint8Array;
}

export interface FinnClickCounts {
  /** Steps with an interaction (click ≠ 0): the slates of the log. */
  readonly steps: number;
  /** Steps whose click is a real item shown in the slate. */
  readonly clicked: number;
  /** Steps whose click is 1: the user clicked none of the slate. */
  readonly noClick: number;
  /** Steps whose click is 2: an item that cannot be identified. */
  readonly unknownItem: number;
  /** Steps whose click is a real item that is not among the shown slots. */
  readonly notInSlate: number;
}

export interface FinnSlates {
  readonly slates: SlateLog;
  readonly clickCounts: FinnClickCounts;
}

export interface FinnReadOptions {
  /** Read only the first `users` users (default all). */
  readonly users?: number;
  /** Reports the users read (default silent). */
  readonly progress?: Progress;
}

/** Reads FINN.no's `data.npz` (see the top of this file) into a slate log, streaming it in blocks of users (`finnSequenceBlocks`, which validates them). */
export async function readFinnSlates(path: string, options: FinnReadOptions = {}): Promise<FinnSlates> {
  let capacity = 1 << 16;
  let item = new Int32Array(capacity);
  let position = new Uint16Array(capacity);
  let clicked = new Uint8Array(capacity);
  const slateOffsets: number[] = [0];
  const slateUser: number[] = [];
  const slateStep: number[] = [];
  const slateType: number[] = [];
  let rows = 0;
  const counts = { steps: 0, clicked: 0, noClick: 0, unknownItem: 0, notInSlate: 0 };
  for await (const block of finnSequenceBlocks(path, { users: options.users, progress: options.progress })) {
    const { users, steps: T, slots: S, userId, click, slateLengths, slate, interactionType } = block;
    for (let u = 0; u < users; u++) {
      for (let t = 0; t < T; t++) {
        const k = u * T + t;
        const c = click[k];
        if (c === 0) continue;
        const length = slateLengths[k];
        while (rows + length > capacity) {
          capacity *= 2;
          item = grown(item, capacity);
          position = grown(position, capacity);
          clicked = grown(clicked, capacity);
        }
        let found = false;
        for (let s = 0; s < length; s++) {
          const v = slate[k * S + s];
          item[rows + s] = v;
          position[rows + s] = s;
          // Only a real item (≥ 3) is a click on a slot; the first slot holding it takes it.
          const hit = !found && c >= 3 && v === c;
          clicked[rows + s] = hit ? 1 : 0;
          if (hit) found = true;
        }
        rows += length;
        counts.steps++;
        if (c === 1) counts.noClick++;
        else if (c === 2) counts.unknownItem++;
        else if (found) counts.clicked++;
        else counts.notInSlate++;
        slateOffsets.push(rows);
        slateUser.push(userId[u]);
        slateStep.push(t);
        slateType.push(interactionType[k]);
      }
    }
  }
  return {
    slates: {
      slateOffsets: Int32Array.from(slateOffsets),
      slateUser: Int32Array.from(slateUser),
      slateStep: Uint16Array.from(slateStep),
      slateInteractionType: Uint8Array.from(slateType),
      item: trimmed(item, rows),
      position: trimmed(position, rows),
      click: trimmed(clicked, rows),
    },
    clickCounts: counts,
  };
}

/** Column names of a slate log table. */
export const SLATE_LOG_COLUMNS = {
  slate: 'slate',
  user: 'user_id',
  step: 'step',
  interactionType: 'interaction_type',
  item: 'item_id',
  position: 'position',
  click: 'click',
} as const;

/**
 * The slate log as an arquero table, one row per slot: `slate` (0, 1, 2, ...), `user_id`, `step`,
 * `interaction_type`, `item_id`, `position` (1-based, as in click-log tables) and `click`.
 */
export function slateLogToTable(slates: SlateLog): ColumnTable {
  const rows = slates.item.length;
  const slate = new Int32Array(rows);
  const user = new Int32Array(rows);
  const step = new Uint16Array(rows);
  const type = new Uint8Array(rows);
  const position = new Int32Array(rows);
  for (let k = 0; k < slates.slateUser.length; k++) {
    const start = slates.slateOffsets[k];
    const end = slates.slateOffsets[k + 1];
    slate.fill(k, start, end);
    user.fill(slates.slateUser[k], start, end);
    step.fill(slates.slateStep[k], start, end);
    type.fill(slates.slateInteractionType[k], start, end);
  }
  for (let i = 0; i < rows; i++) position[i] = slates.position[i] + 1;
  const C = SLATE_LOG_COLUMNS;
  return makeTable({
    [C.slate]: slate,
    [C.user]: user,
    [C.step]: step,
    [C.interactionType]: type,
    [C.item]: slates.item,
    [C.position]: position,
    [C.click]: slates.click,
  });
}

/**
 * The slate log as a clicklab `ClickLog`: each slate is a session whose "query" is its user (the
 * context a recommender ranks for), so the learners and click-model fitting take it as they take a
 * search log. Steps and interaction types stay in the slate log.
 */
export function slateLogToClickLog(slates: SlateLog): ClickLog {
  return {
    sessionQuery: slates.slateUser,
    sessionOffsets: slates.slateOffsets,
    document: slates.item,
    position: slates.position,
    click: slates.click,
  };
}
