/**
 * Click models fitted from sufficient statistics instead of sessions. PBM's and UBM's E-step treats
 * each slot on its own given its pair, its rank and (UBM) the distance to the last click above, so a
 * log reduces to counts per (query, document, rank, distance, list length) — impressions and clicks
 * — and one EM iteration over those rows gives the same parameters as one over the sessions:
 *   α numerator += clicks + (impressions − clicks) · (1 − γ) α / (1 − γ α),   denominator += impressions,
 *   γ numerator += clicks + (impressions − clicks) · (1 − α) γ / (1 − γ α),   denominator += impressions.
 * The list length is kept in the key only for the log-likelihood, whose per-session mean over ranks
 * weighs a slot by 1 / (the session's length). Counts come from a GROUP BY in the engine
 * (data/engine.ts) or, for logs in memory, from `slotCountsOfLog`. PBM's per-rank perplexity
 * follows from the same counts (its click probability at a rank needs nothing above it); UBM's needs
 * the documents above each slot, so `evaluateSlotCounts` reports it for PBM only.
 */
import { ClickLabError, ConfigError } from '../core/errors.js';
import type { SlotCountColumns } from '../data/engine.js';
import type { FitQuality } from './evaluation.js';
import { MIN_PROBABILITY } from './parameters.js';
import { FittedPbm } from './pbm.js';
import type { IndexedLog } from './sessions.js';
import { FittedUbm } from './ubm.js';

/** The models fitted from counts. */
export const COUNT_MODELS = ['pbm', 'ubm'] as const;
export type CountModel = (typeof COUNT_MODELS)[number];

/** Counts per (pair, rank, distance, length), one row each; pairs are dense ids into `pairQuery` / `pairDocument`. */
export interface SlotCounts {
  readonly pair: Int32Array;
  /** 0-based rank. */
  readonly rank: Int32Array;
  /** UBM: k − k′ − 1 with k′ the 0-based rank of the last click above (−1 if none); 0 for PBM counts. */
  readonly distance: Int32Array;
  /** The number of results of the sessions counted in this row. */
  readonly length: Int32Array;
  readonly impressions: Float64Array;
  readonly clicks: Float64Array;
  readonly pairQuery: Int32Array;
  readonly pairDocument: Int32Array;
  /** Ranks the model needs: the longest list counted. */
  readonly listLength: number;
}

/** Raw counts keyed by query and document ids (what the engine's GROUP BY returns), before pairs are numbered. */
export type RawSlotCounts = Omit<SlotCountColumns, 'sessions'>;

/**
 * Numbers the (query, document) pairs of raw counts. With `pairsOf` (the training counts), pairs are
 * looked up there and a pair it lacks gets an id ≥ its number of pairs (`unseen` counts its
 * impressions): what held-out counts need, scored with the training model's parameters (0.5 for those).
 */
export function numberPairs(raw: RawSlotCounts, pairsOf?: SlotCounts): SlotCounts & { readonly unseen: number } {
  if (pairsOf === undefined && sortedByPair(raw)) return numberSortedPairs(raw);
  const ids = new Map<number, Map<number, number>>();
  const pairQuery: number[] = [];
  const pairDocument: number[] = [];
  const add = (q: number, d: number): number => {
    let byDoc = ids.get(q);
    if (byDoc === undefined) ids.set(q, (byDoc = new Map()));
    let id = byDoc.get(d);
    if (id === undefined) {
      id = pairQuery.length;
      byDoc.set(d, id);
      pairQuery.push(q);
      pairDocument.push(d);
    }
    return id;
  };
  if (pairsOf) for (let p = 0; p < pairsOf.pairQuery.length; p++) add(pairsOf.pairQuery[p], pairsOf.pairDocument[p]);
  const known = pairQuery.length;
  const pair = new Int32Array(raw.query.length);
  let longest = 0;
  let unseen = 0;
  for (let i = 0; i < pair.length; i++) {
    pair[i] = add(raw.query[i], raw.document[i]);
    if (pairsOf && pair[i] >= known) unseen += raw.impressions[i];
    if (raw.length[i] > longest) longest = raw.length[i];
  }
  return {
    pair,
    rank: raw.rank,
    distance: raw.distance,
    length: raw.length,
    impressions: raw.impressions,
    clicks: raw.clicks,
    pairQuery: Int32Array.from(pairQuery),
    pairDocument: Int32Array.from(pairDocument),
    listLength: longest,
    unseen,
  };
}

/** Whether raw counts come ordered by (query, document), as the engine returns them. */
function sortedByPair(raw: RawSlotCounts): boolean {
  const { query, document } = raw;
  for (let i = 1; i < query.length; i++) if (query[i] < query[i - 1] || (query[i] === query[i - 1] && document[i] < document[i - 1])) return false;
  return true;
}

/** `numberPairs` of counts ordered by (query, document): one linear scan, pairs numbered in that order. */
function numberSortedPairs(raw: RawSlotCounts): SlotCounts & { readonly unseen: number } {
  const n = raw.query.length;
  const pair = new Int32Array(n);
  let pairs = 0;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && (raw.query[i] !== raw.query[i - 1] || raw.document[i] !== raw.document[i - 1])) pairs++;
    pair[i] = pairs;
    if (raw.length[i] > longest) longest = raw.length[i];
  }
  if (n > 0) pairs++;
  const pairQuery = new Int32Array(pairs);
  const pairDocument = new Int32Array(pairs);
  for (let i = 0; i < n; i++) {
    pairQuery[pair[i]] = raw.query[i];
    pairDocument[pair[i]] = raw.document[i];
  }
  return { pair, rank: raw.rank, distance: raw.distance, length: raw.length, impressions: raw.impressions, clicks: raw.clicks, pairQuery, pairDocument, listLength: longest, unseen: 0 };
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
    pairQuery: log.pairQuery,
    pairDocument: log.pairDocument,
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
  const model = options.model === 'pbm' ? new FittedPbm(counts.pairQuery.length, L) : options.model === 'ubm' ? new FittedUbm(counts.pairQuery.length, L) : null;
  if (model === null) throw new ConfigError('model', `expected one of ${COUNT_MODELS.join(', ')} to fit from counts, found ${JSON.stringify(options.model)}`);
  const ubm = options.model === 'ubm';
  const { pair, rank, distance, impressions, clicks } = counts;
  const rows = pair.length;
  // Per row once: its examination cell and skips; the denominators (impressions per pair and per cell) do not change between iterations.
  const cellOf = new Int32Array(rows);
  const skipsOf = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = rank[i];
    if (k >= L || (ubm && distance[i] >= L)) throw new RangeError(`counts at rank ${k + 1} (distance ${distance[i]}); the model has parameters for ${L} ranks`);
    cellOf[i] = ubm ? k * L + distance[i] : k;
    skipsOf[i] = impressions[i] - clicks[i];
  }
  const attr = model.attractiveness;
  const exam = model.examination;
  attr.clear();
  exam.clear();
  for (let i = 0; i < rows; i++) {
    attr.denominator[pair[i]] += impressions[i];
    exam.denominator[cellOf[i]] += impressions[i];
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
      gNum[cell] += c + ratio * ((1 - alpha) * gamma);
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
    const alpha = p < a.length ? a[p] : 0.5;
    const c = g[ubm ? k * L + counts.distance[i] : k] * alpha;
    const clicks = counts.clicks[i];
    const skips = counts.impressions[i] - clicks;
    logLikelihood += (clicks * Math.log(Math.max(c, MIN_PROBABILITY)) + skips * Math.log(Math.max(1 - c, MIN_PROBABILITY))) / counts.length[i];
    if (k === 0) sessions += counts.impressions[i];
    log2Sum[k] += clicks * Math.log2(Math.max(c, MIN_PROBABILITY)) + skips * Math.log2(Math.max(1 - c, MIN_PROBABILITY));
    shown[k] += counts.impressions[i];
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
