import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM, type SlateSequences } from '../../data/slate-sequences.js';
import { selectTopK } from '../../policies/bandits/common.js';
import { interleaveLists } from '../../policies/interleave.js';
import { gruStep, type GruSlateParameters, initialState, outputOf, scoreAllItems } from '../../simulation/slates/gru-slate-world.js';

/**
 * Slate policies over a GRU slate posterior (Eide, Leslie & Frigessi 2022, §4): every slate has
 * "no click" in slot 0 (as FINN shows it) and distinct real items in slots 1..len−1.
 * - greedy: the posterior mean ranks all items for the user's current state; its top len − 1.
 * - thompson: one posterior draw per slate ranks all items; its top len − 1.
 * - in-slate-ts: len − 1 draws per slate, each giving a top list; interleave them (every draw's
 *   first, then every draw's second, …, skipping duplicates).
 */
export const GRU_SLATE_POLICIES = ['greedy', 'thompson', 'in-slate-ts'] as const;
export type GruSlatePolicy = (typeof GRU_SLATE_POLICIES)[number];

/** Where policies get parameters: the posterior mean, or draws for one user (e.g. `GruPosterior`). */
export interface ParameterSource {
  mean(): GruSlateParameters;
  sample(rng: RandomStream, userId?: number): GruSlateParameters;
}

/** The state h of user row `u` of `history` after all its clicks, under parameters `p`. */
export function replayState(p: GruSlateParameters, history: SlateSequences, u: number, h: Float64Array, scratch: Float64Array): void {
  initialState(p, history.userId[u], h);
  const T = history.steps;
  for (let t = 0; t < T; t++) {
    const click = history.click[u * T + t];
    if (click >= FIRST_REAL_ITEM) gruStep(p, h, click, scratch);
  }
}

/** Reusable buffers for ranking under one parameter set. */
class Ranker {
  readonly h: Float64Array;
  readonly z: Float64Array;
  readonly scratch: Float64Array;
  readonly scores: Float64Array;
  readonly topScratch: Float64Array;
  readonly topItems: Int32Array;

  constructor(p: GruSlateParameters, k: number) {
    this.topItems = new Int32Array(k);
    this.h = new Float64Array(p.hidden);
    this.z = new Float64Array(p.dim);
    this.scratch = new Float64Array(3 * p.hidden);
    this.scores = new Float64Array(p.numItems);
    this.topScratch = new Float64Array(k);
  }

  /** The top `k` items for user row `u` under `p` into `out[offset ..]`. */
  top(p: GruSlateParameters, history: SlateSequences, u: number, k: number, out: Int32Array, offset: number): void {
    replayState(p, history, u, this.h, this.scratch);
    outputOf(p, this.h, this.z);
    scoreAllItems(p, this.z, this.scores);
    // Specials score −∞ and k ≤ real items, so they are never chosen.
    selectTopK(this.scores, p.numItems, k, this.topItems, this.topScratch);
    out.set(this.topItems.subarray(0, k), offset);
  }
}

/**
 * One slate per user of `history` (its logged steps so far) into `out[u·S .. u·S + length)`, S =
 * history.slots: slot 0 "no click", then `length − 1` distinct items chosen by `policy`. Draws
 * come from `rng` derived per user, so a user's slate does not depend on the other users.
 */
export function chooseGruSlates(policy: GruSlatePolicy, source: ParameterSource, history: SlateSequences, length: number, rng: RandomStream, out: Int32Array): void {
  const S = history.slots;
  const mean = source.mean();
  const k = length - 1;
  if (!Number.isInteger(length) || length < 2 || length > S) throw new ConfigError('length', `expected an integer slate length in [2, ${S}], found ${length}`);
  if (k > mean.numItems - FIRST_REAL_ITEM) throw new ConfigError('length', `${k} item slots need at least as many items, found ${mean.numItems - FIRST_REAL_ITEM}`);
  if (out.length < history.users * S) throw new ConfigError('out', `expected room for ${history.users} × ${S} slots, found ${out.length}`);
  const ranker = new Ranker(mean, k);
  const lists = new Int32Array(k * k);
  const used = new Uint8Array(mean.numItems);
  for (let u = 0; u < history.users; u++) {
    const at = u * S;
    out.fill(0, at, at + S);
    out[at] = NO_CLICK_ITEM;
    const r = rng.derive('user', history.userId[u]);
    switch (policy) {
      case 'greedy':
        ranker.top(mean, history, u, k, out, at + 1);
        break;
      case 'thompson':
        ranker.top(source.sample(r, history.userId[u]), history, u, k, out, at + 1);
        break;
      case 'in-slate-ts': {
        for (let s = 0; s < k; s++) ranker.top(source.sample(r.derive(s), history.userId[u]), history, u, k, lists, s * k);
        interleaveLists(lists, k, k, k, out, at + 1, used);
        break;
      }
    }
  }
}
