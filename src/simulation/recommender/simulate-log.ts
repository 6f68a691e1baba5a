import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { LoggedInteractions } from '../../data/interaction-log-table.js';
import { PopularityExposure, RecommenderWorld, simulateInteractions, uniformTestSet, type PopularityExposureParams } from './index.js';
import { nearest } from '../../core/suggest.js';

/**
 * A recommender log to simulate, as a scenario file or the CLI gives it: every field optional (see
 * RECOMMENDER_DEFAULTS). The world is RecommenderWorld's latent-factor model with Zipf popularity;
 * exposure is PopularityExposure, θ_i = clamp(c · π_i^γ, θ_min, 1) with Σθ = expectedExposures.
 */
export interface RecommenderSpec {
  readonly users?: number;
  readonly items?: number;
  /** Latent factor dimension d. */
  readonly dimension?: number;
  /** α: Zipf exponent of item popularity. */
  readonly popularityExponent?: number;
  /** m: mean of P(R_ui = 1) over all pairs, in (0, 1). */
  readonly meanPreference?: number;
  readonly exposure?: {
    /** n: items shown to each user, in expectation; in (0, items]. */
    readonly expectedExposures?: number;
    /** γ: θ_i ∝ π_i^γ. */
    readonly popularityExponent?: number;
    /** θ_min ∈ [0, 1], with θ_min · items ≤ n. */
    readonly minProbability?: number;
  };
}

/** A spec with every default filled in and every field checked. */
export interface RecommenderParams {
  readonly users: number;
  readonly items: number;
  readonly dimension: number;
  readonly popularityExponent: number;
  readonly meanPreference: number;
  readonly exposure: PopularityExposureParams;
}

/**
 * The defaults: the shape of Yahoo! R3 (15,400 users × 1,000 items), the latent-factor world's own
 * defaults, and Rel-MF's popularity-driven exposure with 50 items shown per user (every item when
 * there are fewer than 50).
 */
export const RECOMMENDER_DEFAULTS: RecommenderParams = Object.freeze({
  users: 15_400,
  items: 1_000,
  dimension: 16,
  popularityExponent: 1,
  meanPreference: 0.05,
  exposure: Object.freeze({ expectedExposures: 50, popularityExponent: 1, minProbability: 0 }),
});

/**
 * Users per chunk. Chunk k (users k · 8192 ..) draws its exposures from `rng.derive('users', k)`, so
 * the log is the same whether it is held in memory or streamed, and chunks could be simulated in any
 * order or in parallel. The size therefore defines the log and is a constant; a chunk holds about
 * 8192 · expectedExposures rows of 17 bytes (7 MB at 50 exposures per user). (The log of fewer users
 * is not a prefix of the log of more: the world's calibrated offset depends on the number of users.)
 */
export const USERS_PER_CHUNK = 1 << 13;

const SPEC_FIELDS = ['users', 'items', 'dimension', 'popularityExponent', 'meanPreference', 'exposure'] as const;
const EXPOSURE_FIELDS = ['expectedExposures', 'popularityExponent', 'minProbability'] as const;
const INT32_MAX = 0x7fffffff;

/**
 * Checks a spec and fills in its defaults. A ConfigError names the field by its path under `path`
 * (e.g. `recommender.exposure.minProbability` with path 'recommender'), says what was expected and
 * what was found. Unknown fields are errors, not ignored: a misspelt field would otherwise silently
 * run the default. The result is itself a valid spec.
 */
export function resolveRecommenderSpec(spec: RecommenderSpec, path = ''): RecommenderParams {
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  const root = record(spec, path === '' ? 'spec' : path, SPEC_FIELDS, at);
  const D = RECOMMENDER_DEFAULTS;
  const users = integer(root.users, at('users'), D.users, 1, INT32_MAX);
  const items = integer(root.items, at('items'), D.items, 1, INT32_MAX);
  const dimension = integer(root.dimension, at('dimension'), D.dimension, 1, 1024);
  const popularityExponent = number(root.popularityExponent, at('popularityExponent'), D.popularityExponent, 'a finite number ≥ 0', (v) => v >= 0);
  const meanPreference = number(root.meanPreference, at('meanPreference'), D.meanPreference, 'a number in (0, 1)', (v) => v > 0 && v < 1);

  const exposureAt = (field: string): string => at(`exposure.${field}`);
  const exposure = root.exposure === undefined ? {} : record(root.exposure, at('exposure'), EXPOSURE_FIELDS, exposureAt);
  const expectedExposures = number(
    exposure.expectedExposures,
    exposureAt('expectedExposures'),
    Math.min(D.exposure.expectedExposures, items),
    `a number in (0, ${items}] (the number of items)`,
    (v) => v > 0 && v <= items,
  );
  const gamma = number(exposure.popularityExponent, exposureAt('popularityExponent'), D.exposure.popularityExponent, 'a finite number ≥ 0', (v) => v >= 0);
  const minProbability = number(
    exposure.minProbability,
    exposureAt('minProbability'),
    D.exposure.minProbability,
    `a number in [0, 1] with minProbability · ${items} items ≤ expectedExposures = ${expectedExposures}`,
    (v) => v >= 0 && v <= 1 && v * items <= expectedExposures,
  );
  return {
    users,
    items,
    dimension,
    popularityExponent,
    meanPreference,
    exposure: { expectedExposures, popularityExponent: gamma, minProbability },
  };
}

/** A recommender world and its exposure model, built from a spec. */
export interface RecommenderSetup {
  readonly params: RecommenderParams;
  readonly world: RecommenderWorld;
  readonly exposure: PopularityExposure;
}

/**
 * Builds the world (from `rng.derive('world')`) and its exposure model (deterministic given the
 * world). simulateRecommenderLog and recommenderTestSet call this with the same rng, so the test set
 * rates the same world, with the same outcomes R_ui, as the log was drawn from. Costs about 0.5 s
 * at 1M users (the factors); the factors take 4 · dimension · (users + items) bytes.
 */
export function buildRecommenderWorld(spec: RecommenderSpec, rng: RandomStream): RecommenderSetup {
  const params = resolveRecommenderSpec(spec);
  const world = new RecommenderWorld({
    numUsers: params.users,
    numItems: params.items,
    dimension: params.dimension,
    popularityExponent: params.popularityExponent,
    meanPreference: params.meanPreference,
    rng: rng.derive('world'),
  });
  const exposure = new PopularityExposure(world.popularity, params.exposure);
  return { params, world, exposure };
}

/**
 * Simulates an implicit-feedback log with exposure bias for users 0 .. users − 1, USERS_PER_CHUNK
 * users at a time, and hands each chunk to `sink` (e.g. an InteractionLogWriter's `write`): memory
 * stays bounded by one chunk. Each chunk carries the rows (grouped by user, users ascending, items
 * ascending within a user), the propensity a learner may be given (θ of the row's item: the exact
 * probability that the item was shown; the same array as `truth.exposureProbability`) and the
 * simulator's truth.
 */
export async function simulateRecommenderLog(spec: RecommenderSpec, rng: RandomStream, sink: (chunk: LoggedInteractions) => Promise<void> | void): Promise<void> {
  const { params, world, exposure } = buildRecommenderWorld(spec, rng);
  for (let chunk = 0, first = 0; first < params.users; chunk++, first += USERS_PER_CHUNK) {
    const count = Math.min(USERS_PER_CHUNK, params.users - first);
    const users = new Int32Array(count);
    for (let k = 0; k < count; k++) users[k] = first + k;
    const { log, truth } = simulateInteractions(world, exposure, { users, rng: rng.derive('users', chunk) });
    await sink({ log, propensity: truth.exposureProbability, truth });
  }
}

export interface RecommenderTestSetOptions {
  /** Distinct user indices, or a count of users drawn uniformly without replacement. */
  readonly usersSample: Int32Array | number;
  /** Distinct items drawn uniformly for each user, in [1, items]. */
  readonly itemsPerUser: number;
}

/**
 * A test set free of exposure bias, like the ratings on randomly selected items of Coat and
 * Yahoo! R3, from the same world as simulateRecommenderLog's log (same spec and rng): for each
 * sampled user, `itemsPerUser` distinct items drawn uniformly (from `rng.derive('test-set')`).
 * `click` is the world's outcome R_ui (the same as the pair has in the log); the propensity and
 * `truth.exposureProbability` are itemsPerUser / items, the probability that uniform sampling picks
 * the item, so the set can be written and read as an interaction log. Rows grouped by user (users
 * ascending when sampled), items ascending within a user.
 */
export function recommenderTestSet(spec: RecommenderSpec, rng: RandomStream, options: RecommenderTestSetOptions): LoggedInteractions {
  const { world } = buildRecommenderWorld(spec, rng);
  const set = uniformTestSet(world, { usersSample: options.usersSample, itemsPerUser: options.itemsPerUser, rng: rng.derive('test-set') });
  const exposureProbability = new Float32Array(set.user.length).fill(options.itemsPerUser / world.numItems);
  return {
    log: { user: set.user, item: set.item, click: set.relevant },
    propensity: exposureProbability,
    truth: { exposureProbability, preferenceProbability: set.preferenceProbability },
  };
}

/** `value` as an object with only `allowed` keys (a typo gets a "did you mean"). */
function record(value: unknown, path: string, allowed: readonly string[], at: (field: string) => string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(path, `expected an object, found ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const hint = nearest(key, allowed);
      throw new ConfigError(at(key), `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.join(', ')}`);
    }
  }
  return value as Record<string, unknown>;
}

/** `value`, or `fallback` when absent (every default is valid, so it is not checked). */
function number(value: unknown, path: string, fallback: number, expected: string, valid: (v: number) => boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) throw new ConfigError(path, `expected ${expected}, found ${describe(value)}`);
  return value;
}

function integer(value: unknown, path: string, fallback: number, min: number, max: number): number {
  const range = max === INT32_MAX ? `≥ ${min}` : `in [${min}, ${max}]`;
  return number(value, path, fallback, `an integer ${range}`, (v) => Number.isInteger(v) && v >= min && v <= max);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? String(value);
}
