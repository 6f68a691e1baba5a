import type { FittableClickModel, FittedSimulator } from './model.js';
import { MIN_PROBABILITY } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/** PyClick's quality measures of a click model on a set of sessions. */
export interface FitQuality {
  readonly sessions: number;
  /**
   * Mean over sessions of the mean over ranks of ln P(C_k = c_k | C_0 .. C_{k−1}) (natural log;
   * PyClick's LogLikelihood). Higher is better; 0 is a perfect prediction.
   */
  readonly logLikelihood: number;
  /**
   * Perplexity at rank k: 2^(−mean over sessions showing rank k of log₂ P(C_k = c_k)), with the
   * unconditional click probability P(C_k = 1) (PyClick's Perplexity). 1 is perfect, 2 is a coin.
   */
  readonly perplexityAtRank: number[];
  /** The arithmetic mean of the per-rank perplexities. */
  readonly perplexity: number;
}

/**
 * Log-likelihood and perplexity of `model` on `sessions` of `log`, by PyClick's definitions.
 * PyClick divides every rank's sum by the number of sessions (its lists all have 10 results);
 * here each rank's sum is divided by the number of sessions that show that rank, which is the same
 * for lists of one length. A probability below PyClick's PROB_MIN (10⁻⁶: only the cascade model's
 * clicks below the first one, which it gives probability 0) is taken as PROB_MIN.
 */
export function evaluateClickModel(model: FittableClickModel, log: IndexedLog, sessions: Int32Array): FitQuality {
  const sums = new QualitySums(model);
  sums.add(log, sessions);
  return sums.quality();
}

/**
 * `evaluateClickModel`'s sums, added batch by batch (a log streamed in batches of sessions, each
 * batch its own `IndexedLog` over the model's pair ids): the same sums in the same order, so the
 * same quality as over one log holding every batch.
 */
export class QualitySums {
  private readonly conditional: Float64Array;
  private readonly full: Float64Array;
  private readonly attractiveness: Float64Array;
  private readonly log2Sum: Float64Array;
  private readonly shown: Float64Array;
  private readonly simulator: FittedSimulator;
  private logLikelihood = 0;
  private total = 0;

  constructor(private readonly model: FittableClickModel) {
    const L = model.listLength;
    this.conditional = new Float64Array(L);
    this.full = new Float64Array(L);
    this.attractiveness = new Float64Array(L);
    this.log2Sum = new Float64Array(L);
    this.shown = new Float64Array(L);
    this.simulator = model.simulator();
  }

  /** Adds `sessions` of `log`. */
  add(log: IndexedLog, sessions: Int32Array): void {
    const { model, conditional, full, attractiveness, log2Sum, shown, simulator } = this;
    const L = model.listLength;
    const a = model.attractiveness.value;
    const weight = log.weight;
    let logLikelihood = this.logLikelihood;
    let total = this.total;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      // A weighted session (a group of identical sessions) counts as that many sessions.
      const w = weight === undefined ? 1 : weight[s];
      total += w;
      const start = log.offsets[s];
      const n = log.offsets[s + 1] - start;
      if (n > L) throw new RangeError(`session ${s} shows ${n} results; the model has parameters for ${L} ranks`);
      model.conditionalClickProbabilities(log, s, conditional);
      let sessionSum = 0;
      for (let k = 0; k < n; k++) sessionSum += Math.log(Math.max(conditional[k], MIN_PROBABILITY));
      logLikelihood += (w * sessionSum) / n;
      for (let k = 0; k < n; k++) attractiveness[k] = a[log.pair[start + k]];
      simulator.prepare(log.pair, start, n);
      simulator.clickModel.clickProbabilities(attractiveness, n, full);
      for (let k = 0; k < n; k++) {
        const p = log.click[start + k] ? full[k] : 1 - full[k];
        log2Sum[k] += w * Math.log2(Math.max(p, MIN_PROBABILITY));
        shown[k] += w;
      }
    }
    this.logLikelihood = logLikelihood;
    this.total = total;
  }

  /** The quality of the sessions added so far. */
  quality(): FitQuality {
    const { log2Sum, shown, total } = this;
    const ranks = shownRanks(shown);
    const perplexityAtRank = Array.from({ length: ranks }, (_, k) => 2 ** (-log2Sum[k] / shown[k]));
    return {
      sessions: total,
      logLikelihood: this.logLikelihood / total,
      perplexityAtRank,
      perplexity: perplexityAtRank.reduce((sum, p) => sum + p, 0) / ranks,
    };
  }
}

/** Ranks up to the last one any session showed (trailing ranks no session reached left out). */
export function shownRanks(shown: Float64Array): number {
  let ranks = shown.length;
  while (ranks > 0 && shown[ranks - 1] === 0) ranks--;
  return ranks;
}
