import { PositionBasedModel } from '../simulation/click-models/pbm.js';
import { plainSimulator, type ClickModelFitter, type FittableClickModel, type FittedParameters, type FittedSimulator } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import type { IndexedLog } from './sessions.js';

/**
 * Position-based model (PBM) fitted by EM, as PyClick's PBM: P(C_k = 1) = γ_k · α_{q,d}, with
 * examination γ_k per rank and attractiveness α per (query, document) pair. Examination and
 * attraction are independent given the rank, so each slot's E-step is on its own:
 *   clicked:      P(A = 1 | C) = 1,                          P(E = 1 | C) = 1,
 *   not clicked:  P(A = 1 | C) = (1 − γ) α / (1 − γ α),      P(E = 1 | C) = (1 − α) γ / (1 − γ α),
 * and the M-step averages them over the slots of each pair and each rank.
 */
export class FittedPbm implements FittableClickModel {
  readonly type = 'pbm';
  readonly closedForm = false;
  readonly attractiveness: ProbabilityParameters;
  /** γ_k, the examination probability of rank k. */
  readonly examination: ProbabilityParameters;

  constructor(
    numPairs: number,
    readonly listLength: number,
  ) {
    this.attractiveness = new ProbabilityParameters(numPairs);
    this.examination = new ProbabilityParameters(listLength);
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
    const { offsets, pair, click, weight } = log;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      const w = weight === undefined ? 1 : weight[s];
      const start = offsets[s];
      const n = offsets[s + 1] - start;
      for (let k = 0; k < n; k++) {
        const p = pair[start + k];
        if (click[start + k]) {
          aNum[p] += w;
          gNum[k] += w;
        } else {
          const alpha = a[p];
          const gamma = g[k];
          const skip = 1 - gamma * alpha;
          aNum[p] += (w * ((1 - gamma) * alpha)) / skip;
          gNum[k] += (w * ((1 - alpha) * gamma)) / skip;
        }
        aDen[p] += w;
        gDen[k] += w;
      }
    }
    attr.finish();
    exam.finish();
  }

  conditionalClickProbabilities(log: IndexedLog, s: number, out: Float64Array): void {
    const start = log.offsets[s];
    const n = log.offsets[s + 1] - start;
    for (let k = 0; k < n; k++) {
      const c = this.examination.value[k] * this.attractiveness.value[log.pair[start + k]];
      out[k] = log.click[start + k] ? c : 1 - c;
    }
  }

  parameters(): FittedParameters {
    return { examination: this.examination.toArray() };
  }

  simulator(): FittedSimulator {
    return plainSimulator(new PositionBasedModel(this.examination.value));
  }

  static restore(attractiveness: ArrayLike<number>, parameters: { examination: ArrayLike<number> }): FittedPbm {
    const model = new FittedPbm(attractiveness.length, parameters.examination.length);
    model.attractiveness.value.set(attractiveness);
    model.examination.value.set(parameters.examination);
    return model;
  }
}

/** PBM's entry in the click-model registry. */
export const pbmFitter: ClickModelFitter<'pbm'> = {
  name: 'pbm',
  create: (numPairs, listLength) => new FittedPbm(numPairs, listLength),
  restore: (attractiveness, saved) => FittedPbm.restore(attractiveness, { examination: saved.probabilities('examination', saved.listLength) }),
};

/**
 * The "EM under PBM" propensity estimate: a fitted PBM's examination per rank relative to rank 1,
 * γ_k / γ_1 (0-based array), the quantity RandTop-n estimates (`estimatePropensitiesFromShuffle`)
 * and IPS weights invert.
 */
export function pbmPropensities(model: FittedPbm): number[] {
  const g = model.examination.value;
  return Array.from(g, (v) => v / g[0]);
}
