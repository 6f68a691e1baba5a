/**
 * A contextual slate world with exact truth: U users and A items with latent factors,
 * attractiveness α(u, a) = σ(b + x_u·y_a), K slots, and clicks from a position-based model
 * (P(click at k) = κ_k α) or a cascade (the user scans down and clicks the first attractive item).
 * A logging and an evaluation policy, both Plackett–Luce (softmax without replacement) over
 * different scores, so every slate has positive probability under both; their whole-slate, top-k
 * prefix and item-at-position probabilities are exact (every ordered slate of every user is
 * enumerated), and so is the evaluation policy's value
 *
 *     V(π) = (1/U) Σ_u Σ_s π(s | u) (1/K) Σ_k E[click_k | u, s]       (expected CTR per slot).
 */
import { ConfigError } from '../core/errors.js';
import { randomStream, type RandomStream } from '../core/random.js';

export type SlateClickModel = 'pbm' | 'cascade';

export interface SlateWorldOptions {
  readonly users?: number;
  readonly items?: number;
  readonly slateSize?: number;
  readonly dimension?: number;
  /** Logit offset b of the attractiveness (default −2: α around 0.1–0.2). */
  readonly bias?: number;
  readonly clickModel?: SlateClickModel;
  /** PBM examination κ_k per slot (default 1, 0.6, 0.35). */
  readonly examination?: readonly number[];
  /** Softmax inverse temperatures of the logging and evaluation policies (defaults 0.5 and 2). */
  readonly loggingSharpness?: number;
  readonly evaluationSharpness?: number;
  /** Noise (standard deviation) of the logging policy's scores around the true logits (default 1). */
  readonly loggingNoise?: number;
}

/** A world with both policies' exact probabilities of every ordered slate, per user. */
export interface SlateWorld {
  readonly users: number;
  readonly items: number;
  readonly slateSize: number;
  readonly clickModel: SlateClickModel;
  readonly examination: Float64Array;
  /** α(u, a), users × items. */
  readonly attractiveness: Float64Array;
  /** Every ordered slate of K distinct items, slates × K. */
  readonly slates: Int32Array;
  readonly numSlates: number;
  readonly logging: PolicyTables;
  readonly evaluation: PolicyTables;
  /** E[click at k | u, a at k] under PBM (κ_k α(u, a)), users × items × K; under cascade it depends on the slate. */
  readonly pbmRewardTable: Float64Array;
}

/** Exact probabilities of a Plackett–Luce policy in a world. */
export interface PolicyTables {
  /** Softmax scores, users × items. */
  readonly scores: Float64Array;
  /** π(slate | u), users × slates. */
  readonly slate: Float64Array;
  /** π(items at positions 1..k | u), users × slates × K. */
  readonly prefix: Float64Array;
  /** π(a at k | u), users × items × K. */
  readonly marginal: Float64Array;
  /** V(π): expected clicks per slot. */
  readonly value: number;
}

function enumerateSlates(items: number, K: number): Int32Array {
  const out: number[] = [];
  const current: number[] = [];
  const used = new Uint8Array(items);
  const walk = (): void => {
    if (current.length === K) {
      out.push(...current);
      return;
    }
    for (let a = 0; a < items; a++) {
      if (used[a]) continue;
      used[a] = 1;
      current.push(a);
      walk();
      current.pop();
      used[a] = 0;
    }
  };
  walk();
  return Int32Array.from(out);
}

/** E[Σ_k click_k] / K for user u and slate s. */
function slateReward(world: Pick<SlateWorld, 'clickModel' | 'examination' | 'attractiveness' | 'items' | 'slateSize'>, u: number, slate: ArrayLike<number>, offset: number): number {
  const K = world.slateSize;
  let total = 0;
  let reach = 1;
  for (let k = 0; k < K; k++) {
    const alpha = world.attractiveness[u * world.items + slate[offset + k]];
    if (world.clickModel === 'pbm') {
      total += world.examination[k] * alpha;
    } else {
      total += reach * alpha;
      reach *= 1 - alpha;
    }
  }
  return total / K;
}

function policyTables(world: Omit<SlateWorld, 'logging' | 'evaluation'>, scores: Float64Array): PolicyTables {
  const { users: U, items: A, slateSize: K, slates, numSlates: S } = world;
  const slate = new Float64Array(U * S);
  const prefix = new Float64Array(U * S * K);
  const marginal = new Float64Array(U * A * K);
  let value = 0;
  const expScore = new Float64Array(A);
  for (let u = 0; u < U; u++) {
    let total = 0;
    for (let a = 0; a < A; a++) {
      expScore[a] = Math.exp(scores[u * A + a]);
      total += expScore[a];
    }
    for (let s = 0; s < S; s++) {
      // Plackett–Luce: π(a_1..a_K) = Π_k exp(s_{a_k}) / (Σ_all − Σ_{j<k} exp(s_{a_j})).
      let p = 1;
      let remaining = total;
      for (let k = 0; k < K; k++) {
        const a = slates[s * K + k];
        p *= expScore[a] / remaining;
        remaining -= expScore[a];
        prefix[(u * S + s) * K + k] = p;
      }
      slate[u * S + s] = p;
      for (let k = 0; k < K; k++) marginal[(u * A + slates[s * K + k]) * K + k] += p;
      value += p * slateReward(world, u, slates, s * K);
    }
  }
  return { scores, slate, prefix, marginal, value: value / U };
}

/** Builds a world from a seed (factors, policies' scores) with every probability exact. */
export function createSlateWorld(seed: string | number, options: SlateWorldOptions = {}): SlateWorld {
  const U = options.users ?? 20;
  const A = options.items ?? 8;
  const K = options.slateSize ?? 3;
  const d = options.dimension ?? 4;
  const bias = options.bias ?? -2;
  const clickModel = options.clickModel ?? 'pbm';
  if (clickModel !== 'pbm' && clickModel !== 'cascade') throw new ConfigError('clickModel', `expected 'pbm' or 'cascade', found '${String(clickModel)}'`);
  for (const [name, v] of [
    ['users', U],
    ['items', A],
    ['slateSize', K],
    ['dimension', d],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `expected an integer ≥ 1, found ${v}`);
  }
  if (K > A) throw new ConfigError('slateSize', `expected at most ${A} (items), found ${K}`);
  const examination = Float64Array.from({ length: K }, (_, k) => (options.examination ?? [1, 0.6, 0.35])[Math.min(k, (options.examination ?? [1, 0.6, 0.35]).length - 1)]);
  const rng = randomStream(seed).derive('slate-world');
  const x = Float64Array.from({ length: U * d }, () => (rng.normal() / Math.sqrt(d)) * 1.5);
  const y = Float64Array.from({ length: A * d }, () => rng.normal());
  const logit = new Float64Array(U * A);
  const attractiveness = new Float64Array(U * A);
  for (let u = 0; u < U; u++) {
    for (let a = 0; a < A; a++) {
      let z = bias;
      for (let j = 0; j < d; j++) z += x[u * d + j] * y[a * d + j];
      logit[u * A + a] = z;
      attractiveness[u * A + a] = 1 / (1 + Math.exp(-z));
    }
  }
  const slates = enumerateSlates(A, K);
  const numSlates = slates.length / K;
  const pbmRewardTable = new Float64Array(U * A * K);
  for (let u = 0; u < U; u++) for (let a = 0; a < A; a++) for (let k = 0; k < K; k++) pbmRewardTable[(u * A + a) * K + k] = examination[k] * attractiveness[u * A + a];
  const base = { users: U, items: A, slateSize: K, clickModel, examination, attractiveness, slates, numSlates, pbmRewardTable };
  const noise = options.loggingNoise ?? 1;
  const loggingScores = Float64Array.from(logit, (z) => (options.loggingSharpness ?? 0.5) * (z + noise * rng.normal()));
  const evaluationScores = Float64Array.from(logit, (z) => (options.evaluationSharpness ?? 2) * z);
  return { ...base, logging: policyTables(base, loggingScores), evaluation: policyTables(base, evaluationScores) };
}

/** A logged sample: `slates` impressions, each a uniformly drawn user and a slate from the logging policy. */
export interface SimulatedSlateLog {
  readonly slates: number;
  readonly user: Int32Array;
  /** Index of the logged slate in `world.slates`. */
  readonly slateIndex: Int32Array;
  /** Clicks, slates × K. */
  readonly click: Uint8Array;
}

export function sampleSimulatedSlateLog(world: SlateWorld, slates: number, rng: RandomStream): SimulatedSlateLog {
  const { users: U, numSlates: S, slateSize: K, items: A } = world;
  const user = new Int32Array(slates);
  const slateIndex = new Int32Array(slates);
  const click = new Uint8Array(slates * K);
  for (let t = 0; t < slates; t++) {
    const u = rng.int(U);
    user[t] = u;
    // Inverse CDF over the user's enumerated slates (exact, same probabilities as sequential PL draws).
    let r = rng.uniform();
    let s = 0;
    const row = world.logging.slate;
    for (; s < S - 1; s++) {
      r -= row[u * S + s];
      if (r < 0) break;
    }
    slateIndex[t] = s;
    for (let k = 0; k < K; k++) {
      const alpha = world.attractiveness[u * A + world.slates[s * K + k]];
      if (world.clickModel === 'pbm') {
        click[t * K + k] = rng.uniform() < world.examination[k] * alpha ? 1 : 0;
      } else {
        const clicked = rng.uniform() < alpha;
        click[t * K + k] = clicked ? 1 : 0;
        if (clicked) break; // the cascade user stops at the first click
      }
    }
  }
  return { slates, user, slateIndex, click };
}
