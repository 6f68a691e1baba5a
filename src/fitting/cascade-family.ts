import type { FittableClickModel, FittedParameters, FittedSimulator } from './model.js';
import { ProbabilityParameters } from './parameters.js';
import { lastClickRank, type IndexedLog } from './sessions.js';

/**
 * The exact E-step shared by the cascade family (DCM, DBN, SDBN, CCM; CM uses its probabilities). The
 * user examines rank 0 and scans down; at an examined rank k they click with the attractiveness α_k;
 * after a click they go on with probability c_k (DCM: λ_k; DBN: γ (1 − σ_k); CCM: τ2 (1 − α_k) + τ3 α_k),
 * after a skip with g (DCM: 1; DBN: γ; CCM: τ1). Every rank down to the last click l is examined, so the only hidden part of a
 * session is how far the user went below l. With
 *   q_j = P(no click at ranks ≥ j | E_j = 1) = (1 − α_j)(1 − g + g q_{j+1}),  q_n = 1,
 * the posteriors given all the clicks C are, for ranks j > l:
 *   P(E_{l+1} = 1 | C) = c_l q_{l+1} / (1 − c_l + c_l q_{l+1})         (c_{−1} = 1: E_0 = 1),
 *   P(E_{j+1} = 1 | C) = P(E_j = 1 | C) (1 − α_j) g q_{j+1} / q_j,
 *   P(A_j = 1 | C)     = (1 − P(E_j = 1 | C)) α_j                          (an examined skip has A_j = 0),
 * and P(A_k = 1 | C) = C_k at ranks k ≤ l. These are exact, where PyClick's DBN takes the
 * examination probability unconditioned on the clicks above in its attractiveness update.
 * A subclass defines c_k and g (`continuation`, `continueAfterSkip`) and adds its own expected
 * counts (`accumulate`); the attractiveness update and the probabilities are here.
 */
export abstract class CascadeFamilyModel implements FittableClickModel {
  abstract readonly type: string;
  readonly closedForm: boolean = false;
  readonly attractiveness: ProbabilityParameters;
  /** c_k of the session being processed (length listLength). */
  protected readonly afterClick: Float64Array;
  /** q_j (length listLength + 1). */
  protected readonly tailNoClick: Float64Array;
  /** P(E_j = 1 | C) (length listLength + 1; index n is the virtual rank below the list). */
  protected readonly examined: Float64Array;

  constructor(
    numPairs: number,
    readonly listLength: number,
  ) {
    this.attractiveness = new ProbabilityParameters(numPairs);
    this.afterClick = new Float64Array(listLength);
    this.tailNoClick = new Float64Array(listLength + 1);
    this.examined = new Float64Array(listLength + 1);
  }

  /** g, the probability of going on after examining and skipping a result. */
  protected abstract continueAfterSkip(): number;
  /** Writes c_k for the session's ranks 0 .. n − 1 to `this.afterClick`. */
  protected abstract continuation(log: IndexedLog, start: number, n: number): void;
  /** Clears the subclass's counts. */
  protected abstract clearOwn(): void;
  /** Adds the session's expected counts, times its weight w (`IndexedLog.weight`), to the subclass's parameters (l = last click, −1 if none). */
  protected abstract accumulate(log: IndexedLog, start: number, n: number, l: number, w: number): void;
  /** Finishes the subclass's M-step. */
  protected abstract finishOwn(): void;
  abstract parameters(): FittedParameters;
  abstract simulator(): FittedSimulator;

  /** One EM iteration over `sessions` of `log`: `startIteration`, `accumulateSessions`, `finishIteration`. */
  iterate(log: IndexedLog, sessions: Int32Array): void {
    this.startIteration();
    this.accumulateSessions(log, sessions);
    this.finishIteration();
  }

  /** Clears the expected counts (an iteration over batches of sessions starts here). */
  startIteration(): void {
    this.attractiveness.clear();
    this.clearOwn();
  }

  /** Adds the E-step's expected counts of `sessions` of `log` (one batch; the values stay those of the last `finishIteration`). */
  accumulateSessions(log: IndexedLog, sessions: Int32Array): void {
    const attr = this.attractiveness;
    const a = attr.value;
    const aNum = attr.numerator;
    const aDen = attr.denominator;
    const e = this.examined;
    const { offsets, pair, click, weight } = log;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      const w = weight === undefined ? 1 : weight[s];
      const start = offsets[s];
      const n = offsets[s + 1] - start;
      const l = lastClickRank(click, start, n);
      this.continuation(log, start, n);
      this.tailPosterior(log, start, n, l);
      for (let k = 0; k < n; k++) {
        const p = pair[start + k];
        aNum[p] += w * (k <= l ? click[start + k] : (1 - e[k]) * a[p]);
        aDen[p] += w;
      }
      this.accumulate(log, start, n, l, w);
    }
  }

  /** The M-step: the values from the counts accumulated since `startIteration`. */
  finishIteration(): void {
    this.attractiveness.finish();
    this.finishOwn();
  }

  /** Fills q_j and P(E_j = 1 | C) for j = l + 1 .. n (see the class comment). */
  private tailPosterior(log: IndexedLog, start: number, n: number, l: number): void {
    const a = this.attractiveness.value;
    const g = this.continueAfterSkip();
    const q = this.tailNoClick;
    const e = this.examined;
    q[n] = 1;
    for (let j = n - 1; j > l; j--) q[j] = (1 - a[log.pair[start + j]]) * (1 - g + g * q[j + 1]);
    const c = l < 0 ? 1 : this.afterClick[l];
    const noClickBelow = 1 - c + c * q[l + 1];
    e[l + 1] = noClickBelow > 0 ? (c * q[l + 1]) / noClickBelow : c;
    for (let j = l + 1; j < n; j++) e[j + 1] = q[j] > 0 ? (e[j] * (1 - a[log.pair[start + j]]) * g * q[j + 1]) / q[j] : 0;
  }

  /**
   * P(C_k = c_k | clicks above), by the cascade family's filter (as `CascadingModel`'s examination
   * probability): e_0 = 1; after a click e ← c_k, after a skip e ← g e (1 − α_k) / (1 − e α_k).
   */
  conditionalClickProbabilities(log: IndexedLog, s: number, out: Float64Array): void {
    const start = log.offsets[s];
    const n = log.offsets[s + 1] - start;
    const a = this.attractiveness.value;
    const g = this.continueAfterSkip();
    this.continuation(log, start, n);
    let e = 1;
    for (let k = 0; k < n; k++) {
      const alpha = a[log.pair[start + k]];
      if (log.click[start + k]) {
        out[k] = alpha * e;
        e = this.afterClick[k];
      } else {
        const skip = 1 - alpha * e;
        out[k] = skip;
        e = skip > 0 ? (g * e * (1 - alpha)) / skip : 0;
      }
    }
  }
}
