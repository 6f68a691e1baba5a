import { UserBrowsingModel } from '../simulation/click-models/ubm.js';
import { plainSimulator, type ClickModelFitter, type FittableClickModel, type FittedParameters, type FittedSimulator } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/**
 * User browsing model (UBM) fitted by EM, as PyClick's UBM: P(C_k = 1 | clicks above) = γ_{k,d} · α_{q,d},
 * examination γ depending on the rank k and on the distance to the last click above. Stored as
 * clicklab's UBM simulator stores it (`UserBrowsingModel`): 0-based rank k and distance index
 * k − k′ − 1 with k′ the 0-based rank of the last click above (−1 if none), a listLength² table.
 * (PyClick indexes by the previous click's rank, with "no click" as rank M − 1: the same parameters
 * for lists of one length M.) Given the clicks above, examination and attraction are independent,
 * so the E-step is PBM's with γ_{k,d} in place of γ_k:
 *   not clicked:  P(A = 1 | C) = (1 − γ) α / (1 − γ α),  P(E = 1 | C) = (1 − α) γ / (1 − γ α).
 */
export class FittedUbm implements FittableClickModel {
  readonly type = 'ubm';
  readonly closedForm = false;
  readonly attractiveness: ProbabilityParameters;
  /** Row-major listLength × listLength table γ[k · listLength + (k − k′ − 1)]. */
  readonly examination: ProbabilityParameters;

  constructor(
    numPairs: number,
    readonly listLength: number,
  ) {
    this.attractiveness = new ProbabilityParameters(numPairs);
    this.examination = new ProbabilityParameters(listLength * listLength);
  }

  iterate(log: IndexedLog, sessions: Int32Array): void {
    const attr = this.attractiveness;
    const exam = this.examination;
    attr.clear();
    exam.clear();
    const a = attr.value;
    const g = exam.value;
    const aNum = attr.numerator;
    const aDen = attr.denominator;
    const gNum = exam.numerator;
    const gDen = exam.denominator;
    const L = this.listLength;
    const { offsets, pair, click, weight } = log;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      const w = weight === undefined ? 1 : weight[s];
      const start = offsets[s];
      const n = offsets[s + 1] - start;
      let last = -1;
      for (let k = 0; k < n; k++) {
        const p = pair[start + k];
        const cell = k * L + (k - last - 1);
        if (click[start + k]) {
          aNum[p] += w;
          gNum[cell] += w;
          last = k;
        } else {
          const alpha = a[p];
          const gamma = g[cell];
          const skip = 1 - gamma * alpha;
          aNum[p] += (w * ((1 - gamma) * alpha)) / skip;
          gNum[cell] += (w * ((1 - alpha) * gamma)) / skip;
        }
        aDen[p] += w;
        gDen[cell] += w;
      }
    }
    attr.finish();
    exam.finish();
  }

  conditionalClickProbabilities(log: IndexedLog, s: number, out: Float64Array): void {
    const start = log.offsets[s];
    const n = log.offsets[s + 1] - start;
    let last = -1;
    for (let k = 0; k < n; k++) {
      const clicked = log.click[start + k] === 1;
      const c = this.examination.value[k * this.listLength + (k - last - 1)] * this.attractiveness.value[log.pair[start + k]];
      out[k] = clicked ? c : 1 - c;
      if (clicked) last = k;
    }
  }

  /** The examination table as rows: gamma[k][k − k′ − 1]. */
  table(): number[][] {
    const L = this.listLength;
    return Array.from({ length: L }, (_, k) => Array.from(this.examination.value.subarray(k * L, (k + 1) * L)));
  }

  parameters(): FittedParameters {
    return { gamma: this.table() };
  }

  simulator(): FittedSimulator {
    return plainSimulator(new UserBrowsingModel(this.table()));
  }

  static restore(attractiveness: ArrayLike<number>, parameters: { gamma: number[][] }): FittedUbm {
    const model = new FittedUbm(attractiveness.length, parameters.gamma.length);
    model.attractiveness.value.set(attractiveness);
    parameters.gamma.forEach((row, k) => {
      model.examination.value.set(row, k * parameters.gamma.length);
    });
    return model;
  }
}

/** UBM's entry in the click-model registry. */
export const ubmFitter: ClickModelFitter<'ubm'> = {
  name: 'ubm',
  create: (numPairs, listLength) => new FittedUbm(numPairs, listLength),
  restore: (attractiveness, saved) => FittedUbm.restore(attractiveness, { gamma: saved.squareTable('gamma', saved.listLength) }),
};
