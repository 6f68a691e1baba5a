import type { RandomStream } from '../../core/random.js';
import type { ClickModel, SlotOutputs } from '../click-model.js';
import { EYE_TRACKING_PROFILE } from '../examination.js';

/**
 * User browsing model (UBM; Dupret & Piwowarski 2008): examination depends on the rank and on the
 * distance to the last click above. With 1-based rank r, r' the rank of the last click above r
 * (0 if none) and d = r − r' ∈ 1..r:
 *   P(E_r = 1 | clicks above) = γ_{r,d},  P(C_r = 1 | E_r = 1) = a_r,  so  P(C_r = 1 | clicks above) = γ_{r,d} · a_r.
 * `gamma` is a square table stored 0-based, gamma[r − 1][d − 1] (only d ≤ r is reachable); ranks and
 * distances past its size reuse its last row and column. examinationProbability = γ_{r,d}: given the
 * clicks above, examination is independent of everything else.
 */
export class UserBrowsingModel implements ClickModel {
  readonly name = 'ubm';
  /** Row-major size × size copy of the table. */
  private readonly table: Float64Array;
  private readonly size: number;

  constructor(gamma: readonly ArrayLike<number>[]) {
    this.size = gamma.length;
    this.table = new Float64Array(this.size * this.size);
    for (let i = 0; i < this.size; i++) {
      if (gamma[i].length !== this.size) throw new RangeError(`UBM table row ${i} has ${gamma[i].length} entries; expected ${this.size} (a square table)`);
      this.table.set(gamma[i], i * this.size);
    }
  }

  simulate(relevance: Float32Array, start: number, length: number, rng: RandomStream, out: SlotOutputs): void {
    const last = this.size - 1;
    let lastClick = -1; // 0-based rank of the last click, −1 for none (r' = 0)
    for (let k = 0; k < length; k++) {
      const row = start + k;
      const gamma = this.table[Math.min(k, last) * this.size + Math.min(k - lastClick - 1, last)];
      // Draw examination and attraction separately so the hidden truth records examination.
      const examined = rng.uniform() < gamma;
      const attracted = rng.uniform() < relevance[row];
      out.examinationProbability[row] = gamma;
      out.examined[row] = examined ? 1 : 0;
      out.click[row] = examined && attracted ? 1 : 0;
      if (examined && attracted) lastClick = k;
    }
  }

  /**
   * By dynamic programming over the rank of the last click: P(last click so far at j) for
   * j = −1 (none) .. k − 1, updated rank by rank, O(length²).
   */
  clickProbabilities(relevance: ArrayLike<number>, length: number, out: Float64Array): void {
    const last = this.size - 1;
    const lastClickAt = new Float64Array(length + 1); // index j + 1
    lastClickAt[0] = 1;
    for (let k = 0; k < length; k++) {
      let clicked = 0;
      for (let j = -1; j < k; j++) {
        const p = lastClickAt[j + 1];
        if (p === 0) continue;
        const c = this.table[Math.min(k, last) * this.size + Math.min(k - j - 1, last)] * relevance[k];
        clicked += p * c;
        lastClickAt[j + 1] = p * (1 - c);
      }
      lastClickAt[k + 1] = clicked;
      out[k] = clicked;
    }
  }
}

/**
 * The default UBM table: γ_{r,d} = v_d, the eye-tracking profile (see `examination.ts`) indexed by
 * the distance to the last click. Without a click above, d = r, so the table's diagonal is PBM's
 * eye-tracking κ_r; a click restarts the scan, as if the result below it were the top of a new
 * page, so examination decays with the distance from the last click rather than from the top.
 */
export function defaultUbmGamma(): Float64Array[] {
  const size = EYE_TRACKING_PROFILE.length;
  return Array.from({ length: size }, () => Float64Array.from(EYE_TRACKING_PROFILE));
}
