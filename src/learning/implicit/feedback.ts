import { ConfigError } from '../../core/errors.js';

/**
 * Implicit feedback as Rel-MF trains on it: the clicked (user, item) pairs, distinct; every other
 * pair of numUsers × numItems is unlabeled (not clicked: either not exposed or not relevant).
 */
export interface ImplicitFeedback {
  readonly numUsers: number;
  readonly numItems: number;
  readonly user: Int32Array;
  readonly item: Int32Array;
}

/** Checks ids and distinctness; returns the clicked-pair bitmap (user-major, 1 = clicked). */
export function clickedMatrix(feedback: ImplicitFeedback): Uint8Array {
  const { numUsers, numItems, user, item } = feedback;
  if (user.length !== item.length) throw new ConfigError('feedback.item', `expected ${user.length} items (one per user entry), found ${item.length}`);
  const clicked = new Uint8Array(numUsers * numItems);
  for (let j = 0; j < user.length; j++) {
    const u = user[j];
    const i = item[j];
    if (!(u >= 0 && u < numUsers)) throw new ConfigError(`feedback.user[${j}]`, `expected a user id in [0, ${numUsers}), found ${u}`);
    if (!(i >= 0 && i < numItems)) throw new ConfigError(`feedback.item[${j}]`, `expected an item id in [0, ${numItems}), found ${i}`);
    if (clicked[u * numItems + i]) throw new ConfigError(`feedback[${j}]`, `expected distinct clicked pairs, found (${u}, ${i}) again`);
    clicked[u * numItems + i] = 1;
  }
  return clicked;
}

/** n_i⁺: clicks per item. */
export function itemClickCounts(feedback: ImplicitFeedback): Int32Array {
  const counts = new Int32Array(feedback.numItems);
  for (let j = 0; j < feedback.item.length; j++) counts[feedback.item[j]]++;
  return counts;
}

/**
 * Rel-MF's exposure estimate from click counts: θ_i = (n_i⁺ / max_j n_j⁺)^power, power 0.5 (the
 * authors' preprocessor). An item nobody clicked gets θ = 0; its Y/θ is never needed (Y = 0 there),
 * and a clip M > 0 lifts it to M.
 */
export function estimateItemExposure(feedback: ImplicitFeedback, power = 0.5): Float32Array {
  const counts = itemClickCounts(feedback);
  let max = 0;
  for (let i = 0; i < counts.length; i++) max = Math.max(max, counts[i]);
  if (max === 0) throw new ConfigError('feedback', 'expected at least one click to estimate exposure from, found none');
  return Float32Array.from(counts, (n) => Math.pow(n / max, power));
}

/**
 * θ_ui = P(O_ui = 1): per item (a length-numItems array, as in Rel-MF's simulation and estimate) or
 * per pair (user-major numUsers × numItems, e.g. Coat's propensities.ascii).
 */
export class ExposurePropensity {
  private constructor(
    readonly values: Float32Array,
    readonly perPair: boolean,
    private readonly numItems: number,
  ) {}

  static perItem(theta: Float32Array | Float64Array): ExposurePropensity {
    return new ExposurePropensity(checked(Float32Array.from(theta), 'propensity'), false, theta.length);
  }

  static perPair(theta: Float32Array, numUsers: number, numItems: number): ExposurePropensity {
    if (theta.length !== numUsers * numItems) throw new ConfigError('propensity', `expected ${numUsers} × ${numItems} values, found ${theta.length}`);
    return new ExposurePropensity(checked(theta, 'propensity'), true, numItems);
  }

  at(user: number, item: number): number {
    return this.perPair ? this.values[user * this.numItems + item] : this.values[item];
  }
}

function checked(theta: Float32Array, path: string): Float32Array {
  for (let j = 0; j < theta.length; j++) {
    if (!(theta[j] >= 0 && theta[j] <= 1)) throw new ConfigError(`${path}[${j}]`, `expected a probability in [0, 1], found ${theta[j]}`);
  }
  return theta;
}
