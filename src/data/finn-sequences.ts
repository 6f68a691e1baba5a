/**
 * FINN.no's `data.npz` streamed as blocks of users' slate histories (`SlateSequences`), with memory
 * bounded by one block whatever the file's size (the real file: 2,277,645 users, a `slate` array
 * of 1.1 billion int64 values, 1.27 GB deflated). The arrays and what their values mean are
 * described in `finn-slates.ts` and `slate-sequences.ts`.
 *
 *     finnSequenceBlocks(path, { blockUsers?, users?, progress? }): AsyncGenerator<FinnSequenceBlock>
 *     readFinnItemCategories(path): Promise<Int32Array>          // itemattr.npz: item → category
 *
 * Usage (a model trained on blocks; see `finn-split.ts` for the train / validation / test views):
 *
 *     for await (const block of finnSequenceBlocks('data.npz', { blockUsers: 10_000 })) {
 *       // block.users rows; block.click[u * block.steps + t]; block.slate[(u * block.steps + t) * block.slots + s]
 *       model.trainOn(block);
 *     }
 *
 * The six arrays are inflated in lockstep, one streaming inflater each (`NpzArchive.rowBlocks`),
 * so a block costs its own typed arrays (about 2.1 kB a user at T = 20, S = 25) plus six inflaters.
 * Values are converted to 32-bit integers; an int64 value outside [−2^31, 2^31 − 1] is an error.
 *
 * Validation (every block, so every reader of the file gets the same checks), each failure a
 * DataFormatError naming the file, the array, the user row (1-based, with its userId) and the step:
 * shapes agree ([N], [N, T] ×4, [N, T, S]); integer dtypes; userId ≥ 0; click ≥ 0;
 * interaction_type ∈ {0, 1, 2}; and on each step with an interaction (click ≠ 0):
 * 1 ≤ slate_lengths ≤ S, 0 ≤ click_idx < slate_lengths, the shown slots hold items ≥ 1 and the
 * slots beyond the length hold 0 (padding). Steps without an interaction are not inspected further
 * (FINN pads them with zeros).
 */
import { DataFormatError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { NpzArchive, type NpyDtype, type NpyInfo, type NpyRowBlock } from './npz.js';
import type { SlateSequences } from './slate-sequences.js';

/** A block of users of `data.npz`: rows `firstRow .. firstRow + users − 1` of the file. */
export interface FinnSequenceBlock extends SlateSequences {
  /** The file row (0-based) of this block's first user. */
  readonly firstRow: number;
  /** How many users the whole read covers (all of the file, or `users`). */
  readonly totalUsers: number;
}

export interface FinnBlockOptions {
  /** Users per block (default 10,000: about 21 MB of typed arrays). */
  readonly blockUsers?: number;
  /** Read only the first `users` users (default all). */
  readonly users?: number;
  /** Reports users read (default silent). */
  readonly progress?: Progress;
}

/** The arrays of `data.npz`, in the order they are checked. */
export const FINN_ARRAYS = ['userId', 'click', 'click_idx', 'slate_lengths', 'slate', 'interaction_type'] as const;
type FinnArray = (typeof FINN_ARRAYS)[number];

const INTEGER_DTYPES: ReadonlySet<NpyDtype> = new Set(['<i8', '<i4', '<i2', '|i1', '<u4', '<u2', '|u1']);

/**
 * A block of an integer array as Int32Array. int64 values are checked through their two 32-bit
 * halves (a value fits when its high half is the sign extension of its low half), which avoids a
 * BigInt per value on a billion-value array.
 */
function toInt32(block: NpyRowBlock, file: string, name: string): Int32Array {
  const { data, dtype } = block;
  const perRow = block.shape.slice(1).reduce((a, b) => a * b, 1);
  const outOfRange = (i: number, value: bigint | number): never => {
    throw new DataFormatError(file, null, `row ${block.firstRow + Math.floor(i / perRow) + 1}, array '${name}': expected values within [−2^31, 2^31 − 1], found ${value}`);
  };
  if (dtype === '<i4') return data as Int32Array;
  if (data instanceof BigInt64Array) {
    const halves = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const low = halves[2 * i];
      if (halves[2 * i + 1] !== low >> 31) outOfRange(i, data[i]);
      out[i] = low;
    }
    return out;
  }
  if (data instanceof Uint32Array) {
    for (let i = 0; i < data.length; i++) if (data[i] > 0x7fffffff) outOfRange(i, data[i]);
  }
  return Int32Array.from(data as ArrayLike<number>);
}

/** Streams `data.npz` as blocks of users (see the top of this file). */
export async function* finnSequenceBlocks(path: string, options: FinnBlockOptions = {}): AsyncGenerator<FinnSequenceBlock, void, undefined> {
  const blockUsers = options.blockUsers ?? 10_000;
  if (!Number.isInteger(blockUsers) || blockUsers < 1) throw new RangeError(`finnSequenceBlocks: expected blockUsers to be a positive integer, found ${blockUsers}`);
  const progress = options.progress ?? silentProgress;
  const archive = await NpzArchive.open(path);
  const iterators: AsyncGenerator<NpyRowBlock, void, undefined>[] = [];
  try {
    const info = new Map<FinnArray, NpyInfo>();
    for (const name of FINN_ARRAYS) {
      const i = await archive.arrayInfo(name);
      if (!INTEGER_DTYPES.has(i.dtype)) throw new DataFormatError(path, null, `expected an integer array '${name}', found dtype ${i.dtype}`);
      info.set(name, i);
    }
    const get = (name: FinnArray): NpyInfo => info.get(name)!;
    const shapeText = (a: NpyInfo): string => `(${a.shape.join(', ')})`;
    if (get('userId').shape.length !== 1) throw new DataFormatError(path, null, `expected 'userId' of shape (N,), found ${shapeText(get('userId'))}`);
    const n = get('userId').shape[0];
    const slateInfo = get('slate');
    if (slateInfo.shape.length !== 3 || slateInfo.shape[0] !== n) {
      throw new DataFormatError(path, null, `expected 'slate' of shape (${n}, T, S) (N from 'userId'), found ${shapeText(slateInfo)}`);
    }
    const [, T, S] = slateInfo.shape;
    for (const name of ['click', 'click_idx', 'slate_lengths', 'interaction_type'] as const) {
      const a = get(name);
      if (a.shape.length !== 2 || a.shape[0] !== n || a.shape[1] !== T) {
        throw new DataFormatError(path, null, `expected '${name}' of shape (${n}, ${T}) (as 'slate'), found ${shapeText(a)}`);
      }
    }
    const total = options.users === undefined ? n : Math.min(n, Math.max(0, Math.floor(options.users)));
    for (const name of FINN_ARRAYS) iterators.push(archive.rowBlocks(name, blockUsers, { rows: total }));
    progress.start(`reading the users of ${path}`, total);
    for (let first = 0; first < total; first += blockUsers) {
      // The six inflaters run side by side (zlib works on the thread pool).
      const results = await Promise.all(iterators.map((it) => it.next()));
      const arrays = results.map((r, k) => {
        if (r.done) throw new DataFormatError(path, null, `expected rows from ${first + 1} of '${FINN_ARRAYS[k]}', found its end`);
        return toInt32(r.value, path, FINN_ARRAYS[k]);
      });
      const users = Math.min(blockUsers, total - first);
      const [userId, click, clickIdx, slateLengths, slate, type] = arrays;
      const block = { users, steps: T, slots: S, userId, click, clickIdx, slateLengths, slate, firstRow: first, totalUsers: total };
      validateBlock(path, block, type);
      yield { ...block, interactionType: Uint8Array.from(type) };
      progress.update(first + users);
    }
    // Drain the iterators so that, when the whole file was read, each checks its CRC-32.
    for (const it of iterators) await it.next();
    progress.finish();
  } finally {
    for (const it of iterators) await it.return(undefined);
    await archive.close();
  }
}

/** The checks listed at the top of this file, on a block before its interaction types become bytes. */
function validateBlock(path: string, b: Omit<FinnSequenceBlock, 'interactionType'>, interactionType: Int32Array): void {
  const { users, steps: T, slots: S, userId, click, clickIdx, slateLengths, slate } = b;
  const fail = (u: number, t: number, array: string, problem: string): never => {
    throw new DataFormatError(path, null, `row ${b.firstRow + u + 1} (userId ${userId[u]}), step ${t}, array '${array}': ${problem}`);
  };
  for (let u = 0; u < users; u++) {
    if (userId[u] < 0) fail(u, 0, 'userId', `expected a user id in [0, 2^31 − 1], found ${userId[u]}`);
    for (let t = 0; t < T; t++) {
      const k = u * T + t;
      const c = click[k];
      const type = interactionType[k];
      if (type !== 0 && type !== 1 && type !== 2) fail(u, t, 'interaction_type', `expected 0 (undefined), 1 (search) or 2 (recommendation), found ${type}`);
      if (c < 0) fail(u, t, 'click', `expected an item index ≥ 0, found ${c}`);
      if (c === 0) continue;
      const length = slateLengths[k];
      if (!(length >= 1 && length <= S)) fail(u, t, 'slate_lengths', `expected a length in [1, ${S}] for a step with an interaction, found ${length}`);
      const idx = clickIdx[k];
      if (!(idx >= 0 && idx < length)) fail(u, t, 'click_idx', `expected a slot in [0, ${length - 1}] (slate_lengths is ${length}), found ${idx}`);
      const base = k * S;
      for (let s = 0; s < length; s++) {
        const v = slate[base + s];
        if (v < 1) fail(u, t, 'slate', `expected an item index ≥ 1 in shown slot ${s} (slate_lengths is ${length}; 0 is padding), found ${v}`);
      }
      for (let s = length; s < S; s++) {
        if (slate[base + s] !== 0) fail(u, t, 'slate', `expected padding (0) in slot ${s} beyond slate_lengths ${length}, found ${slate[base + s]}`);
      }
    }
  }
}

/**
 * FINN.no's `itemattr.npz`: `category` [I], the category (group) of each item index, as
 * Int32Array (index i is item i, so 0–2 are the special indices). Categories are named in
 * `ind2val.json` (`category`), not read here.
 */
export async function readFinnItemCategories(path: string): Promise<Int32Array> {
  const archive = await NpzArchive.open(path);
  try {
    const { dtype, shape } = await archive.arrayInfo('category');
    if (!INTEGER_DTYPES.has(dtype)) throw new DataFormatError(path, null, `expected an integer array 'category', found dtype ${dtype}`);
    if (shape.length !== 1) throw new DataFormatError(path, null, `expected 'category' of shape (I,) (one per item), found (${shape.join(', ')})`);
    const out = new Int32Array(shape[0]);
    for await (const block of archive.rowBlocks('category', 1 << 20)) out.set(toInt32(block, path, 'category'), block.firstRow);
    for (let i = 0; i < out.length; i++) {
      if (out[i] < 0) throw new DataFormatError(path, null, `row ${i + 1}, array 'category': expected a category index ≥ 0, found ${out[i]}`);
    }
    return out;
  } finally {
    await archive.close();
  }
}
