/**
 * An Open Bandit log as slates, for the slate estimators (evaluation/slate-estimators.ts): a slate
 * is a run of consecutive rows with the same timestamp (one impression's positions; in the Open
 * Bandit Dataset almost every row has its own timestamp — 9,989 slates in the shipped 10,000-row men
 * sample — so the slate estimators come close to IPW per slate, and their self-normalised kin to a
 * per-position SNIPW). The log gives each row's marginal
 * probabilities only, π_b(item at k) (`propensity_score`) and π_e(item at k) (the action
 * distribution), so the slate and top-k prefix probabilities are taken as their products over the
 * slate's rows (at positions ≤ k for the prefix): exact where a policy fills the positions
 * independently, an approximation otherwise (a uniform draw without replacement differs from it by
 * the factor A/(A − 1) per later position).
 */
import type { SlateOffPolicyInputs } from '../../evaluation/slate-estimators.js';

/** The rows of an Open Bandit log (or of a batch of it whose slates are whole). */
export interface OpenBanditSlateRows {
  readonly timestamp: ArrayLike<number>;
  readonly action: ArrayLike<number>;
  readonly position: ArrayLike<number>;
  readonly reward: ArrayLike<number>;
  readonly pscore: ArrayLike<number>;
}

/**
 * The slate estimators' inputs of `rows`, with π_e per round (`pi`, rows × A × K); slates are
 * numbered from `firstSlate` in order. Also returns the number of slates.
 */
export function openBanditSlateInputs(rows: OpenBanditSlateRows, pi: Float64Array, numActions: number, numPositions: number, firstSlate = 0): { inputs: SlateOffPolicyInputs; slates: number } {
  const n = rows.reward.length;
  const A = numActions;
  const K = numPositions;
  const slateId = new Float64Array(n);
  const evaluation = new Float64Array(n);
  const behaviour = { slate: new Float64Array(n), cascade: new Float64Array(n) };
  const target = { slate: new Float64Array(n), cascade: new Float64Array(n) };
  let slates = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && rows.timestamp[end] === rows.timestamp[start]) end++;
    let pb = 1;
    let pe = 1;
    for (let j = start; j < end; j++) {
      slateId[j] = firstSlate + slates;
      evaluation[j] = pi[(j * A + rows.action[j]) * K + rows.position[j]];
      pb *= rows.pscore[j];
      pe *= evaluation[j];
    }
    for (let j = start; j < end; j++) {
      behaviour.slate[j] = pb;
      target.slate[j] = pe;
      let cb = 1;
      let ce = 1;
      for (let l = start; l < end; l++) {
        if (rows.position[l] > rows.position[j]) continue;
        cb *= rows.pscore[l];
        ce *= evaluation[l];
      }
      behaviour.cascade[j] = cb;
      target.cascade[j] = ce;
    }
    slates++;
    start = end;
  }
  return {
    inputs: {
      slateId,
      reward: rows.reward,
      position: rows.position,
      pscore: { slate: behaviour.slate, itemPosition: rows.pscore, cascade: behaviour.cascade },
      evaluationPscore: { slate: target.slate, itemPosition: evaluation, cascade: target.cascade },
    },
    slates,
  };
}
