import { ConfigError } from '../../core/errors.js';
import type { ClickModel } from '../click-model.js';
import { EXAMINATION_PROFILES, EYE_TRACKING_PROFILE, examinationProbabilities, relativeToFirst, type ExaminationProfile } from '../examination.js';
import { CascadeModel } from './cascade.js';
import { DynamicBayesianNetworkModel } from './dbn.js';
import { DependentClickModel } from './dcm.js';
import { MultinomialLogitModel } from './mnl.js';
import { PositionBasedModel } from './pbm.js';
import { TrustBiasModel, defaultTrustParameters } from './trust-bias.js';
import { UserBrowsingModel, defaultUbmGamma } from './ubm.js';

export { CascadeModel, CascadingModel } from './cascade.js';
export { DynamicBayesianNetworkModel } from './dbn.js';
export { DependentClickModel } from './dcm.js';
export { MultinomialLogitModel } from './mnl.js';
export { PositionBasedModel } from './pbm.js';
export { TrustBiasModel, defaultTrustParameters } from './trust-bias.js';
export { UserBrowsingModel, defaultUbmGamma } from './ubm.js';

/**
 * Which click model to simulate, with its parameters; every parameter has a default. Per-rank
 * arrays are 0-based (element k is rank k + 1), and ranks past an array's end reuse its last value.
 */
export type ClickModelSpec = PbmSpec | CascadeSpec | DcmSpec | DbnSpec | UbmSpec | TrustBiasSpec | MnlSpec;

/** Examination κ_k = profile(k)^η, as in `examinationProbabilities` (default eye-tracking, η = 1). */
interface ExaminationFields {
  readonly examination?: ExaminationProfile;
  readonly eta?: number;
}

export interface PbmSpec extends ExaminationFields {
  readonly type: 'pbm';
}

export interface CascadeSpec {
  readonly type: 'cascade';
}

export interface DcmSpec {
  readonly type: 'dcm';
  /** λ_k, the probability of going on after a click at rank k (default 0.5 at every rank, PyClick's starting value). */
  readonly lambda?: readonly number[];
}

export interface DbnSpec {
  readonly type: 'dbn';
  /** Probability of going on when not satisfied (default 0.9; 1 gives SDBN). */
  readonly gamma?: number;
  /** s, the probability of satisfaction after a click: `'attractiveness'` (s = a, the default) or a constant. */
  readonly satisfaction?: number | 'attractiveness';
}

export interface UbmSpec {
  readonly type: 'ubm';
  /** Square table gamma[r − 1][d − 1] of examination probabilities by rank r and distance d to the last click (default `defaultUbmGamma()`, 10 × 10). */
  readonly gamma?: readonly (readonly number[])[];
}

export interface TrustBiasSpec extends ExaminationFields {
  readonly type: 'trust-bias';
  /** P(click | examined, relevant) per rank (default 1 − (k + 2)/100). */
  readonly epsilonPlus?: readonly number[];
  /** P(click | examined, not relevant) per rank (default 0.65/(k + 1)). */
  readonly epsilonMinus?: readonly number[];
}

export interface MnlSpec {
  readonly type: 'mnl';
  /** Additive position bias b_k of the utilities (default ln v_k, the eye-tracking profile). */
  readonly positionBias?: readonly number[];
  /** Utility of not clicking (default 0: weight 1 against the results' r_k e^{b_k}). */
  readonly noClickUtility?: number;
}

/** The name of a simulated click model: its spec's `type`. */
export type ClickModelType = ClickModelSpec['type'];

/** The class `createClickModel` returns for each type (trust bias's has `affine`). */
export interface ClickModelByType {
  pbm: PositionBasedModel;
  cascade: CascadeModel;
  dcm: DependentClickModel;
  dbn: DynamicBayesianNetworkModel;
  ubm: UserBrowsingModel;
  'trust-bias': TrustBiasModel;
  mnl: MultinomialLogitModel;
}

/** How `createClickModel` builds one click model: the fields its spec may have, and the builder (defaults filled in, every field checked). */
export interface ClickModelSimulator<S extends ClickModelSpec = ClickModelSpec> {
  /** The spec's fields besides `type`. */
  readonly fields: readonly string[];
  build(spec: S, numRanks: number, path: string): ClickModelByType[S['type']];
}

/**
 * The simulation half of the click-model registry (`CLICK_MODELS` in src/fitting/registry.ts,
 * which lists every click model by name with its simulator from here and its fitter): one
 * simulator per spec type. A new simulated model adds its class in this folder, its spec to
 * `ClickModelSpec`, its line here, and its line in the registry.
 */
export const CLICK_MODEL_SIMULATORS: { readonly [T in ClickModelType]: ClickModelSimulator<Extract<ClickModelSpec, { type: T }>> } = {
  pbm: { fields: ['examination', 'eta'], build: (spec, numRanks, path) => new PositionBasedModel(examination(spec, numRanks, path)) },
  cascade: { fields: [], build: () => new CascadeModel() },
  dcm: {
    fields: ['lambda'],
    build: (spec, _numRanks, path) => new DependentClickModel(spec.lambda === undefined ? Float64Array.of(0.5) : perRank(spec.lambda, `${path}.lambda`, probability)),
  },
  dbn: {
    fields: ['gamma', 'satisfaction'],
    build: (spec, _numRanks, path) =>
      new DynamicBayesianNetworkModel(
        spec.gamma === undefined ? 0.9 : probability(spec.gamma, `${path}.gamma`),
        spec.satisfaction === undefined || spec.satisfaction === 'attractiveness' ? 'attractiveness' : probability(spec.satisfaction, `${path}.satisfaction`, ' or "attractiveness"'),
      ),
  },
  ubm: { fields: ['gamma'], build: (spec, _numRanks, path) => new UserBrowsingModel(spec.gamma === undefined ? defaultUbmGamma() : squareTable(spec.gamma, `${path}.gamma`)) },
  'trust-bias': {
    fields: ['examination', 'eta', 'epsilonPlus', 'epsilonMinus'],
    build: (spec, numRanks, path) => {
      const defaults = defaultTrustParameters(numRanks);
      return new TrustBiasModel(
        examination(spec, numRanks, path),
        spec.epsilonPlus === undefined ? defaults.epsilonPlus : perRank(spec.epsilonPlus, `${path}.epsilonPlus`, probability),
        spec.epsilonMinus === undefined ? defaults.epsilonMinus : perRank(spec.epsilonMinus, `${path}.epsilonMinus`, probability),
      );
    },
  },
  mnl: {
    fields: ['positionBias', 'noClickUtility'],
    build: (spec, _numRanks, path) =>
      new MultinomialLogitModel(
        spec.positionBias === undefined ? Float64Array.from(EYE_TRACKING_PROFILE, Math.log) : perRank(spec.positionBias, `${path}.positionBias`, finite),
        spec.noClickUtility === undefined ? 0 : finite(spec.noClickUtility, `${path}.noClickUtility`),
      ),
  },
};

/** The simulated click models' names, in the table's order. */
export const CLICK_MODEL_TYPES = Object.keys(CLICK_MODEL_SIMULATORS) as readonly ClickModelType[];

/**
 * Build a click model for lists of up to `numRanks` results from a spec (typically parsed JSON),
 * filling in defaults. Every invalid field raises a `ConfigError` naming its path under `path`,
 * e.g. `clickModel.lambda[3]: expected a probability in [0, 1], found 1.2`.
 */
export function createClickModel<S extends ClickModelSpec>(spec: S, numRanks: number, path = 'clickModel'): ClickModelByType[S['type']] {
  if (!Number.isInteger(numRanks) || numRanks < 1) throw new RangeError(`numRanks must be a positive integer, found ${numRanks}`);
  if (typeof spec !== 'object' || spec === null) throw new ConfigError(path, `expected an object with a "type", found ${describe(spec)}`);
  const type: unknown = spec.type;
  if (typeof type !== 'string' || !Object.hasOwn(CLICK_MODEL_SIMULATORS, type)) {
    throw new ConfigError(`${path}.type`, `expected one of ${CLICK_MODEL_TYPES.join(', ')}, found ${describe(type)}`);
  }
  // The table's entry for spec.type takes spec; TypeScript cannot follow the correlation through the lookup.
  const simulator = CLICK_MODEL_SIMULATORS[type as S['type']] as unknown as ClickModelSimulator<S>;
  checkKeys(spec, ['type', ...simulator.fields], path);
  return simulator.build(spec, numRanks, path);
}

function examination(spec: ExaminationFields, numRanks: number, path: string): Float64Array {
  const profile = spec.examination ?? 'eye-tracking';
  if (!EXAMINATION_PROFILES.includes(profile)) {
    throw new ConfigError(`${path}.examination`, `expected one of ${EXAMINATION_PROFILES.join(', ')}, found ${describe(profile)}`);
  }
  const eta = spec.eta ?? 1;
  if (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0) throw new ConfigError(`${path}.eta`, `expected a finite number ≥ 0, found ${describe(eta)}`);
  return examinationProbabilities({ profile, eta }, numRanks);
}

function probability(value: unknown, path: string, alternative = ''): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new ConfigError(path, `expected a probability in [0, 1]${alternative}, found ${describe(value)}`);
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(path, `expected a finite number, found ${describe(value)}`);
  return value;
}

/** A non-empty per-rank array, each element checked by `element`. */
function perRank(values: unknown, path: string, element: (value: unknown, path: string) => number): Float64Array {
  if (!Array.isArray(values) || values.length === 0) throw new ConfigError(path, `expected a non-empty array (one value per rank), found ${describe(values)}`);
  return Float64Array.from(values, (v: unknown, k) => element(v, `${path}[${k}]`));
}

function squareTable(rows: unknown, path: string): Float64Array[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new ConfigError(path, `expected a non-empty square table (an array of rows), found ${describe(rows)}`);
  return rows.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== rows.length) {
      throw new ConfigError(`${path}[${i}]`, `expected a row of ${rows.length} probabilities (the table has ${rows.length} rows and must be square), found ${describe(row)}`);
    }
    return perRank(row, `${path}[${i}]`, probability);
  });
}

function checkKeys(spec: object, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) throw new ConfigError(`${path}.${key}`, `unknown field for a "${(spec as { type: string }).type}" click model; expected one of ${allowed.join(', ')}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/**
 * What a debiasing learner can be told about a PBM or trust-bias click model over `numRanks` ranks
 * (ranks past the model's last reuse its last value): the examination propensities relative to rank
 * 1, and the affine form P(C_k = 1) = α_k P(R = 1) + β_k (PBM: α = κ, β = 0).
 */
export function clickModelBias(model: ClickModel, numRanks: number, field: string): { propensities: number[]; alpha: number[]; beta: number[] } {
  if (!(model instanceof PositionBasedModel) && !(model instanceof TrustBiasModel)) {
    throw new ConfigError(field, `the learners know the parameters of a pbm or trust-bias click model, found "${model.name}"`);
  }
  const kappa = model.examination;
  const examination = Float64Array.from({ length: numRanks }, (_, k) => kappa[Math.min(k, kappa.length - 1)]);
  const affine = model instanceof TrustBiasModel ? model.affine(numRanks) : { alpha: examination, beta: new Float64Array(numRanks) };
  return { propensities: Array.from(relativeToFirst(examination)), alpha: Array.from(affine.alpha), beta: Array.from(affine.beta) };
}
