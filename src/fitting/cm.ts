import { CascadeModel } from '../simulation/click-models/cascade.js';
import { CascadeFamilyModel } from './cascade-family.js';
import { plainSimulator, type ClickModelFitter, type FittedParameters, type FittedSimulator } from './model.js';
import type { IndexedLog } from './sessions.js';

/**
 * Cascade model (CM; Craswell et al. 2008), fitted as PyClick fits it, by maximum likelihood in
 * closed form: every rank down to the first click is examined and nothing below it is, so
 *   α_{q,d} = (1 + clicks) / (2 + impressions at or above the session's first click).
 * Clicks below the first one, which the model cannot produce, are ignored in the fit; in the
 * evaluation their probability is 0, which the evaluation floors at PyClick's PROB_MIN.
 */
export class FittedCascade extends CascadeFamilyModel {
  readonly type = 'cm';
  override readonly closedForm = true;

  protected continueAfterSkip(): number {
    return 1;
  }

  protected continuation(_log: IndexedLog, _start: number, n: number): void {
    this.afterClick.fill(0, 0, n);
  }

  /** Counts every slot down to the session's first click (the closed form; nothing of its own to clear or finish). */
  override accumulateSessions(log: IndexedLog, sessions: Int32Array): void {
    const attr = this.attractiveness;
    const { offsets, pair, click, weight } = log;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      const w = weight === undefined ? 1 : weight[s];
      const start = offsets[s];
      const end = offsets[s + 1];
      for (let row = start; row < end; row++) {
        attr.numerator[pair[row]] += w * click[row];
        attr.denominator[pair[row]] += w;
        if (click[row]) break;
      }
    }
  }

  protected clearOwn(): void {}
  protected accumulate(): void {}
  protected finishOwn(): void {}

  parameters(): FittedParameters {
    return {};
  }

  simulator(): FittedSimulator {
    return plainSimulator(new CascadeModel());
  }

  static restore(attractiveness: ArrayLike<number>, listLength: number): FittedCascade {
    const model = new FittedCascade(attractiveness.length, listLength);
    model.attractiveness.value.set(attractiveness);
    return model;
  }
}

/** The cascade model's entry in the click-model registry (fitted under PyClick's name, `cm`). */
export const cascadeFitter: ClickModelFitter<'cm'> = {
  name: 'cm',
  create: (numPairs, listLength) => new FittedCascade(numPairs, listLength),
  restore: (attractiveness, saved) => FittedCascade.restore(attractiveness, saved.listLength),
};
