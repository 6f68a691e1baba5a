import type { RandomStream } from '../core/random.js';
import type { ClickModel } from './click-model.js';

/**
 * A slate world: user u clicks item i, once examined, with probability
 * `attractiveness[u · numItems + i]`, and examines positions as `clickModel` says. With one user
 * (the default) the world is non-contextual; with several, each round's user is drawn uniformly
 * and passed to the policy as its context.
 */
export interface BanditWorld {
  readonly numItems: number;
  readonly numUsers?: number;
  /** numUsers × numItems, row-major. */
  readonly attractiveness: Float64Array;
  readonly clickModel: ClickModel;
}

/** How a study draws its bandit worlds, one per seed. */
export interface BanditWorldSpec {
  readonly numItems: number;
  /** Item attractiveness is drawn per seed uniformly from [low, high] (non-contextual worlds). */
  readonly attractiveness: { readonly low: number; readonly high: number };
  /**
   * A contextual world instead: `users` users and the items get d-dimensional features
   * u, v ~ N(0, 1/√d) per component, and user u clicks item i, once examined, with probability
   * σ(bias + u·v). Each round's user is drawn uniformly; linear TS sees the features (their
   * outer product), the other policies only the user index.
   */
  readonly contextual?: { readonly users: number; readonly dimension: number; readonly bias: number };
}

/**
 * The world of one seed. Non-contextual: one user, attractiveness uniform in [low, high], and
 * one-hot item features for linear TS (a Gaussian posterior per item). Contextual: see `contextual`.
 */
export function drawBanditWorld(spec: BanditWorldSpec, rng: RandomStream) {
  const n = spec.numItems;
  if (!spec.contextual) {
    const { low, high } = spec.attractiveness;
    return {
      numUsers: 1,
      attractiveness: Float64Array.from({ length: n }, () => low + (high - low) * rng.uniform()),
      userFeatures: [Float64Array.of(1)],
      itemFeatures: Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))),
    };
  }
  const { users, dimension, bias } = spec.contextual;
  const scale = 1 / Math.sqrt(Math.sqrt(dimension));
  const features = (count: number) => Array.from({ length: count }, () => Float64Array.from({ length: dimension }, () => scale * rng.normal()));
  const userFeatures = features(users);
  const itemFeatures = features(n);
  const attractiveness = new Float64Array(users * n);
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < n; i++) {
      let dot = bias;
      for (let j = 0; j < dimension; j++) dot += userFeatures[u][j] * itemFeatures[i][j];
      attractiveness[u * n + i] = 1 / (1 + Math.exp(-dot));
    }
  }
  return { numUsers: users, attractiveness, userFeatures, itemFeatures };
}
