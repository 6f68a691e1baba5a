import type { FittableClickModel } from './model.js';
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
  const L = model.listLength;
  const conditional = new Float64Array(L);
  const full = new Float64Array(L);
  const attractiveness = new Float64Array(L);
  const log2Sum = new Float64Array(L);
  const shown = new Float64Array(L);
  const simulator = model.simulator();
  const a = model.attractiveness.value;
  const weight = log.weight;
  let logLikelihood = 0;
  let total = 0;
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
  const ranks = shownRanks(shown);
  const perplexityAtRank = Array.from({ length: ranks }, (_, k) => 2 ** (-log2Sum[k] / shown[k]));
  return {
    sessions: total,
    logLikelihood: logLikelihood / total,
    perplexityAtRank,
    perplexity: perplexityAtRank.reduce((sum, p) => sum + p, 0) / ranks,
  };
}

function shownRanks(shown: Float64Array): number {
  let ranks = shown.length;
  while (ranks > 0 && shown[ranks - 1] === 0) ranks--;
  return ranks;
}
