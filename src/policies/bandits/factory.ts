import { ConfigError } from '../../core/errors.js';
import type { SlatePolicy } from '../slate-policy.js';
import { EpsilonGreedyPolicy, GreedyPolicy, PlackettLucePolicy, UniformRandomPolicy } from './baselines.js';
import { BernoulliTS } from './bernoulli-ts.js';
import { CascadeKLUCB } from './cascade-kl-ucb.js';
import { CascadeTS } from './cascade-ts.js';
import { checkSizes, type FeedbackSemantics } from './common.js';
import { InSlateTS } from './in-slate-ts.js';
import { LinTS } from './lin-ts.js';
import { PbmTS } from './pbm-ts.js';
import { PbmUCB } from './pbm-ucb.js';
import { TSCascade } from './ts-cascade.js';
import { nearest } from '../../core/suggest.js';

export const POLICY_TYPES = [
  'bernoulli-ts',
  'in-slate-ts',
  'pbm-ts',
  'pbm-ucb',
  'cascade-ts',
  'cascade-kl-ucb',
  'ts-cascade',
  'lin-ts',
  'random',
  'greedy',
  'epsilon-greedy',
  'plackett-luce',
] as const;

export type PolicyType = (typeof POLICY_TYPES)[number];

/** The feedback each policy type expects in `update`'s `observed` mask (see `FeedbackSemantics`). */
export const POLICY_FEEDBACK: Readonly<Record<PolicyType, FeedbackSemantics>> = {
  'bernoulli-ts': 'position',
  'in-slate-ts': 'position',
  'pbm-ts': 'position',
  'pbm-ucb': 'position',
  'cascade-ts': 'cascade',
  'cascade-kl-ucb': 'cascade',
  'ts-cascade': 'cascade',
  'lin-ts': 'position',
  random: 'position',
  greedy: 'position',
  'epsilon-greedy': 'position',
  'plackett-luce': 'position',
};

/** A policy as JSON: `{ "type": ..., ...params }` (see `createPolicy` for the parameters of each type). */
export interface PolicySpec {
  type: PolicyType;
  /** Becomes the policy's `name`; defaults to the type. */
  label?: string;
  [param: string]: unknown;
}

/** What the world supplies to a policy: sizes, and for some types κ or features. */
export interface PolicyEnvironment {
  numItems: number;
  slateSize: number;
  /** κ_1..κ_K for pbm-ts / pbm-ucb (a spec's own `positionWeights` takes precedence). */
  positionWeights?: ArrayLike<number>;
  /** Per-user and per-item feature arrays for lin-ts. */
  userFeatures?: ReadonlyArray<ArrayLike<number>>;
  itemFeatures?: ReadonlyArray<ArrayLike<number>>;
  /** Scores for plackett-luce when the spec has none. */
  scores?: Float64Array;
}

/** Parameters each type accepts, besides `type` and `label`. */
const PARAMS: Readonly<Record<PolicyType, readonly string[]>> = {
  'bernoulli-ts': ['alpha', 'beta'],
  'in-slate-ts': ['alpha', 'beta'],
  'cascade-ts': ['alpha', 'beta'],
  'pbm-ts': ['a', 'b', 'positionWeights'],
  'pbm-ucb': ['epsilon', 'positionWeights'],
  'cascade-kl-ucb': [],
  'ts-cascade': [],
  'lin-ts': ['features', 'lambda', 'v'],
  random: [],
  greedy: ['unseenScore'],
  'epsilon-greedy': ['epsilon', 'unseenScore'],
  'plackett-luce': ['scores', 'temperature'],
};

/**
 * Build a policy from a JSON spec, with defaults:
 *
 * | type | parameters (default) |
 * |---|---|
 * | bernoulli-ts, in-slate-ts, cascade-ts | alpha (1), beta (1): numbers > 0 or arrays of numItems |
 * | pbm-ts | a (0.5), b (0.5), positionWeights (from the environment) |
 * | pbm-ucb | epsilon (1e−6), positionWeights (from the environment) |
 * | cascade-kl-ucb, ts-cascade, random | — |
 * | lin-ts | features ("outer" or "concat", default "outer"), lambda (1), v (1); user and item features from the environment |
 * | greedy | unseenScore (1) |
 * | epsilon-greedy | epsilon (0.1), unseenScore (1) |
 * | plackett-luce | scores (array of numItems; or the environment's), temperature (1) |
 *
 * Every spec may carry a `label` (the policy's name). Errors are `ConfigError`s naming the field
 * path (`path.field`), what was expected and what was found, with the nearest valid name for a typo.
 */
export function createPolicy(spec: unknown, env: PolicyEnvironment, path = 'policy'): SlatePolicy {
  checkSizes(env.numItems, env.slateSize);
  const { numItems, slateSize } = env;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(path, `expected an object like {"type": "bernoulli-ts"}, found ${describe(spec)}`);
  const raw = spec as Record<string, unknown>;
  const type = policyType(raw.type, `${path}.type`);
  const allowed = ['type', 'label', ...PARAMS[type]];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const hint = nearest(key, allowed);
      throw new ConfigError(`${path}.${key}`, `unknown field for "${type}"${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.join(', ')}`);
    }
  }
  const at = (field: string) => `${path}.${field}`;
  const name = raw.label === undefined ? type : nonEmptyString(raw.label, at('label'));
  const base = { numItems, slateSize, name };
  switch (type) {
    case 'bernoulli-ts':
    case 'in-slate-ts':
    case 'cascade-ts': {
      const options = { ...base, alpha: prior(raw.alpha, at('alpha'), numItems), beta: prior(raw.beta, at('beta'), numItems) };
      return type === 'bernoulli-ts' ? new BernoulliTS(options) : type === 'in-slate-ts' ? new InSlateTS(options) : new CascadeTS(options);
    }
    case 'pbm-ts':
      return new PbmTS({
        ...base,
        a: number(raw.a, at('a'), 0.5, 'a number > 0', (v) => v > 0),
        b: number(raw.b, at('b'), 0.5, 'a number > 0', (v) => v > 0),
        positionWeights: positionWeights(raw.positionWeights, env, at('positionWeights')),
      });
    case 'pbm-ucb':
      return new PbmUCB({
        ...base,
        epsilon: number(raw.epsilon, at('epsilon'), 1e-6, 'a number ≥ 0', (v) => v >= 0),
        positionWeights: positionWeights(raw.positionWeights, env, at('positionWeights')),
      });
    case 'cascade-kl-ucb':
      return new CascadeKLUCB(base);
    case 'ts-cascade':
      return new TSCascade(base);
    case 'lin-ts': {
      const features = raw.features === undefined ? 'outer' : raw.features;
      if (features !== 'outer' && features !== 'concat') {
        const hint = typeof features === 'string' ? nearest(features, ['outer', 'concat']) : null;
        throw new ConfigError(at('features'), `expected "outer" or "concat", found ${describe(features)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      if (env.userFeatures === undefined || env.itemFeatures === undefined) {
        throw new ConfigError(path, `"lin-ts" needs user and item features from the world, found ${env.userFeatures === undefined ? 'no user features' : 'no item features'}`);
      }
      return wrapConfig(
        at('features'),
        () =>
          new LinTS({
            ...base,
            features,
            lambda: number(raw.lambda, at('lambda'), 1, 'a number > 0', (v) => v > 0),
            v: number(raw.v, at('v'), 1, 'a number ≥ 0', (v) => v >= 0),
            userFeatures: env.userFeatures,
            itemFeatures: env.itemFeatures,
          }),
      );
    }
    case 'random':
      return new UniformRandomPolicy(base);
    case 'greedy':
      return new GreedyPolicy({ ...base, unseenScore: number(raw.unseenScore, at('unseenScore'), 1, 'a finite number', () => true) });
    case 'epsilon-greedy':
      return new EpsilonGreedyPolicy({
        ...base,
        epsilon: number(raw.epsilon, at('epsilon'), 0.1, 'a probability in [0, 1]', (v) => v >= 0 && v <= 1),
        unseenScore: number(raw.unseenScore, at('unseenScore'), 1, 'a finite number', () => true),
      });
    case 'plackett-luce': {
      let scores: Float64Array;
      if (raw.scores !== undefined) scores = numberArray(raw.scores, at('scores'), numItems, numItems, 'a finite number', () => true);
      else if (env.scores !== undefined) scores = env.scores;
      else throw new ConfigError(at('scores'), `expected an array of ${numItems} scores (one per item), found nothing`);
      return new PlackettLucePolicy({ ...base, scores, temperature: number(raw.temperature, at('temperature'), 1, 'a number > 0', (v) => v > 0) });
    }
  }
}

function policyType(value: unknown, path: string): PolicyType {
  if (typeof value === 'string' && (POLICY_TYPES as readonly string[]).includes(value)) return value as PolicyType;
  const hint = typeof value === 'string' ? nearest(value, POLICY_TYPES) : null;
  throw new ConfigError(path, `expected one of ${POLICY_TYPES.map((t) => `"${t}"`).join(', ')}, found ${describe(value)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
}

function prior(value: unknown, path: string, numItems: number): number | Float64Array {
  if (value === undefined) return 1;
  if (typeof value === 'number') return number(value, path, 1, 'a number > 0 or an array of one per item', (v) => v > 0);
  if (Array.isArray(value)) return numberArray(value, path, numItems, numItems, 'a number > 0', (v) => v > 0);
  throw new ConfigError(path, `expected a number > 0 or an array of ${numItems} numbers > 0, found ${describe(value)}`);
}

function positionWeights(value: unknown, env: PolicyEnvironment, path: string): Float64Array {
  if (value !== undefined) return numberArray(value, path, env.slateSize, Infinity, 'an examination probability in (0, 1]', (v) => v > 0 && v <= 1);
  if (env.positionWeights === undefined) {
    throw new ConfigError(path, `expected ${env.slateSize} position weights κ in (0, 1] (in the spec or from the click model), found nothing`);
  }
  return numberArray(Array.from(env.positionWeights), path, env.slateSize, Infinity, 'an examination probability in (0, 1]', (v) => v > 0 && v <= 1);
}

function number(value: unknown, path: string, fallback: number, expected: string, valid: (v: number) => boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) throw new ConfigError(path, `expected ${expected}, found ${describe(value)}`);
  return value;
}

function numberArray(value: unknown, path: string, minLength: number, maxLength: number, expected: string, valid: (v: number) => boolean): Float64Array {
  const size = minLength === maxLength ? `${minLength}` : `at least ${minLength}`;
  if (!Array.isArray(value)) throw new ConfigError(path, `expected an array of ${size} numbers, found ${describe(value)}`);
  if (value.length < minLength || value.length > maxLength) throw new ConfigError(path, `expected an array of ${size} numbers, found ${value.length}`);
  const out = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || !valid(v)) throw new ConfigError(`${path}[${i}]`, `expected ${expected}, found ${describe(v)}`);
    out[i] = v;
  }
  return out;
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(path, `expected a non-empty string, found ${describe(value)}`);
  return value;
}

/** Re-labels a ConfigError thrown by a constructor with a bare field name so it carries the spec path. */
function wrapConfig<T>(path: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigError && !error.path.includes('.')) throw new ConfigError(`${path.slice(0, path.lastIndexOf('.'))}.${error.path}`, error.problem);
    throw error;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
