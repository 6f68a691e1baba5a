/**
 * Off-policy estimators for slates (OBP's `obp/ope/estimators_slate.py`). The value of a slate
 * policy is the expected sum of rewards over the K positions of a slate,
 *
 *     V̂ = (1/S) Σ_s Σ_k w_sk r_sk,
 *
 * and the estimators differ only in the weight w_sk = π_e(·) / π_b(·), by what they condition on:
 *
 * - standard IPS (SIPS): the whole slate's probability; unbiased with no assumption on the user,
 *   at the price of weights as large as the slate space;
 * - independent IPS (IIPS, Li et al. 2018): the probability of the item at position k (marginal);
 *   unbiased when the reward at k depends only on the item at k (position-based model);
 * - reward-interaction IPS (RIPS, McInerney et al. 2020): the probability of the top-k prefix;
 *   unbiased when the reward at k depends only on positions 1..k (cascade-like behaviour).
 *
 * Self-normalised variants divide each position's sum by the sum of its weights,
 * V̂ = Σ_k Σ_s w_sk r_sk / Σ_s w_sk (OBP normalises per position too). The bootstrap resamples
 * whole slates.
 */
import { ConfigError } from '../core/errors.js';
import { TermsEstimator, type ValueTerms } from './off-policy.js';

/** A slate probability of each kind, one value per logged row (repeated within a slate where it is per slate). */
export interface SlatePropensities {
  /** P(the whole logged slate). */
  readonly slate?: ArrayLike<number>;
  /** P(the row's item at the row's position) (marginal). */
  readonly itemPosition?: ArrayLike<number>;
  /** P(the logged items at positions 1..k), k the row's position. */
  readonly cascade?: ArrayLike<number>;
}

export type SlatePropensityKind = keyof SlatePropensities;

/** The inputs of every slate estimator, one row per (slate, position). */
export interface SlateOffPolicyInputs {
  /** Which slate each row belongs to (any integer ids; a slate's rows need not be contiguous). */
  readonly slateId: ArrayLike<number>;
  readonly reward: ArrayLike<number>;
  /** 0-based position within the slate; each slate has each position at most once. */
  readonly position: ArrayLike<number>;
  /** The logging policy's probabilities. */
  readonly pscore: SlatePropensities;
  /** The evaluation policy's probabilities of the same logged slates, prefixes or items. */
  readonly evaluationPscore: SlatePropensities;
}

const KIND_NAMES: Readonly<Record<SlatePropensityKind, string>> = {
  slate: 'whole-slate',
  itemPosition: 'item-position',
  cascade: 'top-k prefix (cascade)',
};

/** Base of the slate estimators: the weight kind and whether positions are self-normalised. */
export abstract class SlateIPSBase extends TermsEstimator<SlateOffPolicyInputs> {
  abstract readonly kind: SlatePropensityKind;
  abstract readonly selfNormalized: boolean;

  terms(inputs: SlateOffPolicyInputs): ValueTerms {
    const { slateId, reward, position } = inputs;
    const n = reward.length;
    const fail = (field: string, problem: string): never => {
      throw new ConfigError(`${this.name}: ${field}`, problem);
    };
    const behaviour = inputs.pscore[this.kind];
    const evaluation = inputs.evaluationPscore[this.kind];
    if (behaviour === undefined) fail(`pscore.${this.kind}`, `expected the logging policy's ${KIND_NAMES[this.kind]} probabilities, found none`);
    if (evaluation === undefined) fail(`evaluationPscore.${this.kind}`, `expected the evaluation policy's ${KIND_NAMES[this.kind]} probabilities, found none`);
    if (n === 0) fail('reward', 'expected at least one logged row, found none');
    for (const [name, array] of [
      ['slateId', slateId],
      ['position', position],
      [`pscore.${this.kind}`, behaviour!],
      [`evaluationPscore.${this.kind}`, evaluation!],
    ] as const) {
      if (array.length !== n) fail(name, `expected ${n} values (one per row, as reward), found ${array.length}`);
    }
    // Slates numbered 0..S−1 in order of first appearance; K = 1 + the largest position.
    const unit = new Map<number, number>();
    let K = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(slateId[i])) fail(`slateId[${i}]`, `expected an integer, found ${slateId[i]}`);
      const k = position[i];
      if (!(Number.isInteger(k) && k >= 0)) fail(`position[${i}]`, `expected an integer ≥ 0, found ${k}`);
      if (!unit.has(slateId[i])) unit.set(slateId[i], unit.size);
      K = Math.max(K, k + 1);
    }
    const S = unit.size;
    const weighted = new Float64Array(S * K);
    const normalizer = this.selfNormalized ? new Float64Array(S * K) : null;
    const seen = new Uint8Array(S * K);
    const unitWeights = new Float64Array(S);
    for (let i = 0; i < n; i++) {
      const p = behaviour![i];
      const q = evaluation![i];
      if (!(p > 0 && p <= 1)) fail(`pscore.${this.kind}[${i}]`, `expected a probability in (0, 1], found ${p}`);
      if (!(q >= 0 && q <= 1)) fail(`evaluationPscore.${this.kind}[${i}]`, `expected a probability in [0, 1], found ${q}`);
      if (!Number.isFinite(reward[i])) fail(`reward[${i}]`, `expected a finite number, found ${reward[i]}`);
      const at = unit.get(slateId[i])! * K + position[i];
      if (seen[at]) fail(`position[${i}]`, `expected each position once per slate, found position ${position[i]} of slate ${slateId[i]} again`);
      seen[at] = 1;
      const w = q / p;
      if (!Number.isFinite(w)) fail(`pscore.${this.kind}[${i}]`, `row ${i + 1}: the importance weight ${q}/${p} is not finite (a propensity too close to 0)`);
      unitWeights[unit.get(slateId[i])!] += w;
      weighted[at] = w * reward[i];
      if (normalizer !== null) normalizer[at] = w;
    }
    return { units: S, groups: K, direct: null, weighted, normalizer, unitWeights };
  }
}

function slateEstimator(kind: SlatePropensityKind, selfNormalized: boolean, defaultName: string) {
  return class extends SlateIPSBase {
    readonly kind = kind;
    readonly selfNormalized = selfNormalized;
    readonly name: string;

    constructor(options: { name?: string } = {}) {
      super();
      this.name = options.name ?? defaultName;
    }
  };
}

/** SIPS: w = π_e(slate) / π_b(slate). */
export const SlateStandardIPS = slateEstimator('slate', false, 'sips');
/** IIPS: w = π_e(item at k) / π_b(item at k). */
export const SlateIndependentIPS = slateEstimator('itemPosition', false, 'iips');
/** RIPS: w = π_e(items at 1..k) / π_b(items at 1..k). */
export const SlateRewardInteractionIPS = slateEstimator('cascade', false, 'rips');
/** Self-normalised SIPS. */
export const SelfNormalizedSlateStandardIPS = slateEstimator('slate', true, 'snsips');
/** Self-normalised IIPS. */
export const SelfNormalizedSlateIndependentIPS = slateEstimator('itemPosition', true, 'sniips');
/** Self-normalised RIPS. */
export const SelfNormalizedSlateRewardInteractionIPS = slateEstimator('cascade', true, 'snrips');

export type SlateEstimator = SlateIPSBase;
