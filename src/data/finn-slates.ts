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
 * naming the file, the array and the user row and step.
 *
 * The full slate array is N·T·S ≈ 1.1 billion items: pass `users` to read a prefix of the users
 * (only that prefix of each array is inflated).
 */
import { table as makeTable, type ColumnTable } from 'arquero';
import { DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { ClickLog } from '../core/types.js';
import { grown, trimmed } from './log-schema.js';
import { NpzArchive, type NpyArray } from './npz.js';

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
  /** Reports the arrays inflated, then the users converted (default silent). */
  readonly progress?: Progress;
}

const ARRAYS = ['userId', 'click', 'click_idx', 'slate_lengths', 'slate', 'interaction_type'] as const;

/** Values of an integer array as plain numbers; anything else is an error naming the array. */
function integers(array: NpyArray, file: string, name: string): ArrayLike<number> {
  const { data, dtype } = array;
  if (dtype === '<f4' || dtype === '<f8' || dtype === '|b1') {
    throw new DataFormatError(file, null, `expected an integer array '${name}', found dtype ${dtype}`);
  }
  if (data instanceof BigInt64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]);
      if (!Number.isSafeInteger(v)) throw new DataFormatError(file, null, `expected '${name}' values within ±(2^53 − 1), found ${data[i]} at flat index ${i}`);
      out[i] = v;
    }
    return out;
  }
  return data as ArrayLike<number>;
}

/** Reads FINN.no's `data.npz` (see the top of this file) into a slate log. */
export async function readFinnSlates(path: string, options: FinnReadOptions = {}): Promise<FinnSlates> {
  const progress = options.progress ?? silentProgress;
  const archive = await NpzArchive.open(path);
  const arrays = new Map<string, NpyArray>();
  progress.start(`inflating the arrays of ${path}`, ARRAYS.length);
  try {
    for (const name of ARRAYS) {
      arrays.set(name, await archive.readArray(name, { rows: options.users }));
      progress.update(arrays.size, name);
    }
  } finally {
    await archive.close();
  }
  progress.finish();
  const get = (name: (typeof ARRAYS)[number]): NpyArray => arrays.get(name)!;
  const shapeText = (a: NpyArray): string => `(${a.shape.join(', ')})`;
  const userShape = get('userId').shape;
  if (userShape.length !== 1) throw new DataFormatError(path, null, `expected 'userId' of shape (N,), found ${shapeText(get('userId'))}`);
  const n = userShape[0];
  const slateArray = get('slate');
  if (slateArray.shape.length !== 3 || slateArray.shape[0] !== n) {
    throw new DataFormatError(path, null, `expected 'slate' of shape (${n}, T, S) (N from 'userId'), found ${shapeText(slateArray)}`);
  }
  const [, T, S] = slateArray.shape;
  for (const name of ['click', 'click_idx', 'slate_lengths', 'interaction_type'] as const) {
    const a = get(name);
    if (a.shape.length !== 2 || a.shape[0] !== n || a.shape[1] !== T) {
      throw new DataFormatError(path, null, `expected '${name}' of shape (${n}, ${T}) (as 'slate'), found ${shapeText(a)}`);
    }
  }
  const userId = integers(get('userId'), path, 'userId');
  const click = integers(get('click'), path, 'click');
  const lengths = integers(get('slate_lengths'), path, 'slate_lengths');
  const slate = integers(slateArray, path, 'slate');
  const interaction = integers(get('interaction_type'), path, 'interaction_type');
  integers(get('click_idx'), path, 'click_idx'); // checked for type; the click is placed by item (see the top)

  const fail = (u: number, t: number, array: string, problem: string): never => {
    throw new DataFormatError(path, null, `row ${u + 1} (userId ${userId[u]}), step ${t}, array '${array}': ${problem}`);
  };
  let capacity = Math.max(1024, n * 4);
  let item = new Int32Array(capacity);
  let position = new Uint16Array(capacity);
  let clicked = new Uint8Array(capacity);
  const slateOffsets: number[] = [0];
  const slateUser: number[] = [];
  const slateStep: number[] = [];
  const slateType: number[] = [];
  let rows = 0;
  const counts = { steps: 0, clicked: 0, noClick: 0, unknownItem: 0, notInSlate: 0 };
  progress.start('building the slate log', n);
  for (let u = 0; u < n; u++) {
    if ((u & 0x3fff) === 0) progress.update(u);
    const user = userId[u];
    if (!(user >= 0 && user <= 0x7fffffff)) fail(u, 0, 'userId', `expected a user id in [0, 2^31 − 1], found ${user}`);
    for (let t = 0; t < T; t++) {
      const k = u * T + t;
      const c = click[k];
      if (!(c >= 0 && c <= 0x7fffffff)) fail(u, t, 'click', `expected an item index ≥ 0, found ${c}`);
      if (c === 0) continue;
      const length = lengths[k];
      if (!(length >= 1 && length <= S)) fail(u, t, 'slate_lengths', `expected a length in [1, ${S}] for a step with an interaction, found ${length}`);
      const type = interaction[k];
      if (type !== 0 && type !== 1 && type !== 2) fail(u, t, 'interaction_type', `expected 0 (undefined), 1 (search) or 2 (recommendation), found ${type}`);
      while (rows + length > capacity) {
        capacity *= 2;
        item = grown(item, capacity);
        position = grown(position, capacity);
        clicked = grown(clicked, capacity);
      }
      let found = false;
      for (let s = 0; s < length; s++) {
        const v = slate[k * S + s];
        if (!(v >= 1 && v <= 0x7fffffff)) fail(u, t, 'slate', `expected an item index ≥ 1 in shown slot ${s} (slate_lengths is ${length}; 0 is padding), found ${v}`);
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
      slateUser.push(user);
      slateStep.push(t);
      slateType.push(type);
    }
  }
  progress.finish();
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
