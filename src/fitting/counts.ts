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
import type { ClassCountColumns, StoredClassCounts } from '../data/count-classes.js';
import { type FitQuality, shownRanks } from './evaluation.js';
import { MIN_PROBABILITY } from './parameters.js';
import { FittedPbm } from './pbm.js';
import type { IndexedLog } from './sessions.js';
import { FittedUbm } from './ubm.js';

/** The models fitted from counts. */
export const COUNT_MODELS = ['pbm', 'ubm'] as const;
export type CountModel = (typeof COUNT_MODELS)[number];

/** Count rows, one per (pair, rank, distance, length): a whole table or one batch of it. */
export interface CountRows {
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
}

/** What EM and the evaluation need besides the rows. */
export interface CountShape {
  /** Pairs each id stands for (absent: one each). */
  readonly multiplicity?: Float64Array;
  /** Pair ids: every `pair` of training counts is below it. */
  readonly pairs: number;
  /** Ranks the model needs: the longest list counted. */
  readonly listLength: number;
}

/**
 * Counts per (pair, rank, distance, length), in memory. A "pair" is a (query, document) pair or,
 * out of core, a class of pairs with the same counts (data/count-classes.ts), which `multiplicity`
 * says how many pairs stand for: EM gives every pair of a class the same α.
 */
export interface SlotCounts extends CountRows, CountShape {}

/** Counts too many for memory (kept in DuckDB): the rows in batches, in the same order at every call. */
export interface CountBatches extends CountShape {
  batches(): AsyncIterable<CountRows>;
}

/** Counts the engine grouped into pair classes (data/count-classes.ts), as `SlotCounts`: each class one id. */
export function classSlotCounts(counts: ClassCountColumns & { readonly multiplicity?: Float64Array }, classes: number): SlotCounts {
  let longest = 0;
  for (let i = 0; i < counts.length.length; i++) if (counts.length[i] > longest) longest = counts.length[i];
  return { ...counts, pair: counts.pairClass, pairs: classes, listLength: longest };
}

/** Counts the engine keeps in DuckDB (data/count-classes.ts), as `CountBatches`: each class one id. */
export function classCountBatches(stored: StoredClassCounts, classes: number): CountBatches {
  return {
    pairs: classes,
    listLength: stored.longest,
    multiplicity: stored.multiplicity,
    async *batches() {
      for await (const batch of stored.batches()) yield { ...batch, pair: batch.pairClass };
    },
  };
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
  const em = new CountEm(counts, options);
  for (let it = 1; it <= options.iterations; it++) {
    em.start();
    em.add(counts);
    em.finish();
    options.onIteration?.(it);
  }
  return em.model;
}

/** PBM or UBM fitted by EM on counts read in batches: one pass over the batches per iteration, the same sums in the same order as `fitFromCounts`. */
export async function fitFromCountBatches(counts: CountBatches, options: CountFitOptions): Promise<FittedPbm | FittedUbm> {
  const em = new CountEm(counts, options);
  for (let it = 1; it <= options.iterations; it++) {
    em.start();
    for await (const batch of counts.batches()) em.add(batch);
    em.finish();
    options.onIteration?.(it);
  }
  return em.model;
}

/**
 * One EM iteration on counts, a batch of rows at a time:
 *   α numerator += clicks + skips · (1 − γ) α / (1 − γ α),  denominator += impressions (of one pair of the id),
 *   γ numerator and denominator the same terms with (1 − α) γ, times the pairs the id stands for.
 */
class CountEm {
  readonly model: FittedPbm | FittedUbm;
  private readonly ubm: boolean;
  private readonly L: number;

  constructor(
    private readonly shape: CountShape,
    options: CountFitOptions,
  ) {
    const L = options.listLength ?? shape.listLength;
    if (shape.listLength > L) throw new ClickLabError(`the counts hold lists of ${shape.listLength} results, beyond the model's list length of ${L} ranks`);
    if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new ConfigError('iterations', `expected an integer ≥ 1, found ${options.iterations}`);
    if (options.model !== 'pbm' && options.model !== 'ubm') throw new ConfigError('model', `expected one of ${COUNT_MODELS.join(', ')} to fit from counts, found ${JSON.stringify(options.model)}`);
    this.model = options.model === 'pbm' ? new FittedPbm(shape.pairs, L) : new FittedUbm(shape.pairs, L);
    this.ubm = options.model === 'ubm';
    this.L = L;
  }

  start(): void {
    this.model.attractiveness.clear();
    this.model.examination.clear();
  }

  add(rows: CountRows): void {
    const { pair, rank, distance, impressions, clicks } = rows;
    const { multiplicity, pairs } = this.shape;
    const { ubm, L } = this;
    const attr = this.model.attractiveness;
    const exam = this.model.examination;
    const a = attr.value;
    const g = exam.value;
    const [aNum, aDen, gNum, gDen] = [attr.numerator, attr.denominator, exam.numerator, exam.denominator];
    for (let i = 0; i < pair.length; i++) {
      const p = pair[i];
      const k = rank[i];
      if (k >= L || (ubm && distance[i] >= L)) throw new RangeError(`counts at rank ${k + 1} (distance ${distance[i]}); the model has parameters for ${L} ranks`);
      if (p < 0 || p >= pairs) throw new RangeError(`counts of pair ${p}; training counts number their pairs 0 .. ${pairs - 1}`);
      const cell = ubm ? k * L + distance[i] : k;
      const w = multiplicity === undefined ? 1 : multiplicity[p];
      const alpha = a[p];
      const gamma = g[cell];
      const c = clicks[i];
      const ratio = (impressions[i] - c) / (1 - gamma * alpha);
      aNum[p] += c + ratio * ((1 - gamma) * alpha);
      aDen[p] += impressions[i];
      gNum[cell] += w * (c + ratio * ((1 - alpha) * gamma));
      gDen[cell] += w * impressions[i];
    }
  }

  finish(): void {
    this.model.attractiveness.finish();
    this.model.examination.finish();
  }
}

/**
 * PyClick's log-likelihood (and, for PBM, per-rank perplexity) of a model fitted from counts, on
 * counts (training or held-out; a pair id beyond the model's pairs has α = 0.5, PyClick's unseen value).
 * The sums run over count rows rather than sessions, so they equal `evaluateClickModel`'s up to rounding.
 */
export function evaluateSlotCounts(model: FittedPbm | FittedUbm, counts: SlotCounts): CountQuality {
  const sums = new CountQualitySums(model, counts.multiplicity);
  sums.add(counts);
  return sums.quality();
}

/** `evaluateSlotCounts` on counts read in batches: one pass, the same sums in the same order. */
export async function evaluateCountBatches(model: FittedPbm | FittedUbm, counts: CountBatches): Promise<CountQuality> {
  const sums = new CountQualitySums(model, counts.multiplicity);
  for await (const batch of counts.batches()) sums.add(batch);
  return sums.quality();
}

export type CountQuality = FitQuality & { readonly perplexityFromCounts: boolean };

/** The log-likelihood's and perplexity's sums over count rows, a batch at a time. */
class CountQualitySums {
  private readonly log2Sum: Float64Array;
  private readonly shown: Float64Array;
  private logLikelihood = 0;
  private sessions = 0;

  constructor(
    private readonly model: FittedPbm | FittedUbm,
    private readonly multiplicity: Float64Array | undefined,
  ) {
    this.log2Sum = new Float64Array(model.listLength);
    this.shown = new Float64Array(model.listLength);
  }

  add(counts: CountRows): void {
    const L = this.model.listLength;
    const ubm = this.model.type === 'ubm';
    const a = this.model.attractiveness.value;
    const g = this.model.examination.value;
    const { log2Sum, shown, multiplicity } = this;
    for (let i = 0; i < counts.pair.length; i++) {
      const k = counts.rank[i];
      if (k >= L) throw new RangeError(`counts at rank ${k + 1}; the model has parameters for ${L} ranks`);
      const p = counts.pair[i];
      const w = multiplicity === undefined ? 1 : multiplicity[p];
      const alpha = p >= 0 && p < a.length ? a[p] : 0.5;
      const c = g[ubm ? k * L + counts.distance[i] : k] * alpha;
      const clicks = w * counts.clicks[i];
      const skips = w * counts.impressions[i] - clicks;
      this.logLikelihood += (clicks * Math.log(Math.max(c, MIN_PROBABILITY)) + skips * Math.log(Math.max(1 - c, MIN_PROBABILITY))) / counts.length[i];
      if (k === 0) this.sessions += w * counts.impressions[i];
      log2Sum[k] += clicks * Math.log2(Math.max(c, MIN_PROBABILITY)) + skips * Math.log2(Math.max(1 - c, MIN_PROBABILITY));
      shown[k] += w * counts.impressions[i];
    }
  }

  quality(): CountQuality {
    const ubm = this.model.type === 'ubm';
    const { log2Sum, shown } = this;
    const ranks = shownRanks(shown);
    const perplexityAtRank = ubm ? [] : Array.from({ length: ranks }, (_, k) => 2 ** (-log2Sum[k] / shown[k]));
    return {
      sessions: this.sessions,
      logLikelihood: this.logLikelihood / this.sessions,
      perplexityAtRank,
      perplexity: ubm ? Number.NaN : perplexityAtRank.reduce((sum, v) => sum + v, 0) / ranks,
      perplexityFromCounts: !ubm,
    };
  }
}

/** A PBM or UBM fitted on pair classes as a model per pair: pair p gets the α of its class `pairClass[p]`. */
export function onPairs(model: FittedPbm | FittedUbm, pairClass: Int32Array): FittedPbm | FittedUbm {
  const a = model.attractiveness.value;
  const attractiveness = new Float64Array(pairClass.length);
  for (let p = 0; p < pairClass.length; p++) attractiveness[p] = a[pairClass[p]];
  return model.type === 'pbm' ? FittedPbm.restore(attractiveness, { examination: model.examination.value }) : FittedUbm.restore(attractiveness, { gamma: model.table() });
}
