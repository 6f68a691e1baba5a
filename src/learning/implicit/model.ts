import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../core/files.js';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataFormatError } from '../../core/errors.js';
import type { Progress } from '../../core/progress.js';
import type { RandomStream } from '../../core/random.js';
import { gatherRows } from '../gather-rows.js';

/**
 * Matrix factorisation as in Rel-MF's code (`PointwiseRecommender`): user and item embeddings
 * U ∈ R^{users×d}, V ∈ R^{items×d}, Xavier-uniform initialised (limit √(6 / (rows + d)), per matrix as
 * tf.contrib's xavier_initializer), no bias terms, ŷ_ui = σ(u_u · v_i). Weights come from a seeded
 * stream so the same seed gives the same model on every backend.
 */
export class MatrixFactorization {
  readonly userEmbedding: tf.Variable;
  readonly itemEmbedding: tf.Variable;

  private constructor(
    readonly numUsers: number,
    readonly numItems: number,
    readonly dimension: number,
    users: Float32Array,
    items: Float32Array,
  ) {
    // tf.variable keeps its own reference to the data: the initial tensors are released by tidy.
    [this.userEmbedding, this.itemEmbedding] = tf.tidy(() => [tf.variable(tf.tensor2d(users, [numUsers, dimension]), true), tf.variable(tf.tensor2d(items, [numItems, dimension]), true)]);
  }

  static create(numUsers: number, numItems: number, dimension: number, rng: RandomStream): MatrixFactorization {
    for (const [name, v] of [
      ['users', numUsers],
      ['items', numItems],
      ['dimension', dimension],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new ConfigError(`model.${name}`, `expected an integer ≥ 1, found ${v}`);
    }
    const xavier = (rows: number, stream: RandomStream) => {
      const limit = Math.sqrt(6 / (rows + dimension));
      return Float32Array.from({ length: rows * dimension }, () => (2 * stream.uniform() - 1) * limit);
    };
    return new MatrixFactorization(numUsers, numItems, dimension, xavier(numUsers, rng.derive('users')), xavier(numItems, rng.derive('items')));
  }

  /** A model with the given weights (row-major U, then V), e.g. NBPO's uniform initialisation. */
  static fromWeights(numUsers: number, numItems: number, dimension: number, users: Float32Array, items: Float32Array): MatrixFactorization {
    if (users.length !== numUsers * dimension || items.length !== numItems * dimension) {
      throw new ConfigError('model.weights', `expected ${numUsers} × ${dimension} and ${numItems} × ${dimension} values, found ${users.length} and ${items.length}`);
    }
    return new MatrixFactorization(numUsers, numItems, dimension, users, items);
  }

  get variables(): tf.Variable[] {
    return [this.userEmbedding, this.itemEmbedding];
  }

  /** Logits u_u · v_i of a batch of pairs (differentiable; wasm-safe gathers). */
  logits(users: tf.Tensor1D, items: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.sum(tf.mul(gatherRows(this.userEmbedding as tf.Tensor2D, users), gatherRows(this.itemEmbedding as tf.Tensor2D, items)), 1) as tf.Tensor1D);
  }

  /** The rows u_u and v_i of a batch of pairs (differentiable; wasm-safe gathers). */
  rows(users: tf.Tensor1D, items: tf.Tensor1D): [tf.Tensor2D, tf.Tensor2D] {
    return [gatherRows(this.userEmbedding as tf.Tensor2D, users), gatherRows(this.itemEmbedding as tf.Tensor2D, items)];
  }

  /** A copy of the weights for scoring in JS (ranking needs only logits: σ is monotone). */
  factors(): FactorScores {
    return new FactorScores(this.numItems, this.dimension, this.userEmbedding.dataSync() as Float32Array, this.itemEmbedding.dataSync() as Float32Array);
  }

  snapshot(): [Float32Array, Float32Array] {
    return [Float32Array.from(this.userEmbedding.dataSync()), Float32Array.from(this.itemEmbedding.dataSync())];
  }

  restore([users, items]: [Float32Array, Float32Array]): void {
    tf.tidy(() => {
      this.userEmbedding.assign(tf.tensor2d(users, [this.numUsers, this.dimension]));
      this.itemEmbedding.assign(tf.tensor2d(items, [this.numItems, this.dimension]));
    });
  }

  dispose(): void {
    this.userEmbedding.dispose();
    this.itemEmbedding.dispose();
  }

  /**
   * Writes `model.json` (the description: format, sizes, and whatever `description` adds, e.g. the
   * learner and its metrics) and `weights.bin` (little-endian float32, U row-major then V).
   */
  async save(folder: string, description: Record<string, unknown> = {}): Promise<void> {
    await mkdir(folder, { recursive: true });
    const [users, items] = this.snapshot();
    const bytes = Buffer.alloc(4 * (users.length + items.length));
    users.forEach((v, j) => {
      bytes.writeFloatLE(v, 4 * j);
    });
    items.forEach((v, j) => {
      bytes.writeFloatLE(v, 4 * (users.length + j));
    });
    writeFileAtomic(path.join(folder, WEIGHTS_FILE), bytes);
    const json = { ...description, format: MF_MODEL_FORMAT, numUsers: this.numUsers, numItems: this.numItems, dimension: this.dimension, weights: WEIGHTS_FILE };
    writeFileAtomic(path.join(folder, DESCRIPTION_FILE), `${JSON.stringify(json, null, 2)}\n`);
  }

  /** Reads a folder written by `save`; returns the model and its description. */
  static async load(folder: string): Promise<{ model: MatrixFactorization; description: Record<string, unknown> }> {
    const file = path.join(folder, DESCRIPTION_FILE);
    let description: Record<string, unknown>;
    try {
      description = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new DataFormatError(file, null, `expected a JSON model description (${error instanceof Error ? error.message : String(error)})`);
    }
    if (description.format !== MF_MODEL_FORMAT) throw new DataFormatError(file, null, `expected "format": "${MF_MODEL_FORMAT}", found ${JSON.stringify(description.format)}`);
    const size = (key: string): number => {
      const v = description[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new DataFormatError(file, null, `expected "${key}" to be an integer ≥ 1, found ${JSON.stringify(v)}`);
      return v;
    };
    const [numUsers, numItems, dimension] = [size('numUsers'), size('numItems'), size('dimension')];
    const weightsFile = path.join(folder, WEIGHTS_FILE);
    const bytes = await readFile(weightsFile);
    const expected = 4 * dimension * (numUsers + numItems);
    if (bytes.length !== expected) throw new DataFormatError(weightsFile, null, `expected ${expected} bytes (${numUsers} + ${numItems} rows × ${dimension} float32), found ${bytes.length}`);
    const values = Float32Array.from({ length: expected / 4 }, (_, j) => bytes.readFloatLE(4 * j));
    const split = numUsers * dimension;
    return { model: new MatrixFactorization(numUsers, numItems, dimension, values.slice(0, split), values.slice(split)), description };
  }
}

export const MF_MODEL_FORMAT = 'clicklab/matrix-factorization@1';
const DESCRIPTION_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Logits u_u · v_i from plain arrays: fast scoring for evaluation and top-K lists. */
export class FactorScores {
  constructor(
    readonly numItems: number,
    readonly dimension: number,
    readonly users: Float32Array,
    readonly items: Float32Array,
  ) {}

  score(user: number, item: number): number {
    const d = this.dimension;
    let z = 0;
    for (let k = 0, a = user * d, b = item * d; k < d; k++) z += this.users[a + k] * this.items[b + k];
    return z;
  }

  /** The k best items of `user` by logit, best first (ties: lower item first), skipping `exclude`d ones. */
  topItems(user: number, k: number, exclude?: (item: number) => boolean): Int32Array {
    const candidates: number[] = [];
    const scores = new Float64Array(this.numItems);
    for (let i = 0; i < this.numItems; i++) {
      if (exclude?.(i)) continue;
      scores[i] = this.score(user, i);
      candidates.push(i);
    }
    candidates.sort((a, b) => scores[b] - scores[a] || a - b);
    return Int32Array.from(candidates.slice(0, k));
  }
}

/** What every recommender's training loop shares: validation looks, early stopping, randomness, progress. */
export interface ValidatedTraining {
  readonly evalEvery?: number;
  /** Looks without a better validation score before stopping (default 6; 0: never stop early). */
  readonly patience?: number;
  /** Validation score of the current weights (higher is better); without it the last step is kept. */
  readonly validate?: (scores: FactorScores) => number;
  readonly rng: RandomStream;
  readonly progress?: Progress;
  readonly label?: string;
}
