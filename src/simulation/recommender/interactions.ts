import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { ExposureModel } from './exposure.js';
import { checkInteger, type RecommenderWorld } from './world.js';

/**
 * Implicit feedback with exposure bias, columnar: one row per exposed (user, item) pair, rows grouped
 * by user (in the order the users were given), items ascending within a user. click = O · R = R_ui on
 * every row, since only exposed pairs are logged; unexposed pairs are missing, not negative.
 */
export interface InteractionLog {
  readonly user: Int32Array;
  readonly item: Int32Array;
  readonly click: Uint8Array;
}

/** What only the simulator knows, aligned row by row with an InteractionLog. Learners never receive it. */
export interface InteractionTruth {
  /** θ_i: the probability that the row's item was shown to the user. */
  readonly exposureProbability: Float32Array;
  /** P(R_ui = 1) for the row's pair. */
  readonly preferenceProbability: Float32Array;
}

export interface SimulateInteractionsOptions {
  /** Distinct user indices, or a count n meaning users 0..n − 1 (users are exchangeable: their factors are i.i.d.). */
  readonly users: Int32Array | number;
  /** Seeds the exposures; outcomes R_ui are the world's own (see RecommenderWorld). */
  readonly rng: RandomStream;
}

/** Simulates which items each user is shown (O ~ Bernoulli(θ_i)) and logs the clicks Y = O · R on them. */
export function simulateInteractions(world: RecommenderWorld, exposure: ExposureModel, options: SimulateInteractionsOptions): { log: InteractionLog; truth: InteractionTruth } {
  if (exposure.numItems !== world.numItems) {
    throw new ConfigError('interactions.exposure', `expected an exposure model over ${world.numItems} items (the world's), found ${exposure.numItems}`);
  }
  const users = resolveUsers(world, options.users, 'interactions.users');
  const rng = options.rng.derive('exposure');
  const theta = exposure.probability;

  // Capacity for the expected rows plus 8 standard deviations, so one allocation is the usual case.
  const expected = users.length * exposure.expectedExposures;
  let capacity = Math.max(16, Math.ceil(expected + 8 * Math.sqrt(expected)));
  let user = new Int32Array(capacity);
  let item = new Int32Array(capacity);
  let click = new Uint8Array(capacity);
  let exposureProbability = new Float32Array(capacity);
  let preferenceProbability = new Float32Array(capacity);

  const shown = new Int32Array(world.numItems);
  const preference = new Float32Array(world.numItems);
  const relevant = new Uint8Array(world.numItems);
  let rows = 0;
  for (let k = 0; k < users.length; k++) {
    const u = users[k];
    const count = exposure.sample(rng, shown);
    if (rows + count > capacity) {
      capacity = Math.max(2 * capacity, rows + count);
      user = grown(user, capacity);
      item = grown(item, capacity);
      click = grown(click, capacity);
      exposureProbability = grown(exposureProbability, capacity);
      preferenceProbability = grown(preferenceProbability, capacity);
    }
    const items = shown.subarray(0, count);
    world.relevance(u, items, preference.subarray(0, count), relevant.subarray(0, count));
    user.fill(u, rows, rows + count);
    item.set(items, rows);
    click.set(relevant.subarray(0, count), rows);
    preferenceProbability.set(preference.subarray(0, count), rows);
    for (let j = 0; j < count; j++) exposureProbability[rows + j] = theta[items[j]];
    rows += count;
  }
  return {
    log: { user: user.slice(0, rows), item: item.slice(0, rows), click: click.slice(0, rows) },
    truth: { exposureProbability: exposureProbability.slice(0, rows), preferenceProbability: preferenceProbability.slice(0, rows) },
  };
}

/**
 * A test set free of exposure bias, like Coat's and Yahoo! R3's ratings on randomly selected items:
 * for each user, `itemsPerUser` distinct items drawn uniformly at random, with the world's R_ui.
 * Rows grouped by user (users ascending when sampled), items ascending within a user.
 */
export interface UniformTestSet {
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** R_ui: the same outcome the pair has in any interaction log. */
  readonly relevant: Uint8Array;
  /** P(R_ui = 1). */
  readonly preferenceProbability: Float32Array;
}

export interface UniformTestSetOptions {
  /** Distinct user indices, or a count of users drawn uniformly without replacement. */
  readonly usersSample: Int32Array | number;
  readonly itemsPerUser: number;
  readonly rng: RandomStream;
}

export function uniformTestSet(world: RecommenderWorld, options: UniformTestSetOptions): UniformTestSet {
  const { itemsPerUser } = options;
  checkInteger('testSet.itemsPerUser', itemsPerUser, 1, world.numItems);
  let users: Int32Array;
  if (typeof options.usersSample === 'number') {
    checkInteger('testSet.usersSample', options.usersSample, 0, world.numUsers);
    users = distinctSample(options.rng.derive('users'), world.numUsers, options.usersSample, new Uint8Array(world.numUsers)).sort();
  } else {
    users = resolveUsers(world, options.usersSample, 'testSet.usersSample');
  }
  const rng = options.rng.derive('items');
  const rows = users.length * itemsPerUser;
  const user = new Int32Array(rows);
  const item = new Int32Array(rows);
  const relevant = new Uint8Array(rows);
  const preferenceProbability = new Float32Array(rows);
  const marks = new Uint8Array(world.numItems);
  for (let k = 0; k < users.length; k++) {
    const start = k * itemsPerUser;
    const end = start + itemsPerUser;
    const items = item.subarray(start, end);
    items.set(distinctSample(rng, world.numItems, itemsPerUser, marks));
    items.sort();
    user.fill(users[k], start, end);
    world.relevance(users[k], items, preferenceProbability.subarray(start, end), relevant.subarray(start, end));
  }
  return { user, item, relevant, preferenceProbability };
}

/** P(R_ui = 1) of every (user, item) row, for evaluation; rows in any order (runs of one user are batched). */
export function truePreference(world: RecommenderWorld, pairs: { readonly user: Int32Array; readonly item: Int32Array }): Float32Array {
  const { user, item } = pairs;
  if (user.length !== item.length) {
    throw new ConfigError('truePreference.item', `expected one item per user row (${user.length}), found ${item.length}`);
  }
  const out = new Float32Array(user.length);
  for (let start = 0; start < user.length; ) {
    let end = start + 1;
    while (end < user.length && user[end] === user[start]) end++;
    world.preference(user[start], item.subarray(start, end), out.subarray(start, end));
    start = end;
  }
  return out;
}

/** Validates a user list (or expands a count n into 0..n − 1). */
function resolveUsers(world: RecommenderWorld, users: Int32Array | number, path: string): Int32Array {
  if (typeof users === 'number') {
    checkInteger(path, users, 0, world.numUsers);
    return Int32Array.from({ length: users }, (_, u) => u);
  }
  // Each pair has one outcome R_ui, so a user listed twice would be shown items twice: refuse it.
  const seen = new Uint8Array(world.numUsers);
  for (let k = 0; k < users.length; k++) {
    world.checkUser(users[k], `${path}[${k}]`);
    if (seen[users[k]]) throw new ConfigError(`${path}[${k}]`, `expected distinct users, found user ${users[k]} again`);
    seen[users[k]] = 1;
  }
  return users;
}

/**
 * k distinct integers from [0, n), uniformly (Floyd's algorithm: exactly k draws, O(k) work).
 * `marks` (length n, all zero) is reused across calls and left all zero.
 */
function distinctSample(rng: RandomStream, n: number, k: number, marks: Uint8Array): Int32Array {
  const out = new Int32Array(k);
  for (let j = n - k, m = 0; j < n; j++, m++) {
    const t = rng.int(j + 1);
    const pick = marks[t] ? j : t;
    marks[pick] = 1;
    out[m] = pick;
  }
  for (let m = 0; m < k; m++) marks[out[m]] = 0;
  return out;
}

function grown<T extends Int32Array | Uint8Array | Float32Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array);
  return next;
}
