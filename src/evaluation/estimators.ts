/**
 * Standard off-policy estimators of a policy's value from logged bandit feedback (one row per
 * shown (action, position), as the Open Bandit Pipeline treats the Open Bandit Dataset), with
 * OBP's definitions (`obp/ope/estimators.py`). Notation, per row i at position k_i:
 *
 *     w_i = π_e(a_i | x_i, k_i) / π_b(a_i | x_i, k_i)        importance weight
 *     q̂_i = q̂(x_i, a_i, k_i)                                 reward model at the logged action
 *     q̂_i(π_e) = Σ_a π_e(a | x_i, k_i) q̂(x_i, a, k_i)         reward model under the evaluation policy
 *
 * Each class reduces the inputs to `ValueTerms` (off-policy.ts): a direct part averaged over rows
 * and a weighted part, plain or self-normalised.
 */
import { ConfigError } from '../core/errors.js';
import { checkOffPolicyInputs, TermsEstimator, type OffPolicyInputs, type ValueTerms } from './off-policy.js';

/** w_i, q̂_i and q̂_i(π_e) for every row (the last two zero without a model). */
interface RowQuantities {
  readonly n: number;
  readonly weight: Float64Array;
  readonly modelAtAction: Float64Array;
  readonly modelUnderPolicy: Float64Array;
}

function rowQuantities(inputs: OffPolicyInputs, needsModel: boolean, estimator: string): RowQuantities {
  const n = checkOffPolicyInputs(inputs, needsModel, estimator);
  const { action, position, pscore, actionDist, estimatedRewards } = inputs;
  const { numActions: A, numPositions: K, values: pi } = actionDist;
  const weight = new Float64Array(n);
  const modelAtAction = new Float64Array(n);
  const modelUnderPolicy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = position === undefined ? 0 : position[i];
    const a = action[i];
    weight[i] = pi[(i * A + a) * K + k] / pscore[i];
    if (!Number.isFinite(weight[i])) {
      throw new ConfigError(`${estimator}: pscore[${i}]`, `row ${i + 1}: the importance weight π_e/π_b = ${pi[(i * A + a) * K + k]}/${pscore[i]} is not finite (a propensity too close to 0)`);
    }
    if (estimatedRewards !== undefined) {
      const q = estimatedRewards.values;
      modelAtAction[i] = q[(i * A + a) * K + k];
      let s = 0;
      for (let b = 0; b < A; b++) s += pi[(i * A + b) * K + k] * q[(i * A + b) * K + k];
      modelUnderPolicy[i] = s;
    }
  }
  return { n, weight, modelAtAction, modelUnderPolicy };
}

function checkLambda(estimator: string, lambda: number, allowZero: boolean): number {
  if (!(lambda > 0 || (allowZero && lambda === 0))) throw new ConfigError(`${estimator}: lambda`, `expected a number ${allowZero ? '≥' : '>'} 0 (Infinity for none), found ${lambda}`);
  return lambda;
}

function lambdaLabel(base: string, lambda: number): string {
  return Number.isFinite(lambda) ? `${base} (λ=${lambda})` : base;
}

/** IPW: V̂ = mean_i min(w_i, λ) r_i (Horvitz–Thompson; λ = ∞ is unbiased, finite λ clips the weights). */
export class InverseProbabilityWeighting extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;
  readonly lambda: number;

  constructor(options: { lambda?: number; name?: string } = {}) {
    super();
    this.lambda = checkLambda('ipw', options.lambda ?? Infinity, false);
    this.name = options.name ?? lambdaLabel('ipw', this.lambda);
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight } = rowQuantities(inputs, false, this.name);
    const weighted = new Float64Array(n);
    const used = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = Math.min(weight[i], this.lambda);
      weighted[i] = used[i] * inputs.reward[i];
    }
    return { units: n, groups: 1, direct: null, weighted, normalizer: null, unitWeights: used };
  }
}

/** SNIPW: V̂ = Σ_i w_i r_i / Σ_i w_i (Swaminathan & Joachims 2015): biased but consistent, bounded by the rewards. */
export class SelfNormalizedIPW extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;

  constructor(options: { name?: string } = {}) {
    super();
    this.name = options.name ?? 'snipw';
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight } = rowQuantities(inputs, false, this.name);
    const weighted = new Float64Array(n);
    for (let i = 0; i < n; i++) weighted[i] = weight[i] * inputs.reward[i];
    return { units: n, groups: 1, direct: null, weighted, normalizer: weight, unitWeights: weight };
  }
}

/** DM: V̂ = mean_i Σ_a π_e(a | x_i, k_i) q̂(x_i, a, k_i): no weights, all the model's bias. */
export class DirectMethod extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;

  constructor(options: { name?: string } = {}) {
    super();
    this.name = options.name ?? 'dm';
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, modelUnderPolicy } = rowQuantities(inputs, true, this.name);
    return { units: n, groups: 1, direct: modelUnderPolicy, weighted: new Float64Array(n), normalizer: null, unitWeights: null };
  }
}

/**
 * DR: V̂ = mean_i [q̂_i(π_e) + min(w_i, λ)(r_i − q̂_i)] (Dudík, Langford & Li 2011): unbiased when
 * either the weights (λ = ∞) or the model is right.
 */
export class DoublyRobust extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;
  readonly lambda: number;

  constructor(options: { lambda?: number; name?: string } = {}) {
    super();
    this.lambda = checkLambda('dr', options.lambda ?? Infinity, false);
    this.name = options.name ?? lambdaLabel('dr', this.lambda);
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight, modelAtAction, modelUnderPolicy } = rowQuantities(inputs, true, this.name);
    const weighted = new Float64Array(n);
    const used = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = Math.min(weight[i], this.lambda);
      weighted[i] = used[i] * (inputs.reward[i] - modelAtAction[i]);
    }
    return { units: n, groups: 1, direct: modelUnderPolicy, weighted, normalizer: null, unitWeights: used };
  }
}

/** SNDR: V̂ = mean_i q̂_i(π_e) + Σ_i w_i (r_i − q̂_i) / Σ_i w_i. */
export class SelfNormalizedDR extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;

  constructor(options: { name?: string } = {}) {
    super();
    this.name = options.name ?? 'sndr';
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight, modelAtAction, modelUnderPolicy } = rowQuantities(inputs, true, this.name);
    const weighted = new Float64Array(n);
    for (let i = 0; i < n; i++) weighted[i] = weight[i] * (inputs.reward[i] - modelAtAction[i]);
    return { units: n, groups: 1, direct: modelUnderPolicy, weighted, normalizer: weight, unitWeights: weight };
  }
}

/**
 * Switch-DR (Wang, Agarwal & Dudík 2017, as OBP): V̂ = mean_i [q̂_i(π_e) + w_i (r_i − q̂_i) 1{w_i ≤ λ}]:
 * rows whose weight exceeds λ keep only the model's prediction. λ = ∞ is DR; λ = 0 is DM.
 */
export class SwitchDR extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;
  readonly lambda: number;

  constructor(options: { lambda?: number; name?: string } = {}) {
    super();
    this.lambda = checkLambda('switch-dr', options.lambda ?? Infinity, true);
    this.name = options.name ?? lambdaLabel('switch-dr', this.lambda);
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight, modelAtAction, modelUnderPolicy } = rowQuantities(inputs, true, this.name);
    const weighted = new Float64Array(n);
    const used = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = weight[i] <= this.lambda ? weight[i] : 0;
      weighted[i] = used[i] * (inputs.reward[i] - modelAtAction[i]);
    }
    return { units: n, groups: 1, direct: modelUnderPolicy, weighted, normalizer: null, unitWeights: used };
  }
}

/**
 * DR with optimistic shrinkage (Su, Dimakopoulou, Krishnamurthy & Dudík 2020): the weight becomes
 * ŵ_i = λ w_i / (w_i² + λ), which minimises a bound on the MSE; V̂ = mean_i [q̂_i(π_e) + ŵ_i (r_i − q̂_i)].
 * λ = 0 is DM, λ → ∞ is DR.
 */
export class DoublyRobustWithShrinkage extends TermsEstimator<OffPolicyInputs> {
  readonly name: string;
  readonly lambda: number;

  constructor(options: { lambda: number; name?: string }) {
    super();
    this.lambda = checkLambda('dr-os', options.lambda, true);
    this.name = options.name ?? `dr-os (λ=${this.lambda})`;
  }

  terms(inputs: OffPolicyInputs): ValueTerms {
    const { n, weight, modelAtAction, modelUnderPolicy } = rowQuantities(inputs, true, this.name);
    const weighted = new Float64Array(n);
    const l = this.lambda;
    const used = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const w = weight[i];
      const shrunk = Number.isFinite(l) ? (l * w) / (w * w + l) : w;
      used[i] = shrunk;
      weighted[i] = shrunk * (inputs.reward[i] - modelAtAction[i]);
    }
    return { units: n, groups: 1, direct: modelUnderPolicy, weighted, normalizer: null, unitWeights: used };
  }
}
