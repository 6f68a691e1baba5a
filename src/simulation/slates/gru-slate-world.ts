import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM, PAD_ITEM, type SlateSequences } from '../../data/slate-sequences.js';

/**
 * The GRU slate model of Eide, Leslie & Frigessi ("Dynamic Slate Recommendation with Gated Recurrent
 * Units and Thompson Sampling", DMKD 2022) as plain typed arrays: the parameters of one world (the
 * truth of a simulation, or one draw or the mean of a fitted posterior) and its forward pass.
 *
 *   h_0 (per user),  h_{t+1} = GRU(h_t, v_{c_t}) if c_t ≥ 3 (a real item was clicked), else h_t
 *   z_t = W_z h_t
 *   score(i) = −‖z_t − v_i‖ (l2) or z_tᵀ v_i (dot);   slot showing "no click" (item 1): b[len]
 *   P(click slot k | slate, t) = softmax over the shown real items and the no-click slot
 *
 * The GRU has no biases (as the authors'):
 *   r = σ(W_ir x + W_hr h),  u = σ(W_iu x + W_hu h),  n = tanh(W_in x + r ⊙ (W_hn h)),
 *   h' = (1 − u) ⊙ n + u ⊙ h.
 * The TF.js model (learning/slates) computes the same thing; tests check that both agree.
 */
export interface GruSlateParameters {
  /** d: the dimension of item vectors and of z. */
  readonly dim: number;
  /** H: the GRU state size. */
  readonly hidden: number;
  /** Item indices 0 .. numItems − 1, the first three special (padding, no click, unknown). */
  readonly numItems: number;
  /** S: slots per slate; the no-click bias has S + 1 entries (indexed by the slate length). */
  readonly slots: number;
  readonly score: GruScore;
  /** [numItems × d]; rows 0..2 are zero and never used. */
  readonly itemVectors: Float32Array;
  /** [H × d] input weights of the reset, update and candidate gates. */
  readonly wIr: Float32Array;
  readonly wIu: Float32Array;
  readonly wIn: Float32Array;
  /** [H × H] recurrent weights of the reset, update and candidate gates. */
  readonly wHr: Float32Array;
  readonly wHu: Float32Array;
  readonly wHn: Float32Array;
  /** [d × H] output map z = W_z h. */
  readonly wZ: Float32Array;
  /** [S + 1] the no-click logit by slate length. */
  readonly noClickBias: Float32Array;
  /** [rows × H] initial states; a user without a row starts at 0 (the prior mean). */
  readonly h0: Float32Array;
  /** userId → row of h0; null: the userId is the row. */
  readonly userRows: ReadonlyMap<number, number> | null;
}

export type GruScore = 'l2' | 'dot';
export const GRU_SCORES: readonly GruScore[] = ['l2', 'dot'];

/** The row of h0 for a user, or −1 (start from 0). */
export function h0Row(p: GruSlateParameters, userId: number): number {
  const rows = p.h0.length / p.hidden;
  const row = p.userRows === null ? userId : (p.userRows.get(userId) ?? -1);
  return row >= 0 && row < rows ? row : -1;
}

/** Copy a user's initial state into `h` (length H). */
export function initialState(p: GruSlateParameters, userId: number, h: Float64Array): void {
  const row = h0Row(p, userId);
  for (let j = 0; j < p.hidden; j++) h[j] = row < 0 ? 0 : p.h0[row * p.hidden + j];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** h ← GRU(h, v_item) in place; `scratch` has length ≥ 3H. */
export function gruStep(p: GruSlateParameters, h: Float64Array, item: number, scratch: Float64Array): void {
  const d = p.dim;
  const H = p.hidden;
  const x = item * d;
  for (let j = 0; j < H; j++) {
    let ar = 0;
    let au = 0;
    let an = 0;
    for (let k = 0; k < d; k++) {
      const v = p.itemVectors[x + k];
      ar += p.wIr[j * d + k] * v;
      au += p.wIu[j * d + k] * v;
      an += p.wIn[j * d + k] * v;
    }
    let br = 0;
    let bu = 0;
    let bn = 0;
    for (let k = 0; k < H; k++) {
      br += p.wHr[j * H + k] * h[k];
      bu += p.wHu[j * H + k] * h[k];
      bn += p.wHn[j * H + k] * h[k];
    }
    const r = sigmoid(ar + br);
    const u = sigmoid(au + bu);
    const n = Math.tanh(an + r * bn);
    scratch[j] = (1 - u) * n + u * h[j];
  }
  for (let j = 0; j < H; j++) h[j] = scratch[j];
}

/** z = W_z h (length d). */
export function outputOf(p: GruSlateParameters, h: Float64Array, z: Float64Array): void {
  const H = p.hidden;
  for (let i = 0; i < p.dim; i++) {
    let s = 0;
    for (let j = 0; j < H; j++) s += p.wZ[i * H + j] * h[j];
    z[i] = s;
  }
}

/** score(z, v_item): −‖z − v‖ (clamped at 1e−10 under the root, as the authors) or zᵀv. */
export function itemScore(p: GruSlateParameters, z: Float64Array, item: number): number {
  const d = p.dim;
  const x = item * d;
  if (p.score === 'dot') {
    let s = 0;
    for (let k = 0; k < d; k++) s += z[k] * p.itemVectors[x + k];
    return s;
  }
  let s = 0;
  for (let k = 0; k < d; k++) {
    const diff = z[k] - p.itemVectors[x + k];
    s += diff * diff;
  }
  return -Math.sqrt(Math.max(s, 1e-10));
}

/** The scores of every item (specials get −∞), e.g. to rank all items for a user. */
export function scoreAllItems(p: GruSlateParameters, z: Float64Array, out: Float64Array): void {
  for (let i = 0; i < FIRST_REAL_ITEM; i++) out[i] = Number.NEGATIVE_INFINITY;
  for (let i = FIRST_REAL_ITEM; i < p.numItems; i++) out[i] = itemScore(p, z, i);
}

/**
 * Click probabilities over the `length` slots of `slate` (slot k shows slate[k]): a real item gets
 * its score, the no-click item b[length], padding and unknown items probability 0. Returns the
 * log normaliser log Σ exp(logit) (the log-likelihood of slot k is logit_k − it).
 */
export function slateProbabilities(p: GruSlateParameters, z: Float64Array, slate: Int32Array, offset: number, length: number, out: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < length; k++) {
    const item = slate[offset + k];
    const logit = item >= FIRST_REAL_ITEM ? itemScore(p, z, item) : item === NO_CLICK_ITEM ? p.noClickBias[length] : Number.NEGATIVE_INFINITY;
    out[k] = logit;
    if (logit > max) max = logit;
  }
  let sum = 0;
  for (let k = 0; k < length; k++) {
    out[k] = Math.exp(out[k] - max);
    sum += out[k];
  }
  for (let k = 0; k < length; k++) out[k] /= sum;
  return max + Math.log(sum);
}

/** Whether a logged step counts in the likelihood: not padding, not an unknown item. */
export function isObservedStep(click: number): boolean {
  return click !== PAD_ITEM && click !== 2;
}

/**
 * The click log-likelihood of `data` under parameters `p`, in plain JS (float64): Σ over observed
 * steps of log P(clickIdx | slate, z_t), z_t from the user's clicks before t. `steps` counts the
 * observed steps; `perUser` (optional, length users) receives each user's sum. `fromStep` skips
 * the first steps in the sum (they still move the state), for held-out evaluation.
 */
export function clickLogLikelihood(p: GruSlateParameters, data: SlateSequences, options: { fromStep?: number; perUser?: Float64Array } = {}): { logLik: number; steps: number } {
  checkShape(p, data);
  const { users, steps: T, slots: S } = data;
  const h = new Float64Array(p.hidden);
  const z = new Float64Array(p.dim);
  const scratch = new Float64Array(3 * p.hidden);
  const probs = new Float64Array(S);
  const from = options.fromStep ?? 0;
  let total = 0;
  let count = 0;
  for (let u = 0; u < users; u++) {
    initialState(p, data.userId[u], h);
    let userSum = 0;
    for (let t = 0; t < T; t++) {
      const at = u * T + t;
      const click = data.click[at];
      if (t >= from && isObservedStep(click)) {
        outputOf(p, h, z);
        const length = data.slateLengths[at];
        slateProbabilities(p, z, data.slate, at * S, length, probs);
        userSum += Math.log(probs[data.clickIdx[at]]);
        count++;
      }
      if (click >= FIRST_REAL_ITEM) gruStep(p, h, click, scratch);
    }
    if (options.perUser) options.perUser[u] = userSum;
    total += userSum;
  }
  return { logLik: total, steps: count };
}

/** The state h_T of each user after all of its logged clicks ([users × H]). */
export function finalStates(p: GruSlateParameters, data: SlateSequences, out = new Float64Array(data.users * p.hidden)): Float64Array {
  const T = data.steps;
  const h = new Float64Array(p.hidden);
  const scratch = new Float64Array(3 * p.hidden);
  for (let u = 0; u < data.users; u++) {
    initialState(p, data.userId[u], h);
    for (let t = 0; t < T; t++) {
      const click = data.click[u * T + t];
      if (click >= FIRST_REAL_ITEM) gruStep(p, h, click, scratch);
    }
    out.set(h, u * p.hidden);
  }
  return out;
}

function checkShape(p: GruSlateParameters, data: SlateSequences): void {
  if (data.slots > p.slots) throw new ConfigError('slots', `the data has ${data.slots} slots per slate, the model ${p.slots}`);
  for (let i = 0; i < data.slate.length; i++) {
    if (data.slate[i] >= p.numItems) throw new ConfigError('slate', `item ${data.slate[i]} is beyond the model's ${p.numItems} items`);
  }
}

/** The sizes of a GRU world and the spreads its true parameters are drawn with. */
export interface GruSlateWorldOptions {
  /** Real items (indices 3 .. items + 2). */
  readonly items: number;
  readonly groups: number;
  readonly users: number;
  /** d (FINN model: 25). */
  readonly dim: number;
  /** H (default d). */
  readonly hidden?: number;
  /** S: slots per slate including the no-click slot 0. */
  readonly slots: number;
  readonly score?: GruScore;
  /** Standard deviation of group vectors around 0 (default 0.6). */
  readonly groupSpread?: number;
  /** Standard deviation of item vectors around their group's (default 0.25). */
  readonly itemSpread?: number;
  /** Gain of the GRU and W_z weights: N(0, gain²/fan-in) (default 1.5). */
  readonly weightGain?: number;
  /** Standard deviation of h0 (the prior's, default 0.5). */
  readonly h0Scale?: number;
  /** No-click logit b[len] for every slate length (default −1). */
  readonly noClickLogit?: number;
}

/** A simulated world: true parameters plus the item groups they were drawn with. */
export interface GruSlateWorld {
  readonly params: GruSlateParameters;
  readonly users: number;
  readonly groups: number;
  /** [numItems] group of each item (−1 for the special items). */
  readonly itemGroup: Int32Array;
  /** [groups × d] group centres. */
  readonly groupVectors: Float32Array;
}

/**
 * Draw a world's true parameters from `rng`. They follow the model's structure (hierarchical item
 * vectors, bias-free GRU, W_z, h0 ~ N(0, 0.5²)) but not its vague N(0, 5²) priors: with weights of
 * scale 5 the gates saturate and distances of ~20 make every user click the one nearest item, a
 * world no logging policy or bandit learns anything from. The spreads below give distances of a
 * few logits between groups and under one within a group, so clicks are informative but noisy,
 * and a click rate near FINN's (about a third of recommendation slates clicked) at the default bias.
 */
export function createGruSlateWorld(rng: RandomStream, options: GruSlateWorldOptions): GruSlateWorld {
  const { items, groups, users, dim, slots } = options;
  const hidden = options.hidden ?? dim;
  for (const [name, value, min] of [
    ['items', items, 1],
    ['groups', groups, 1],
    ['users', users, 1],
    ['dim', dim, 1],
    ['hidden', hidden, 1],
    ['slots', slots, 2],
  ] as const) {
    if (!Number.isInteger(value) || value < min) throw new ConfigError(name, `expected an integer ≥ ${min}, found ${value}`);
  }
  if (groups > items) throw new ConfigError('groups', `expected at most items (${items}) groups, found ${groups}`);
  const numItems = items + FIRST_REAL_ITEM;
  const groupSpread = options.groupSpread ?? 0.6;
  const itemSpread = options.itemSpread ?? 0.25;
  const gain = options.weightGain ?? 1.5;
  const h0Scale = options.h0Scale ?? 0.5;
  const normal = (r: RandomStream, n: number, sd: number) => Float32Array.from({ length: n }, () => sd * r.normal());

  const groupVectors = normal(rng.derive('groups'), groups * dim, groupSpread);
  const itemGroup = new Int32Array(numItems).fill(-1);
  const itemVectors = new Float32Array(numItems * dim);
  const itemRng = rng.derive('items');
  for (let i = FIRST_REAL_ITEM; i < numItems; i++) {
    // Groups of (nearly) equal size, in item order, as FINN's categories are contiguous in no way that matters here.
    const g = Math.floor(((i - FIRST_REAL_ITEM) * groups) / items);
    itemGroup[i] = g;
    for (let k = 0; k < dim; k++) itemVectors[i * dim + k] = groupVectors[g * dim + k] + itemSpread * itemRng.normal();
  }
  const w = rng.derive('gru');
  const params: GruSlateParameters = {
    dim,
    hidden,
    numItems,
    slots,
    score: options.score ?? 'l2',
    itemVectors,
    wIr: normal(w, hidden * dim, gain / Math.sqrt(dim)),
    wIu: normal(w, hidden * dim, gain / Math.sqrt(dim)),
    wIn: normal(w, hidden * dim, gain / Math.sqrt(dim)),
    wHr: normal(w, hidden * hidden, gain / Math.sqrt(hidden)),
    wHu: normal(w, hidden * hidden, gain / Math.sqrt(hidden)),
    wHn: normal(w, hidden * hidden, gain / Math.sqrt(hidden)),
    wZ: normal(w, dim * hidden, gain / Math.sqrt(hidden)),
    noClickBias: new Float32Array(slots + 1).fill(options.noClickLogit ?? -1),
    h0: normal(rng.derive('h0'), users * hidden, h0Scale),
    userRows: null,
  };
  return { params, users, groups, itemGroup, groupVectors };
}

/** Allocate an empty (all padding) block of U users × T steps × S slots. */
export function emptySlateSequences(users: number, steps: number, slots: number): SlateSequences {
  return {
    users,
    steps,
    slots,
    userId: Int32Array.from({ length: users }, (_, u) => u),
    click: new Int32Array(users * steps),
    clickIdx: new Int32Array(users * steps),
    slateLengths: new Int32Array(users * steps),
    slate: new Int32Array(users * steps * slots),
    interactionType: new Uint8Array(users * steps),
  };
}

/**
 * Fill `slate[offset ..]` with a random logged slate: "no click" in slot 0, then `length − 1`
 * distinct real items uniformly at random.
 */
export function randomSlate(rng: RandomStream, numItems: number, slate: Int32Array, offset: number, length: number): void {
  slate[offset] = NO_CLICK_ITEM;
  const drawn = rng.sampleWithoutReplacement(numItems - FIRST_REAL_ITEM, length - 1);
  for (let k = 1; k < length; k++) slate[offset + k] = drawn[k - 1] + FIRST_REAL_ITEM;
}

/** Draw a slot from click probabilities (length `length`). */
export function sampleSlot(rng: RandomStream, probs: Float64Array, length: number): number {
  let u = rng.uniform();
  for (let k = 0; k < length - 1; k++) {
    u -= probs[k];
    if (u < 0) return k;
  }
  return length - 1;
}

/** Options of `simulateLoggedSequences`. */
export interface LoggedSequencesOptions {
  readonly steps: number;
  /** Each slate shows a uniform number of slots in [minSlateLength, S] (default S). */
  readonly minSlateLength?: number;
  /** Users 0 .. users − 1 by default. */
  readonly users?: number;
}

/**
 * A logged data set: every user sees `steps` slates chosen by the uniform random logging policy
 * (slot 0 "no click", then distinct random items) and clicks by the world's true model; its state
 * moves on each click. The slate length varies when `minSlateLength` < S, so the no-click bias by
 * length is identifiable. Users' streams are derived by user, so a user's history does not depend
 * on how many users are simulated.
 */
export function simulateLoggedSequences(world: GruSlateWorld, rng: RandomStream, options: LoggedSequencesOptions): SlateSequences {
  const p = world.params;
  const S = p.slots;
  const T = options.steps;
  const users = options.users ?? world.users;
  const minLength = options.minSlateLength ?? S;
  if (!Number.isInteger(minLength) || minLength < 2 || minLength > S) throw new ConfigError('minSlateLength', `expected an integer in [2, ${S}], found ${minLength}`);
  if (S - 1 > p.numItems - FIRST_REAL_ITEM) throw new ConfigError('slots', `${S - 1} item slots need at least as many items, found ${p.numItems - FIRST_REAL_ITEM}`);
  const data = emptySlateSequences(users, T, S);
  const h = new Float64Array(p.hidden);
  const z = new Float64Array(p.dim);
  const scratch = new Float64Array(3 * p.hidden);
  const probs = new Float64Array(S);
  for (let u = 0; u < users; u++) {
    const r = rng.derive('user', u);
    initialState(p, u, h);
    for (let t = 0; t < T; t++) {
      const at = u * T + t;
      const length = minLength + r.int(S - minLength + 1);
      randomSlate(r, p.numItems, data.slate, at * S, length);
      outputOf(p, h, z);
      slateProbabilities(p, z, data.slate, at * S, length, probs);
      const k = sampleSlot(r, probs, length);
      const item = data.slate[at * S + k];
      data.slateLengths[at] = length;
      data.clickIdx[at] = k;
      data.click[at] = item;
      data.interactionType[at] = 2;
      if (item >= FIRST_REAL_ITEM) gruStep(p, h, item, scratch);
    }
  }
  return data;
}
