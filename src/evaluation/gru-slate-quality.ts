import { ConfigError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import { FIRST_REAL_ITEM, type SlateSequences } from '../data/slate-sequences.js';
import { hitRateAt, PopularityBaseline, slateLogLikelihood } from './slate-sequence-metrics.js';
import { clickLogLikelihood, gruStep, type GruSlateParameters, initialState, itemScore, outputOf } from '../simulation/slates/gru-slate-world.js';

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
 * The popularity baseline's held-out quality with the same definitions: its slot probabilities
 * and top k from `evaluation/slate-sequence-metrics.ts` (π₀ for the no-click slot, shown items
 * ∝ training clicks + 1; the k most clicked items).
 */
export function popularityQuality(popularity: PopularityBaseline, data: SlateSequences, options: { fromStep: number; k: number }): SlateQuality {
  const ll = slateLogLikelihood(popularity.slateProbabilities(data), data, { fromStep: options.fromStep });
  const hits = hitRateAt(popularity.topK(options.k), options.k, data, { fromStep: options.fromStep });
  return { logLikPerStep: ll.value, hitRate: hits.value, steps: ll.steps, clicks: hits.steps };
}

/** Popularity counted over the training views of a block source. */
export async function fitPopularity(source: () => AsyncIterable<SlateSequences>): Promise<PopularityBaseline> {
  const popularity = new PopularityBaseline();
  for await (const block of source()) popularity.add(block);
  return popularity;
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
