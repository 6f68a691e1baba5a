/**
 * Metrics of a model on logged slate histories (`SlateSequences`, FINN.no's layout), as Rax-style
 * pure functions: arrays in, numbers out, with the steps scored chosen by `fromStep` (the
 * evaluation views of `splitFinnBlock` score t ≥ 5). Each returns the mean over the scored steps
 * and the per-user values, so that blocks combine (add `sum` and `steps`) and per-user values give
 * intervals (`confidenceHalfWidth`). Popularity and uniform-random baselines stream over blocks.
 *
 *     slateLogLikelihood(probabilities [U·T·S], sequences, { fromStep }): StepMetric
 *       = mean over scored steps of log p[u, t, click_idx[u, t]]; scored: t ≥ fromStep and click ∉ {0 pad, 2 unknown}
 *     hitRateAt(topK [k] or [U·T·k], k, sequences, { fromStep }): StepMetric
 *       = mean over scored steps of 1[click[u, t] ∈ topK[u, t]]; scored: t ≥ fromStep and click ≥ 3 (a real item)
 *     userHitsAt(recommendations [k] or [U·k], k, sequences, { fromStep, removeEarlierClicks }): UserMetric
 *       = mean over users of |distinct real items clicked at t ≥ fromStep ∩ the user's k recommendations|
 *     new PopularityBaseline().add(trainView) … .topK(k), .slateProbabilities(sequences)
 *     uniformSlateProbabilities(sequences)
 *     evaluateFinnBaselines(path, { k, blockUsers, split }): the two baselines on the validation and test users
 *
 * Usage, for a model that gives per-step slot probabilities and top-k items:
 *
 *     const { test } = splitFinnBlock(block);
 *     const ll = slateLogLikelihood(model.slotProbabilities(test.sequences), test.sequences, { fromStep: test.fromStep });
 *     const hr = hitRateAt(model.topK(test.sequences, 20), 20, test.sequences, { fromStep: test.fromStep });
 *     total.sum += ll.sum; total.steps += ll.steps;                       // over blocks: ll = sum / steps
 *
 * How the authors count (finn-no/recsys_slates_dataset): the likelihood is the categorical over the
 * shown slots with the observed `click_idx` as the outcome, slot 0 being the no-click option and
 * slots holding items ≤ 2 masked out, on steps with click ∉ {0, 2} (`models.py`, `_compute`);
 * `slateLogLikelihood` is that, with the probabilities given. Their hit rate is per user, not per
 * step: one list of K items for each user (the model's top K over all real items, from the state
 * after the first t_testsplit = 5 steps), hits = the number of distinct items the user clicked
 * later that are in the list, averaged over the users of the phase. The paper's code
 * (`code_eide_et_al21/pyrotrainer.py`, `calc_hitrate`) uses K = 20 and clicks from step
 * t_testsplit + 1 = 6 on; the package's `lightning_helper.Hitrate` uses K = 10, clicks from step 5,
 * and first drops from the list the items the user clicked in steps 0–4. `userHitsAt` is that
 * count (fromStep 6 for the paper, or 5 with removeEarlierClicks for the package);
 * `hitRateAt` is the per-step variant for models that update after every step.
 */
import { finnSequenceBlocks } from '../data/finn-sequences.js';
import { splitFinnBlock, type FinnEvaluationView, type FinnSplitOptions } from '../data/finn-split.js';
import { FIRST_REAL_ITEM, NO_CLICK_ITEM, PAD_ITEM, type SlateSequences, UNKNOWN_ITEM } from '../data/slate-sequences.js';
import { confidenceHalfWidth } from './statistics.js';

/** A metric averaged over scored steps. */
export interface StepMetric {
  /** sum / steps (NaN when no step is scored). */
  readonly value: number;
  readonly sum: number;
  readonly steps: number;
  /** [U] each user's mean over their scored steps (NaN for a user without one). */
  readonly perUser: Float64Array;
  /** [U] each user's scored steps. */
  readonly perUserSteps: Int32Array;
}

/** A metric averaged over users. */
export interface UserMetric {
  /** sum / users. */
  readonly value: number;
  readonly sum: number;
  readonly users: number;
  /** [U] each user's value. */
  readonly perUser: Float64Array;
}

export interface ScoredSteps {
  /** Score steps t ≥ fromStep only (default 0: all). */
  readonly fromStep?: number;
}

function stepMetric(sequences: SlateSequences, fromStep: number, scored: (k: number) => boolean, value: (u: number, t: number, k: number) => number): StepMetric {
  const { users, steps: T } = sequences;
  const perUser = new Float64Array(users);
  const perUserSteps = new Int32Array(users);
  let sum = 0;
  let steps = 0;
  for (let u = 0; u < users; u++) {
    let userSum = 0;
    let n = 0;
    for (let t = Math.max(0, fromStep); t < T; t++) {
      const k = u * T + t;
      if (!scored(k)) continue;
      userSum += value(u, t, k);
      n++;
    }
    perUser[u] = n > 0 ? userSum / n : Number.NaN;
    perUserSteps[u] = n;
    sum += userSum;
    steps += n;
  }
  return { value: steps > 0 ? sum / steps : Number.NaN, sum, steps, perUser, perUserSteps };
}

function checkLength(name: string, actual: number, allowed: number[], what: string): void {
  if (!allowed.includes(actual)) throw new RangeError(`${name}: expected ${what} (length ${allowed.join(' or ')}), found length ${actual}`);
}

/**
 * Log-likelihood of the clicked slot: log p[u, t, click_idx[u, t]], where `probabilities` holds,
 * for each step, the model's probability of each slot of the shown slate being the one chosen
 * (slot 0: FINN's no-click option), in the layout of `sequences.slate` ([U·T·S]). Scored steps:
 * t ≥ fromStep with click ∉ {0, 2}. A zero probability on the clicked slot gives −Infinity.
 */
export function slateLogLikelihood(probabilities: ArrayLike<number>, sequences: SlateSequences, options: ScoredSteps = {}): StepMetric {
  const { users, steps: T, slots: S, click, clickIdx } = sequences;
  checkLength('slateLogLikelihood', probabilities.length, [users * T * S], 'one probability per slot of each step, U·T·S');
  return stepMetric(
    sequences,
    options.fromStep ?? 0,
    (k) => click[k] !== PAD_ITEM && click[k] !== UNKNOWN_ITEM,
    (_u, _t, k) => Math.log(probabilities[k * S + clickIdx[k]]),
  );
}

/**
 * Hit rate at k, per step: 1 when the clicked item is among the model's top k items at that step.
 * `topK` is one list for every step ([k], a static model such as popularity) or one per step
 * ([U·T·k]). Scored steps: t ≥ fromStep with a real clicked item (click ≥ 3).
 */
export function hitRateAt(topK: Int32Array, k: number, sequences: SlateSequences, options: ScoredSteps = {}): StepMetric {
  const { users, steps: T, click } = sequences;
  checkLength('hitRateAt', topK.length, [k, users * T * k], 'k items, or k items for each step (U·T·k)');
  const shared = topK.length === k;
  return stepMetric(
    sequences,
    options.fromStep ?? 0,
    (i) => click[i] >= FIRST_REAL_ITEM,
    (_u, _t, i) => {
      const base = shared ? 0 : i * k;
      for (let j = 0; j < k; j++) if (topK[base + j] === click[i]) return 1;
      return 0;
    },
  );
}

/**
 * The authors' hit count (see the top of this file): per user, the number of distinct real items
 * clicked at steps t ≥ fromStep that are among the user's k `recommendations` ([k] for all users,
 * or [U·k]); with `removeEarlierClicks`, recommended items the user clicked before fromStep do not
 * count. Averaged over all users of `sequences`, those without later clicks included (as the authors do).
 */
export function userHitsAt(recommendations: Int32Array, k: number, sequences: SlateSequences, options: ScoredSteps & { readonly removeEarlierClicks?: boolean } = {}): UserMetric {
  const { users, steps: T, click } = sequences;
  checkLength('userHitsAt', recommendations.length, [k, users * k], 'k items, or k items for each user (U·k)');
  const fromStep = Math.max(0, options.fromStep ?? 0);
  const perUser = new Float64Array(users);
  let sum = 0;
  for (let u = 0; u < users; u++) {
    const base = recommendations.length === k ? 0 : u * k;
    const list = new Set<number>();
    for (let j = 0; j < k; j++) list.add(recommendations[base + j]);
    if (options.removeEarlierClicks) for (let t = 0; t < Math.min(fromStep, T); t++) list.delete(click[u * T + t]);
    const hit = new Set<number>();
    for (let t = fromStep; t < T; t++) {
      const c = click[u * T + t];
      if (c >= FIRST_REAL_ITEM && list.has(c)) hit.add(c);
    }
    perUser[u] = hit.size;
    sum += hit.size;
  }
  return { value: users > 0 ? sum / users : Number.NaN, sum, users, perUser };
}

/**
 * The popularity baseline: item click counts over training views (`add`, block by block), then
 * the most-clicked items as everyone's top k, and slot probabilities for the likelihood:
 *   P(no-click slot) ∝ π₀ = (no-click steps + 1) / (steps with a choice + 2)   (add-one smoothed)
 *   P(slot of real item i) ∝ (1 − π₀) · (c_i + α) / Σ_{real items j shown} (c_j + α)   (α = `smoothing`, default 1)
 *   P(slot of item 2, unknown) = 0 (as the authors mask it)
 * renormalised over the shown slots (so a slate without a real item gives the no-click slot 1).
 */
export class PopularityBaseline {
  private counts = new Float64Array(1024);
  private noClickSteps = 0;
  private choiceSteps = 0;
  /** The largest item index seen in any slate or click added. */
  maxItem = FIRST_REAL_ITEM - 1;

  constructor(readonly smoothing = 1) {}

  /** Counts the clicks of a training view. */
  add(sequences: SlateSequences): void {
    const { click, slate } = sequences;
    for (let i = 0; i < slate.length; i++) if (slate[i] > this.maxItem) this.maxItem = slate[i];
    for (let i = 0; i < click.length; i++) {
      const c = click[i];
      if (c === PAD_ITEM || c === UNKNOWN_ITEM) continue;
      this.choiceSteps++;
      if (c === NO_CLICK_ITEM) {
        this.noClickSteps++;
        continue;
      }
      if (c > this.maxItem) this.maxItem = c;
      if (c >= this.counts.length) {
        const grown = new Float64Array(Math.max(c + 1, this.counts.length * 2));
        grown.set(this.counts);
        this.counts = grown;
      }
      this.counts[c]++;
    }
  }

  /** Clicks of item i in what was added. */
  clicks(item: number): number {
    return item < this.counts.length ? this.counts[item] : 0;
  }

  /** The smoothed share of choices that were no-clicks (π₀ above). */
  get noClickRate(): number {
    return (this.noClickSteps + 1) / (this.choiceSteps + 2);
  }

  /** The k most-clicked real items, most clicked first (ties: lower index first). */
  topK(k: number): Int32Array {
    const items: number[] = [];
    for (let i = FIRST_REAL_ITEM; i < this.counts.length; i++) if (this.counts[i] > 0) items.push(i);
    items.sort((a, b) => this.counts[b] - this.counts[a] || a - b);
    const out = items.slice(0, k);
    // Fewer clicked items than k: fill with unclicked items in index order, as ties at zero.
    for (let i = FIRST_REAL_ITEM; out.length < k; i++) if (this.clicks(i) === 0) out.push(i);
    return Int32Array.from(out);
  }

  /** Slot probabilities ([U·T·S], the layout of `sequences.slate`) for `slateLogLikelihood`. */
  slateProbabilities(sequences: SlateSequences): Float64Array {
    const pi0 = this.noClickRate;
    return slotProbabilities(sequences, (slate, base, length, out) => {
      let noClick = 0;
      let realMass = 0;
      for (let s = 0; s < length; s++) {
        const v = slate[base + s];
        if (v === NO_CLICK_ITEM) noClick++;
        else if (v >= FIRST_REAL_ITEM) realMass += this.clicks(v) + this.smoothing;
      }
      for (let s = 0; s < length; s++) {
        const v = slate[base + s];
        out[base + s] = v === NO_CLICK_ITEM ? pi0 / noClick : v >= FIRST_REAL_ITEM ? ((1 - pi0) * (this.clicks(v) + this.smoothing)) / realMass : 0;
      }
    });
  }
}

/** Fills per-step weights with `weigh`, then normalises each step's shown slots to sum to 1. */
function slotProbabilities(sequences: SlateSequences, weigh: (slate: Int32Array, base: number, length: number, out: Float64Array) => void): Float64Array {
  const { users, steps: T, slots: S, slate, slateLengths } = sequences;
  const out = new Float64Array(users * T * S);
  for (let k = 0; k < users * T; k++) {
    const length = slateLengths[k];
    if (length === 0) continue;
    const base = k * S;
    weigh(slate, base, length, out);
    let total = 0;
    for (let s = 0; s < length; s++) total += out[base + s];
    if (total > 0) for (let s = 0; s < length; s++) out[base + s] /= total;
  }
  return out;
}

/** The uniform-random baseline: every shown slot holding the no-click option or a real item is equally likely (unknown-item slots: 0). */
export function uniformSlateProbabilities(sequences: SlateSequences): Float64Array {
  return slotProbabilities(sequences, (slate, base, length, out) => {
    for (let s = 0; s < length; s++) out[base + s] = slate[base + s] === NO_CLICK_ITEM || slate[base + s] >= FIRST_REAL_ITEM ? 1 : 0;
  });
}

export interface BaselineResult {
  readonly model: 'popularity' | 'uniform';
  readonly phase: 'valid' | 'test';
  /** Mean log-likelihood of the clicked slot per scored step, and its 95% half-width over users. */
  readonly logLikelihood: number;
  readonly logLikelihoodHalfWidth: number;
  /** Per-step hit rate at k (uniform: its expectation k / items). */
  readonly hitRate: number;
  /** The authors' hits per user at k (uniform: its expectation). */
  readonly userHits: number;
  readonly userHitsHalfWidth: number;
  readonly steps: number;
  readonly users: number;
}

/**
 * Both baselines on the validation and test users of `data.npz`, in two streaming passes: the
 * popularity counts from the training views, then the metrics on the evaluation views (scored
 * from `split.trainSteps`; the per-user hit count from the same step, like the package's Hitrate
 * without removing earlier clicks). The uniform baseline's hit rates are their expectations,
 * k / (real items), the real items being those up to the largest index in the training views.
 */
export async function evaluateFinnBaselines(path: string, options: { k?: number; blockUsers?: number; users?: number; split?: FinnSplitOptions } = {}): Promise<BaselineResult[]> {
  const k = options.k ?? 20;
  const read = { blockUsers: options.blockUsers, users: options.users };
  const popularity = new PopularityBaseline();
  for await (const block of finnSequenceBlocks(path, read)) popularity.add(splitFinnBlock(block, options.split).train);
  const top = popularity.topK(k);
  const realItems = popularity.maxItem - FIRST_REAL_ITEM + 1;
  type Acc = { llSum: number; steps: number; llUsers: number[]; hitSum: number; hitSteps: number; userHits: number[] };
  const acc = (): Acc => ({ llSum: 0, steps: 0, llUsers: [], hitSum: 0, hitSteps: 0, userHits: [] });
  const totals = { popularity: { valid: acc(), test: acc() }, uniform: { valid: acc(), test: acc() } };
  const score = (view: FinnEvaluationView, model: 'popularity' | 'uniform', a: Acc) => {
    const seq = view.sequences;
    const p = model === 'popularity' ? popularity.slateProbabilities(seq) : uniformSlateProbabilities(seq);
    const ll = slateLogLikelihood(p, seq, { fromStep: view.fromStep });
    a.llSum += ll.sum;
    a.steps += ll.steps;
    for (let u = 0; u < seq.users; u++) if (ll.perUserSteps[u] > 0) a.llUsers.push(ll.perUser[u]);
    const hits = hitRateAt(top, k, seq, { fromStep: view.fromStep });
    a.hitSum += model === 'popularity' ? hits.sum : hits.steps * Math.min(1, k / realItems);
    a.hitSteps += hits.steps;
    const users = userHitsAt(top, k, seq, { fromStep: view.fromStep });
    for (let u = 0; u < seq.users; u++) {
      if (model === 'popularity') {
        a.userHits.push(users.perUser[u]);
      } else {
        // Expected distinct hits of a uniform random list: each distinct later click is in it with probability k / items.
        const later = new Set<number>();
        for (let t = view.fromStep; t < seq.steps; t++) if (seq.click[u * seq.steps + t] >= FIRST_REAL_ITEM) later.add(seq.click[u * seq.steps + t]);
        a.userHits.push(later.size * Math.min(1, k / realItems));
      }
    }
  };
  for await (const block of finnSequenceBlocks(path, read)) {
    const split = splitFinnBlock(block, options.split);
    for (const phase of ['valid', 'test'] as const) {
      score(split[phase], 'popularity', totals.popularity[phase]);
      score(split[phase], 'uniform', totals.uniform[phase]);
    }
  }
  const results: BaselineResult[] = [];
  for (const model of ['popularity', 'uniform'] as const) {
    for (const phase of ['valid', 'test'] as const) {
      const a = totals[model][phase];
      const users = a.userHits.length;
      results.push({
        model,
        phase,
        logLikelihood: a.steps > 0 ? a.llSum / a.steps : Number.NaN,
        logLikelihoodHalfWidth: a.llUsers.length > 1 ? confidenceHalfWidth(a.llUsers) : Number.NaN,
        hitRate: a.hitSteps > 0 ? a.hitSum / a.hitSteps : Number.NaN,
        userHits: users > 0 ? a.userHits.reduce((x, y) => x + y, 0) / users : Number.NaN,
        userHitsHalfWidth: users > 1 ? confidenceHalfWidth(a.userHits) : Number.NaN,
        steps: a.steps,
        users,
      });
    }
  }
  return results;
}
