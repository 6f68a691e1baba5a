import { ConfigError } from '../../core/errors.js';
import { randomStream, type RandomStream } from '../../core/random.js';
import type { SlatePolicy } from '../slate-policy.js';

/**
 * What a policy expects in `update`'s `observed` mask:
 * - `position`: every displayed position is feedback (position-based and semi-bandit policies);
 * - `cascade`: positions down to and including the first click (all K when nothing was clicked),
 *   which is what a cascade model lets a learner infer; build it with {@link cascadeObserved}.
 */
export type { FeedbackSemantics } from '../slate-policy.js';

/** `observed[k] = 1` for k ≤ first clicked position (every position when there is no click); returns `observed`. */
export function cascadeObserved(clicks: Uint8Array, observed: Uint8Array, slateSize = clicks.length): Uint8Array {
  let open = 1;
  for (let k = 0; k < slateSize; k++) {
    observed[k] = open;
    if (clicks[k]) open = 0;
  }
  return observed;
}

/** `observed[k] = 1` for every position; returns `observed`. */
export function allObserved(observed: Uint8Array, slateSize = observed.length): Uint8Array {
  observed.fill(1, 0, slateSize);
  return observed;
}

/** Validates the two sizes every policy has: integers, 1 ≤ slateSize ≤ numItems. */
export function checkSizes(numItems: number, slateSize: number, path = ''): void {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (!Number.isInteger(numItems) || numItems < 1) throw new ConfigError(at('numItems'), `expected an integer ≥ 1, found ${String(numItems)}`);
  if (!Number.isInteger(slateSize) || slateSize < 1 || slateSize > numItems) {
    throw new ConfigError(at('slateSize'), `expected an integer in [1, ${numItems}] (numItems), found ${String(slateSize)}`);
  }
}

/**
 * A per-item parameter given as one number for all items or one number per item, checked with
 * `valid`; returns a fresh Float64Array of length `numItems`.
 */
export function perItem(value: number | ArrayLike<number>, numItems: number, path: string, expected: string, valid: (v: number) => boolean): Float64Array {
  const out = new Float64Array(numItems);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !valid(value)) throw new ConfigError(path, `expected ${expected} or an array of ${numItems} of them, found ${String(value)}`);
    out.fill(value);
    return out;
  }
  if (value.length !== numItems) throw new ConfigError(path, `expected ${numItems} values (one per item), found ${value.length}`);
  for (let i = 0; i < numItems; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || !valid(v)) throw new ConfigError(`${path}[${i}]`, `expected ${expected}, found ${String(v)}`);
    out[i] = v;
  }
  return out;
}

/** Position weights κ_1..κ_K, each in (0, 1]; extra entries beyond K are ignored. */
export function positionWeightsFor(value: ArrayLike<number>, slateSize: number, path: string): Float64Array {
  if (value.length < slateSize) throw new ConfigError(path, `expected at least ${slateSize} position weights (one per slate position), found ${value.length}`);
  const out = new Float64Array(slateSize);
  for (let k = 0; k < slateSize; k++) {
    const v = value[k];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new ConfigError(`${path}[${k}]`, `expected an examination probability in (0, 1], found ${String(v)}`);
    out[k] = v;
  }
  return out;
}

/** Positions 0..K−1 ordered by κ descending (ties keep the earlier position first). */
export function positionsByWeight(kappa: Float64Array): Int32Array {
  const order = Int32Array.from({ length: kappa.length }, (_, k) => k);
  order.sort((a, b) => kappa[b] - kappa[a] || a - b);
  return order;
}

/** Below this slate size the top-K selection keeps a sorted insertion buffer; above it, a binary heap. */
const INSERTION_LIMIT = 24;

/**
 * The `k` items with the largest `scores[0..n−1]`, best first, into `out[0..k−1]`, in O(n·k) for
 * small k (sorted insertion buffer) or O(n log k) (binary heap), with no allocation. Ties go to the
 * lower item index, so the result is a deterministic function of the scores. `scratch` needs room
 * for `k` numbers.
 */
export function selectTopK(scores: Float64Array, n: number, k: number, out: Int32Array, scratch: Float64Array): void {
  if (k <= INSERTION_LIMIT) {
    let filled = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      let j: number;
      if (filled < k) {
        j = filled++;
      } else if (s > scratch[k - 1]) {
        j = k - 1;
      } else {
        continue;
      }
      // Shift strictly worse entries down: an equal score keeps the earlier (lower) index ahead.
      while (j > 0 && scratch[j - 1] < s) {
        scratch[j] = scratch[j - 1];
        out[j] = out[j - 1];
        j--;
      }
      scratch[j] = s;
      out[j] = i;
    }
    return;
  }
  // Min-heap on (score, −index): the root is the worst of the kept items.
  let size = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (size < k) {
      let j = size++;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (!worse(s, i, scratch[parent], out[parent])) break;
        scratch[j] = scratch[parent];
        out[j] = out[parent];
        j = parent;
      }
      scratch[j] = s;
      out[j] = i;
    } else if (worse(scratch[0], out[0], s, i)) {
      siftDown(scratch, out, size, s, i);
    }
  }
  // Heap sort: move the worst to the end repeatedly, leaving the best first.
  for (let end = size - 1; end > 0; end--) {
    const s = scratch[end];
    const i = out[end];
    scratch[end] = scratch[0];
    out[end] = out[0];
    siftDown(scratch, out, end, s, i);
  }
}

function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/** Puts (s, i) at the root of the heap of `size` entries and sifts it down. */
function siftDown(scores: Float64Array, items: Int32Array, size: number, s: number, i: number): void {
  let j = 0;
  for (;;) {
    const left = 2 * j + 1;
    if (left >= size) break;
    let child = left;
    const right = left + 1;
    if (right < size && worse(scores[right], items[right], scores[left], items[left])) child = right;
    if (!worse(scores[child], items[child], s, i)) break;
    scores[j] = scores[child];
    items[j] = items[child];
    j = child;
  }
  scores[j] = s;
  items[j] = i;
}

/** Checks the arguments of `positionPropensities` and zeroes the `numItems × K` block of `out`. */
export function preparePropensities(numItems: number, slateSize: number, draws: number, out: Float64Array, needsDraws: boolean): void {
  if (needsDraws && (!Number.isInteger(draws) || draws < 1)) throw new RangeError(`positionPropensities: draws must be an integer ≥ 1, found ${draws}`);
  if (out.length < numItems * slateSize) {
    throw new RangeError(`positionPropensities: out needs numItems × slateSize = ${numItems * slateSize} entries, found ${out.length}`);
  }
  out.fill(0, 0, numItems * slateSize);
}

/**
 * P(item i at position k) ≈ the frequency over `draws` runs of the policy's own `choose` with `rng`
 * (`choose` never changes what a policy has learned, so this leaves its state alone). `slate` is
 * scratch space of length K that the policy does not use for anything else.
 */
export function monteCarloPropensities(policy: SlatePolicy, rng: RandomStream, draws: number, out: Float64Array, slate: Int32Array, context?: number): void {
  const { numItems, slateSize: K } = policy;
  preparePropensities(numItems, K, draws, out, true);
  for (let d = 0; d < draws; d++) {
    policy.choose(rng, slate, context);
    for (let k = 0; k < K; k++) out[slate[k] * K + k] += 1;
  }
  const scale = 1 / draws;
  for (let j = 0; j < numItems * K; j++) out[j] *= scale;
}

/** Propensities of a deterministic slate: 1 where the slate puts each item, 0 elsewhere. */
export function deterministicPropensities(slate: Int32Array, numItems: number, out: Float64Array): void {
  const K = slate.length;
  preparePropensities(numItems, K, 1, out, false);
  for (let k = 0; k < K; k++) out[slate[k] * K + k] = 1;
}

/** A uniform open-interval draw in (0, 1), safe for logarithms and powers. */
export function uniformOpen(rng: RandomStream): number {
  return (rng.nextUint32() + 0.5) / 4294967296;
}

/** The context of a contextual policy as a user index, or a clear error. */
export function userIndex(context: number | undefined, numUsers: number, policy: string): number {
  if (context === undefined || !Number.isInteger(context) || context < 0 || context >= numUsers) {
    throw new RangeError(`${policy}: context must be the round's user index in [0, ${numUsers}), found ${String(context)}`);
  }
  return context;
}

/** Whether two slates show the same items in the same order. */
export function sameSlate(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** 1 / (n (n − 1) … (n − K + 1)): the probability of any one ordered slate of K out of n drawn uniformly. */
export function uniformSlateProbability(numItems: number, slateSize: number): number {
  let p = 1;
  for (let k = 0; k < slateSize; k++) p /= numItems - k;
  return p;
}

/** Deterministic policies ignore the stream their `choose` takes; this one stands in for it. */
const UNUSED_RNG = randomStream('deterministic policies draw nothing');

/**
 * The exact propensities of a deterministic policy (the UCB policies): its current slate has
 * probability 1, every other 0. `scratch` holds the slate (length K).
 */
export function deterministicPolicyPropensities(policy: SlatePolicy, scratch: Int32Array, out: Float64Array): void {
  policy.choose(UNUSED_RNG, scratch);
  deterministicPropensities(scratch, policy.numItems, out);
}

export function deterministicSlateProbability(policy: SlatePolicy, slate: Int32Array, scratch: Int32Array): number {
  policy.choose(UNUSED_RNG, scratch);
  return sameSlate(slate, scratch) ? 1 : 0;
}
