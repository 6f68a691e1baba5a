import { ConfigError } from '../core/errors.js';

/**
 * Examination (position-bias) profiles: the probability that a user looks at rank k (1-based).
 *
 * - `eye-tracking`: v_k^η with v = [0.68, 0.61, 0.48, 0.34, 0.28, 0.20, 0.11, 0.10, 0.08, 0.06]
 *   (Joachims et al.'s eye-tracking study, as used by the DLA paper and ULTRA); ranks past 10 reuse v_10.
 * - `inverse-rank`: (1/k)^η (Joachims et al. 2017; Open Bandit Pipeline).
 * - `exponential`: (0.85^(k − 1))^η, so rank 1 → 1 (the geometric decay of SARDINE).
 * - `baidu-ultr`: b_k^η with b = [1, 0.674, 0.414, 0.293, 0.208, 0.171, 0.136, 0.117, 0.084, 0.058], the
 *   curve estimated on the real Baidu-ULTR log (global all-pairs intervention harvesting); ranks past 10 reuse b_10.
 *
 * η sets the severity of the bias: η = 0 removes it, η = 2 squares every probability.
 */
export const EYE_TRACKING_PROFILE = [0.68, 0.61, 0.48, 0.34, 0.28, 0.2, 0.11, 0.1, 0.08, 0.06] as const;

export const BAIDU_ULTR_PROFILE = [1, 0.674, 0.414, 0.293, 0.208, 0.171, 0.136, 0.117, 0.084, 0.058] as const;

export const EXAMINATION_PROFILES = ['eye-tracking', 'inverse-rank', 'exponential', 'baidu-ultr'] as const;
export type ExaminationProfile = (typeof EXAMINATION_PROFILES)[number];

export interface ExaminationSpec {
  readonly profile: ExaminationProfile;
  /** Severity exponent η ≥ 0. */
  readonly eta: number;
}

/** P(examined | rank k) for k = 1..numRanks (returned 0-based: element k − 1 is rank k). */
export function examinationProbabilities(spec: ExaminationSpec, numRanks: number): Float64Array {
  if (!(spec.eta >= 0) || !Number.isFinite(spec.eta)) {
    throw new ConfigError('examination.eta', `expected a finite number ≥ 0, found ${spec.eta}`);
  }
  const out = new Float64Array(numRanks);
  for (let k = 0; k < numRanks; k++) {
    let base: number;
    switch (spec.profile) {
      case 'eye-tracking':
        base = EYE_TRACKING_PROFILE[Math.min(k, EYE_TRACKING_PROFILE.length - 1)];
        break;
      case 'inverse-rank':
        base = 1 / (k + 1);
        break;
      case 'exponential':
        base = 0.85 ** k;
        break;
      case 'baidu-ultr':
        base = BAIDU_ULTR_PROFILE[Math.min(k, BAIDU_ULTR_PROFILE.length - 1)];
        break;
      default:
        throw new ConfigError('examination.profile', `expected one of ${EXAMINATION_PROFILES.join(', ')}, found ${String(spec.profile)}`);
    }
    out[k] = Math.pow(base, spec.eta);
  }
  return out;
}

/** Propensities relative to rank 1 (p_k / p_1): the quantity IPS weights and DLA estimate up to scale. */
export function relativeToFirst(propensities: ArrayLike<number>): Float64Array {
  const out = new Float64Array(propensities.length);
  for (let k = 0; k < propensities.length; k++) out[k] = propensities[k] / propensities[0];
  return out;
}
