/**
 * FINN.no-layout `data.npz` files for tests (the real file cannot ship): random users' slate
 * histories drawn from a seeded stream, kept as plain arrays (the independent truth the tests
 * compare against) and written with npz-writer as NumPy would (int64 by default, as the real file).
 */
import { randomStream } from '../../src/core/random.js';
import { npzBytes, type NpyInput } from './npz-writer.js';

export interface FinnArrays {
  readonly users: number;
  readonly steps: number;
  readonly slots: number;
  readonly userId: number[];
  readonly click: number[];
  readonly click_idx: number[];
  readonly slate_lengths: number[];
  readonly slate: number[];
  readonly interaction_type: number[];
}

/**
 * `users` users of `steps` steps and `slots` slots over items 3 .. items + 2. Each user has 1..steps
 * interaction steps then padding; slot 0 of each slate is the no-click item 1, the others real items
 * (or now and then the unknown item 2); a step is a no-click (click 1, click_idx 0) with probability
 * 0.3, else a click on a random shown slot ≥ 1 (its item; 2 when that slot is unknown). Items are
 * drawn with a skew (item 3 + ⌊items · r³⌋) so that popularity means something.
 */
export function finnArrays(users: number, options: { steps?: number; slots?: number; items?: number; seed?: string } = {}): FinnArrays {
  const T = options.steps ?? 20;
  const S = options.slots ?? 25;
  const items = options.items ?? 500;
  const rng = randomStream(options.seed ?? 'finn-writer');
  const a = {
    users,
    steps: T,
    slots: S,
    userId: [] as number[],
    click: new Array<number>(users * T).fill(0),
    click_idx: new Array<number>(users * T).fill(0),
    slate_lengths: new Array<number>(users * T).fill(0),
    slate: new Array<number>(users * T * S).fill(0),
    interaction_type: new Array<number>(users * T).fill(0),
  };
  for (let u = 0; u < users; u++) {
    a.userId.push(u * 7 + 3);
    const active = 1 + rng.int(T);
    for (let t = 0; t < active; t++) {
      const k = u * T + t;
      const length = 1 + rng.int(S);
      a.slate_lengths[k] = length;
      a.interaction_type[k] = 1 + rng.int(2);
      a.slate[k * S] = 1;
      for (let s = 1; s < length; s++) a.slate[k * S + s] = rng.uniform() < 0.02 ? 2 : 3 + Math.floor(items * rng.uniform() ** 3);
      if (length === 1 || rng.uniform() < 0.3) {
        a.click[k] = 1;
      } else {
        const idx = 1 + rng.int(length - 1);
        a.click_idx[k] = idx;
        a.click[k] = a.slate[k * S + idx];
      }
    }
  }
  return a;
}

/** The npz bytes of `a` (each array as `descr`, default '<i8'), deflated as np.savez_compressed unless `compress` is false. */
export function finnNpz(a: FinnArrays, options: { descr?: '<i8' | '<i4'; compress?: boolean } = {}): Buffer {
  const descr = options.descr ?? '<i8';
  const array = (values: number[], shape: number[]): NpyInput => ({
    descr,
    shape,
    data: descr === '<i8' ? BigInt64Array.from(values, (v) => BigInt(v)) : Int32Array.from(values),
  });
  const { users: U, steps: T, slots: S } = a;
  return npzBytes(
    {
      userId: array(a.userId, [U]),
      click: array(a.click, [U, T]),
      click_idx: array(a.click_idx, [U, T]),
      slate_lengths: array(a.slate_lengths, [U, T]),
      slate: array(a.slate, [U, T, S]),
      interaction_type: array(a.interaction_type, [U, T]),
    },
    options.compress ?? true,
  );
}
