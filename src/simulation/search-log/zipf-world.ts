/**
 * A synthetic web-search world shaped like Baidu-ULTR's logs, for benchmarks at real scale: query
 * frequencies follow a power law (Zipf-like, with a long tail of queries seen once or never), every
 * query has `candidates` documents, and each session shows the top `cutoff` of one of `rankings`
 * rotations of them (a few rankers in production, as in real logs), so the distinct (query, document)
 * pairs of a log grow with its length as they do in Baidu-ULTR (1.2 billion sessions, 1.3–2.1 billion
 * pairs by CLAX's count). Nothing is held per query: a document's attractiveness is a hash of the
 * world's seed and the pair, so a world of 10⁹ queries costs no memory and every partition drawn
 * with another `--seed` shares it.
 *
 * Query q (0-based, q = 0 the most frequent) is drawn by inverting the continuous power law on
 * [1, Q + 1) with density ∝ x^(−s) and taking ⌊x⌋ − 1: P(q) ≈ ((q + 1)^(1−s) − (q + 2)^(1−s)) / ((Q + 1)^(1−s) − 1),
 * Zipf's law with exponent s up to the discretisation (s = 1: log-uniform). Document j of query q
 * has id q · candidates + j; ranking r shows document (k + r) mod candidates at rank k, so each
 * document is at a given rank in at most one ranking and the logging propensity is 1 / rankings.
 */
import { ConfigError } from '../../core/errors.js';
import type { RandomStream } from '../../core/random.js';
import type { ClickLog, ClickLogTruth } from '../../core/types.js';
import type { ClickModel } from '../click-model.js';

export interface ZipfWorldSpec {
  /** Number of queries Q (default 10⁶). */
  readonly queries: number;
  /** The power-law exponent s of the query frequencies (default 1). */
  readonly exponent: number;
  /** Documents per query (default cutoff + 2). */
  readonly candidates: number;
  /** Rankings per query, shown with equal probability (default 3). */
  readonly rankings: number;
  /** The world's own seed: the attractiveness of every pair (default 1). */
  readonly seed: number;
}

/** Query and document ids must fit clicklab's 32-bit id columns. */
const MAX_ID = 2 ** 31 - 1;

/** The spec with its defaults, checked (`field` names it in messages). */
export function resolveZipfWorld(spec: Partial<ZipfWorldSpec>, cutoff: number, field: string): ZipfWorldSpec {
  const known = new Set(['queries', 'exponent', 'candidates', 'rankings', 'seed']);
  for (const key of Object.keys(spec)) if (!known.has(key)) throw new ConfigError(field, `unknown field "${key}"; expected ${[...known].join(', ')}`);
  const out = { queries: spec.queries ?? 1_000_000, exponent: spec.exponent ?? 1, candidates: spec.candidates ?? cutoff + 2, rankings: spec.rankings ?? 3, seed: spec.seed ?? 1 };
  const integer = (name: keyof ZipfWorldSpec, min: number) => {
    if (!Number.isInteger(out[name]) || out[name] < min) throw new ConfigError(field, `"${name}": expected an integer ≥ ${min}, found ${JSON.stringify(out[name])}`);
  };
  integer('queries', 1);
  integer('candidates', cutoff);
  integer('rankings', 1);
  integer('seed', 0);
  if (!(out.exponent > 0)) throw new ConfigError(field, `"exponent": expected a number > 0, found ${JSON.stringify(out.exponent)}`);
  if (out.rankings > out.candidates) throw new ConfigError(field, `"rankings": expected at most "candidates" (${out.candidates}) rotations, found ${out.rankings}`);
  if (out.queries * out.candidates > MAX_ID) throw new ConfigError(field, `expected queries × candidates ≤ 2^31 − 1 (document ids are 32-bit), found ${out.queries} × ${out.candidates}`);
  return out;
}

/** A uniform number in [0, 1) from a hash of (seed, query, document index): the pair's fixed draw. */
function pairUniform(seed: number, query: number, j: number): number {
  let h = Math.imul(query ^ Math.imul(seed, 0x27d4eb2d), 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
}

/**
 * The attractiveness of document j of query q: skewed towards low values (most results are not
 * clicked), and higher for the documents the production ranker puts first (j small), as a ranker
 * that is better than chance would.
 */
export function zipfAttractiveness(world: ZipfWorldSpec, query: number, j: number): number {
  const u = pairUniform(world.seed, query, j);
  return 0.02 + 0.9 * u ** (1 + (3 * j) / world.candidates);
}

/** Draws a query: ⌊x⌋ − 1 for x from the power law on [1, Q + 1) (see the top of this file). */
function zipfQuery(world: ZipfWorldSpec, top: number, u: number): number {
  const s = world.exponent;
  const x = s === 1 ? Math.exp(u * top) : (1 + u * top) ** (1 / (1 - s));
  return Math.min(world.queries - 1, Math.floor(x) - 1);
}

/**
 * `numSessions` sessions of the world (top `cutoff`), clicked by `clickModel`; the rng's draws per
 * session are the query, the ranking and then the click model's.
 */
export function simulateZipfSessions(
  world: ZipfWorldSpec,
  clickModel: ClickModel,
  cutoff: number,
  numSessions: number,
  rng: RandomStream,
): { readonly log: ClickLog; readonly propensity: Float32Array; readonly truth: ClickLogTruth } {
  const rows = numSessions * cutoff;
  const log: ClickLog = {
    sessionQuery: new Int32Array(numSessions),
    sessionOffsets: new Int32Array(numSessions + 1),
    document: new Int32Array(rows),
    position: new Uint16Array(rows),
    click: new Uint8Array(rows),
  };
  const truth: ClickLogTruth = { examinationProbability: new Float32Array(rows), relevanceProbability: new Float32Array(rows), examined: new Uint8Array(rows) };
  const propensity = new Float32Array(rows).fill(1 / world.rankings);
  const out = { click: log.click, examined: truth.examined, examinationProbability: truth.examinationProbability };
  // The normaliser of the inverse CDF: ln(Q + 1) for s = 1, (Q + 1)^(1−s) − 1 otherwise.
  const top = world.exponent === 1 ? Math.log(world.queries + 1) : (world.queries + 1) ** (1 - world.exponent) - 1;
  const D = world.candidates;
  for (let s = 0; s < numSessions; s++) {
    const q = zipfQuery(world, top, rng.uniform());
    const r = Math.floor(rng.uniform() * world.rankings);
    const start = s * cutoff;
    log.sessionQuery[s] = q;
    log.sessionOffsets[s + 1] = start + cutoff;
    for (let k = 0; k < cutoff; k++) {
      const j = (k + r) % D;
      log.document[start + k] = q * D + j;
      log.position[start + k] = k;
      truth.relevanceProbability[start + k] = zipfAttractiveness(world, q, j);
    }
    clickModel.simulate(truth.relevanceProbability, start, cutoff, rng, out);
  }
  return { log, propensity, truth };
}
