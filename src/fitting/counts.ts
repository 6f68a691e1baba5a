/**
 * Click models fitted from sufficient statistics instead of sessions. PBM's and UBM's E-step treats
 * each slot on its own given its pair, its rank and (UBM) the distance to the last click above, so a
 * log reduces to counts per (query, document, rank, distance, list length) — impressions and clicks
 * — and one EM iteration over those rows gives the same parameters as one over the sessions:
 *   α numerator += clicks + (impressions − clicks) · (1 − γ) α / (1 − γ α),   denominator += impressions,
 *   γ numerator += clicks + (impressions − clicks) · (1 − α) γ / (1 − γ α),   denominator += impressions.
 * The list length is kept in the key only for the log-likelihood, whose per-session mean over ranks
 * weighs a slot by 1 / (the session's length). Counts come from GROUP BYs in the engine, grouped
 * into classes of pairs with equal counts (data/count-classes.ts: a class is one α, its γ sums
 * weighted by its size), or, for logs in memory, from `slotCountsOfLog`. PBM's per-rank perplexity
 * follows from the same counts (its click probability at a rank needs nothing above it); UBM's needs
 * the documents above each slot, so `evaluateSlotCounts` reports it for PBM only.
 */
import { ClickLabError, ConfigError } from '../core/errors.js';
import type { ClassCountColumns } from '../data/count-classes.js';
import type { FitQuality } from './evaluation.js';
import { MIN_PROBABILITY } from './parameters.js';
import { FittedPbm } from './pbm.js';
import type { IndexedLog } from './sessions.js';
import { FittedUbm } from './ubm.js';

/** The models fitted from counts. */
export const COUNT_MODELS = ['pbm', 'ubm'] as const;
export type CountModel = (typeof COUNT_MODELS)[number];

/**
 * Counts per (pair, rank, distance, length), one row each. A "pair" is a (query, document) pair or,
 * out of core, a class of pairs with the same counts (data/count-classes.ts), which `multiplicity`
 * says how many pairs stand for: EM gives every pair of a class the same α.
 */
export interface SlotCounts {
  /** The row's pair (or class) id; negative or ≥ the model's pairs in held-out counts: a pair the model has not seen (α = 0.5). */
  readonly pair: Int32Array;
  /** 0-based rank. */
  readonly rank: Int32Array;
  /** UBM: k − k′ − 1 with k′ the 0-based rank of the last click above (−1 if none); 0 for PBM counts. */
  readonly distance: Int32Array;
  /** The number of results of the sessions counted in this row. */
  readonly length: Int32Array;
  /** Of one pair of the id (with a multiplicity) or of all the row counts. */
  readonly impressions: Float64Array;
  readonly clicks: Float64Array;
  /** Pairs each id stands for (absent: one each). */
  readonly multiplicity?: Float64Array;
  /** Pair ids: every `pair` of training counts is below it. */
  readonly pairs: number;
  /** Ranks the model needs: the longest list counted. */
  readonly listLength: number;
}

/** Counts the engine grouped into pair classes (data/count-classes.ts), as `SlotCounts`: each class one id. */
export function classSlotCounts(counts: ClassCountColumns & { readonly multiplicity?: Float64Array }, classes: number): SlotCounts {
  let longest = 0;
  for (let i = 0; i < counts.length.length; i++) if (counts.length[i] > longest) longest = counts.length[i];
  return { ...counts, pair: counts.pairClass, pairs: classes, listLength: longest };
}

/**
 * The counts of `sessions` of an indexed log (the in-memory GROUP BY), with the log's own pair ids.
 * `model` 'pbm' leaves the distance at 0 (fewer rows); 'ubm' keys by it.
 */
export function slotCountsOfLog(log: IndexedLog, sessions: Int32Array, model: CountModel): SlotCounts {
  const index = new Map<string, number>();
  const pair: number[] = [];
  const rank: number[] = [];
  const distance: number[] = [];
  const length: number[] = [];
  const impressions: number[] = [];
  const clicks: number[] = [];
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i];
    const start = log.offsets[s];
    const n = log.offsets[s + 1] - start;
    let last = -1;
    for (let k = 0; k < n; k++) {
      const p = log.pair[start + k];
      const d = model === 'ubm' ? k - last - 1 : 0;
      const key = `${p},${k},${d},${n}`;
      let row = index.get(key);
      if (row === undefined) {
        row = pair.length;
        index.set(key, row);
        pair.push(p);
        rank.push(k);
        distance.push(d);
        length.push(n);
        impressions.push(0);
        clicks.push(0);
      }
      impressions[row] += 1;
      if (log.click[start + k]) {
        clicks[row] += 1;
        last = k;
      }
    }
  }
  return {
    pair: Int32Array.from(pair),
    rank: Int32Array.from(rank),
    distance: Int32Array.from(distance),
    length: Int32Array.from(length),
    impressions: Float64Array.from(impressions),
    clicks: Float64Array.from(clicks),
    pairs: log.pairQuery.length,
    listLength: log.longestSession,
  };
}

export interface CountFitOptions {
  readonly model: CountModel;
  readonly iterations: number;
  /** Ranks of the model (default the counts' longest list). */
  readonly listLength?: number;
  /** Called after each iteration with its number (1-based). */
  readonly onIteration?: (iteration: number) => void;
}

/** PBM or UBM fitted by EM on counts, PyClick's conventions as `fitClickModel` (start at 0.5, (1 + num) / (2 + den), capped). */
export function fitFromCounts(counts: SlotCounts, options: CountFitOptions): FittedPbm | FittedUbm {
  const L = options.listLength ?? counts.listLength;
  if (counts.listLength > L) throw new ClickLabError(`the counts hold lists of ${counts.listLength} results, beyond the model's list length of ${L} ranks`);
  if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new ConfigError('iterations', `expected an integer ≥ 1, found ${options.iterations}`);
  const model = options.model === 'pbm' ? new FittedPbm(counts.pairs, L) : options.model === 'ubm' ? new FittedUbm(counts.pairs, L) : null;
  if (model === null) throw new ConfigError('model', `expected one of ${COUNT_MODELS.join(', ')} to fit from counts, found ${JSON.stringify(options.model)}`);
  const ubm = options.model === 'ubm';
  const { pair, rank, distance, impressions, clicks, multiplicity } = counts;
  const rows = pair.length;
  // Per row once: its examination cell, skips and weight (the pairs it stands for); the denominators
  // (impressions per pair and per cell) do not change between iterations.
  const cellOf = new Int32Array(rows);
  const skipsOf = new Float64Array(rows);
  const weightOf = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = rank[i];
    if (k >= L || (ubm && distance[i] >= L)) throw new RangeError(`counts at rank ${k + 1} (distance ${distance[i]}); the model has parameters for ${L} ranks`);
    if (pair[i] < 0 || pair[i] >= counts.pairs) throw new RangeError(`counts of pair ${pair[i]}; training counts number their pairs 0 .. ${counts.pairs - 1}`);
    cellOf[i] = ubm ? k * L + distance[i] : k;
    skipsOf[i] = impressions[i] - clicks[i];
    weightOf[i] = multiplicity === undefined ? 1 : multiplicity[pair[i]];
  }
  const attr = model.attractiveness;
  const exam = model.examination;
  attr.clear();
  exam.clear();
  for (let i = 0; i < rows; i++) {
    attr.denominator[pair[i]] += impressions[i];
    exam.denominator[cellOf[i]] += weightOf[i] * impressions[i];
  }
  const a = attr.value;
  const g = exam.value;
  const aNum = attr.numerator;
  const gNum = exam.numerator;
  for (let it = 1; it <= options.iterations; it++) {
    aNum.fill(0);
    gNum.fill(0);
    for (let i = 0; i < rows; i++) {
      const p = pair[i];
      const cell = cellOf[i];
      const alpha = a[p];
      const gamma = g[cell];
      const c = clicks[i];
      const ratio = skipsOf[i] / (1 - gamma * alpha);
      aNum[p] += c + ratio * ((1 - gamma) * alpha);
      gNum[cell] += weightOf[i] * (c + ratio * ((1 - alpha) * gamma));
    }
    attr.finish();
    exam.finish();
    options.onIteration?.(it);
  }
  return model;
}

/**
 * PyClick's log-likelihood (and, for PBM, per-rank perplexity) of a model fitted from counts, on
 * counts (training or held-out; a pair id beyond the model's pairs has α = 0.5, PyClick's unseen value).
 * The sums run over count rows rather than sessions, so they equal `evaluateClickModel`'s up to rounding.
 */
export function evaluateSlotCounts(model: FittedPbm | FittedUbm, counts: SlotCounts): FitQuality & { readonly perplexityFromCounts: boolean } {
  const L = model.listLength;
  const ubm = model.type === 'ubm';
  const a = model.attractiveness.value;
  const g = model.examination.value;
  const log2Sum = new Float64Array(L);
  const shown = new Float64Array(L);
  let logLikelihood = 0;
  let sessions = 0;
  for (let i = 0; i < counts.pair.length; i++) {
    const k = counts.rank[i];
    if (k >= L) throw new RangeError(`counts at rank ${k + 1}; the model has parameters for ${L} ranks`);
    const p = counts.pair[i];
    const w = counts.multiplicity === undefined ? 1 : counts.multiplicity[p];
    const alpha = p >= 0 && p < a.length ? a[p] : 0.5;
    const c = g[ubm ? k * L + counts.distance[i] : k] * alpha;
    const clicks = w * counts.clicks[i];
    const skips = w * counts.impressions[i] - clicks;
    logLikelihood += (clicks * Math.log(Math.max(c, MIN_PROBABILITY)) + skips * Math.log(Math.max(1 - c, MIN_PROBABILITY))) / counts.length[i];
    if (k === 0) sessions += w * counts.impressions[i];
    log2Sum[k] += clicks * Math.log2(Math.max(c, MIN_PROBABILITY)) + skips * Math.log2(Math.max(1 - c, MIN_PROBABILITY));
    shown[k] += w * counts.impressions[i];
  }
  let ranks = L;
  while (ranks > 0 && shown[ranks - 1] === 0) ranks--;
  const perplexityAtRank = ubm ? [] : Array.from({ length: ranks }, (_, k) => 2 ** (-log2Sum[k] / shown[k]));
  return {
    sessions,
    logLikelihood: logLikelihood / sessions,
    perplexityAtRank,
    perplexity: ubm ? Number.NaN : perplexityAtRank.reduce((sum, v) => sum + v, 0) / ranks,
    perplexityFromCounts: !ubm,
  };
}

/** A PBM or UBM fitted on pair classes as a model per pair: pair p gets the α of its class `pairClass[p]`. */
export function onPairs(model: FittedPbm | FittedUbm, pairClass: Int32Array): FittedPbm | FittedUbm {
  const a = model.attractiveness.value;
  const attractiveness = new Float64Array(pairClass.length);
  for (let p = 0; p < pairClass.length; p++) attractiveness[p] = a[pairClass[p]];
  return model.type === 'pbm' ? FittedPbm.restore(attractiveness, { examination: model.examination.value }) : FittedUbm.restore(attractiveness, { gamma: model.table() });
}
