import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM, type SlateSequences } from '../../data/slate-sequences.js';
import { clickLogLikelihood, gruStep, type GruSlateParameters, initialState, isObservedStep, itemScore, outputOf } from '../../simulation/slates/gru-slate-world.js';
import type { BlockSource } from './gru-slate-model.js';

/**
 * Held-out quality of slate click models on logged data, as Eide et al. report it: the click
 * log-likelihood per observed step (no-clicks included) and hit rate@k (the clicked item among the
 * top k of all items) on the steps of test users after their first `fromStep` steps, which are in
 * the training data (so the model knows the user's start).
 */
export interface SlateQuality {
  readonly logLikPerStep: number;
  readonly hitRate: number;
  /** Observed steps scored, and those with a click on a real item (the hit rate's denominator). */
  readonly steps: number;
  readonly clicks: number;
}

/** A GRU model's (e.g. the posterior mean's or the true world's) held-out quality. */
export function gruSlateQuality(p: GruSlateParameters, data: SlateSequences, options: { fromStep: number; k: number }): SlateQuality {
  const { logLik, steps } = clickLogLikelihood(p, data, { fromStep: options.fromStep });
  const T = data.steps;
  const h = new Float64Array(p.hidden);
  const z = new Float64Array(p.dim);
  const scratch = new Float64Array(3 * p.hidden);
  let hits = 0;
  let clicks = 0;
  for (let u = 0; u < data.users; u++) {
    initialState(p, data.userId[u], h);
    for (let t = 0; t < T; t++) {
      const click = data.click[u * T + t];
      if (t >= options.fromStep && click >= FIRST_REAL_ITEM) {
        outputOf(p, h, z);
        const own = itemScore(p, z, click);
        // Rank = items scoring strictly better (ties in the item's favour).
        let better = 0;
        for (let i = FIRST_REAL_ITEM; i < p.numItems && better < options.k; i++) if (itemScore(p, z, i) > own) better++;
        if (better < options.k) hits++;
        clicks++;
      }
      if (click >= FIRST_REAL_ITEM) gruStep(p, h, click, scratch);
    }
  }
  return { logLikPerStep: steps > 0 ? logLik / steps : Number.NaN, hitRate: clicks > 0 ? hits / clicks : Number.NaN, steps, clicks };
}

/**
 * The popularity baseline as a click model: P(no click | len) = (n₀(len) + 1)/(n(len) + 2), and a
 * click goes to shown item i with probability ∝ c_i + 1 (c_i: training clicks on i). It ranks all
 * items by c_i (ties: lower index first) for the hit rate.
 */
export class PopularityClickModel {
  private constructor(
    readonly clicks: Float64Array,
    private readonly noClicks: Float64Array,
    private readonly shown: Float64Array,
  ) {}

  static async fit(source: BlockSource, numItems: number, slots: number): Promise<PopularityClickModel> {
    const clicks = new Float64Array(numItems);
    const noClicks = new Float64Array(slots + 1);
    const shown = new Float64Array(slots + 1);
    for await (const block of source()) {
      for (let at = 0; at < block.users * block.steps; at++) {
        const c = block.click[at];
        if (!isObservedStep(c)) continue;
        if (c >= numItems) throw new ConfigError('data', `clicked item ${c} is beyond ${numItems} items`);
        const len = block.slateLengths[at];
        shown[len]++;
        if (c === NO_CLICK_ITEM) noClicks[len]++;
        else if (c >= FIRST_REAL_ITEM) clicks[c]++;
      }
    }
    return new PopularityClickModel(clicks, noClicks, shown);
  }

  quality(data: SlateSequences, options: { fromStep: number; k: number }): SlateQuality {
    const { steps: T, slots: S } = data;
    const n = this.clicks.length;
    let logLik = 0;
    let steps = 0;
    let hits = 0;
    let clicks = 0;
    for (let u = 0; u < data.users; u++) {
      for (let t = options.fromStep; t < T; t++) {
        const at = u * T + t;
        const c = data.click[at];
        if (!isObservedStep(c)) continue;
        const len = data.slateLengths[at];
        const pNoClick = (this.noClicks[len] + 1) / (this.shown[len] + 2);
        steps++;
        if (c === NO_CLICK_ITEM) {
          logLik += Math.log(pNoClick);
          continue;
        }
        let total = 0;
        for (let k = 0; k < len; k++) {
          const item = data.slate[at * S + k];
          if (item >= FIRST_REAL_ITEM) total += item < n ? this.clicks[item] + 1 : 1;
        }
        const own = c < n ? this.clicks[c] + 1 : 1;
        logLik += Math.log(1 - pNoClick) + Math.log(own / total);
        clicks++;
        let better = 0;
        for (let i = FIRST_REAL_ITEM; i < n && better < options.k; i++) {
          const ci = this.clicks[i] + 1;
          if (ci > own || (ci === own && i < c)) better++;
        }
        if (better < options.k) hits++;
      }
    }
    return { logLikPerStep: steps > 0 ? logLik / steps : Number.NaN, hitRate: clicks > 0 ? hits / clicks : Number.NaN, steps, clicks };
  }
}

/**
 * A users split for simulated data in FINN's protocol: a `testFraction` of users (drawn from
 * `rng`) are test users; training holds every other user and the test users' first `trainSteps`
 * steps (later steps padded); the test set is the test users' full histories, scored from
 * `trainSteps` on.
 */
export function splitTestUsers(data: SlateSequences, rng: RandomStream, options: { testFraction: number; trainSteps: number }): { train: SlateSequences; test: SlateSequences } {
  const { users, steps: T, slots: S } = data;
  if (!(options.testFraction > 0 && options.testFraction < 1)) throw new ConfigError('testFraction', `expected a fraction in (0, 1), found ${options.testFraction}`);
  const nTest = Math.max(1, Math.round(users * options.testFraction));
  const testRows = Array.from(rng.sampleWithoutReplacement(users, nTest)).sort((a, b) => a - b);
  const isTest = new Uint8Array(users);
  for (const r of testRows) isTest[r] = 1;
  const pick = (rows: number[], padFrom: (row: number) => number): SlateSequences => {
    const U = rows.length;
    const out: SlateSequences = {
      users: U,
      steps: T,
      slots: S,
      userId: Int32Array.from(rows, (r) => data.userId[r]),
      click: new Int32Array(U * T),
      clickIdx: new Int32Array(U * T),
      slateLengths: new Int32Array(U * T),
      slate: new Int32Array(U * T * S),
      interactionType: new Uint8Array(U * T),
    };
    rows.forEach((r, i) => {
      const keep = padFrom(r);
      out.click.set(data.click.subarray(r * T, r * T + keep), i * T);
      out.clickIdx.set(data.clickIdx.subarray(r * T, r * T + keep), i * T);
      out.slateLengths.set(data.slateLengths.subarray(r * T, r * T + keep), i * T);
      out.interactionType.set(data.interactionType.subarray(r * T, r * T + keep), i * T);
      out.slate.set(data.slate.subarray(r * T * S, (r * T + keep) * S), i * T * S);
    });
    return out;
  };
  const all = Array.from({ length: users }, (_, r) => r);
  const trainSteps = Math.min(T, options.trainSteps);
  return { train: pick(all, (r) => (isTest[r] ? trainSteps : T)), test: pick(testRows, () => T) };
}
