import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';

/**
 * Dense layer x · W + b with a hand-written gradient. TF.js's own gradients multiply with transpose
 * flags and reduce the bias gradient with a column sum, both of which the wasm backend runs several
 * times slower than a plain product after an explicit transpose (see \`npm run bench\`); this
 * halves a training step there and changes nothing else.
 */
const dense = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor[]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.reshape(tf.matMul(tf.ones([1, dy.shape[0]]), dy), [-1])],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** A scoring model: linear, or an MLP with ELU hidden layers (e.g. 64-32) and a linear output. */
export interface ModelSpec {
  readonly type: 'linear' | 'mlp';
  /** Hidden layer widths of the MLP (ignored for linear). */
  readonly hidden?: readonly number[];
}

/** What training needs of a model: its variables, a differentiable score, and checkpoints. */
export interface Scorer {
  readonly numFeatures: number;
  readonly variables: tf.Variable[];
  /** Scores of `features` [n, numFeatures] → [n]. */
  score(features: tf.Tensor2D): tf.Tensor1D;
  snapshot(): Float32Array[];
  restore(snapshot: Float32Array[]): void;
}

/**
 * A feed-forward scorer f(x) → one score per document. Weights are drawn from a seeded stream
 * (Glorot uniform, zero biases) rather than TF.js's own generator, so that the same seed gives the
 * same model on every backend; or given (`snapshot()` order: weight, bias per layer), to copy or
 * load a model.
 */
export class ScoringModel implements Scorer {
  readonly variables: tf.Variable[];
  private readonly layers: { weight: tf.Variable; bias: tf.Variable }[] = [];

  constructor(
    readonly spec: ModelSpec,
    readonly numFeatures: number,
    init: RandomStream | readonly Float32Array[],
  ) {
    const hidden = spec.type === 'mlp' ? (spec.hidden ?? [64, 32]) : [];
    if (spec.type !== 'linear' && spec.type !== 'mlp') {
      throw new ConfigError('model.type', `expected "linear" or "mlp", found "${String(spec.type)}"`);
    }
    for (const [i, width] of hidden.entries()) {
      if (!Number.isInteger(width) || width < 1) {
        throw new ConfigError(`model.hidden[${i}]`, `expected a positive integer, found ${width}`);
      }
    }
    const widths = [numFeatures, ...hidden, 1];
    const given = Array.isArray(init) ? (init as readonly Float32Array[]) : null;
    if (given && given.length !== 2 * (widths.length - 1)) {
      throw new ConfigError('model weights', `expected ${2 * (widths.length - 1)} arrays (weight and bias per layer), found ${given.length}`);
    }
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fanIn, fanOut] = [widths[l], widths[l + 1]];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const values = given ? given[2 * l] : Float32Array.from({ length: fanIn * fanOut }, () => (2 * (init as RandomStream).uniform() - 1) * limit);
      const bias = given ? given[2 * l + 1] : new Float32Array(fanOut);
      if (values.length !== fanIn * fanOut || bias.length !== fanOut) {
        throw new ConfigError(`model weights[${2 * l}]`, `layer ${l + 1} needs ${fanIn} × ${fanOut} weights and ${fanOut} biases, found ${values.length} and ${bias.length}`);
      }
      // tidy: tf.variable copies its initial value, which would otherwise stay allocated.
      this.layers.push(
        tf.tidy(() => ({
          weight: tf.variable(tf.tensor2d(values, [fanIn, fanOut]), true, undefined),
          bias: tf.variable(tf.tensor1d(bias), true, undefined),
        })),
      );
    }
    this.variables = this.layers.flatMap((layer) => [layer.weight, layer.bias]);
  }

  /** Scores of `features` [n, numFeatures] → [n]. */
  score(features: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = features;
      this.layers.forEach((layer, i) => {
        h = dense(h, layer.weight as tf.Tensor2D, layer.bias as tf.Tensor1D);
        if (i + 1 < this.layers.length) h = tf.elu(h);
      });
      return tf.reshape(h, [-1]) as tf.Tensor1D;
    });
  }

  /** Scores of a row-major Float32 feature matrix, in chunks to bound memory. */
  scoreArray(features: Float32Array, chunkRows = 8192): Float32Array {
    const n = features.length / this.numFeatures;
    const out = new Float32Array(n);
    for (let start = 0; start < n; start += chunkRows) {
      const end = Math.min(n, start + chunkRows);
      const chunk = tf.tensor2d(features.subarray(start * this.numFeatures, end * this.numFeatures), [end - start, this.numFeatures]);
      const scores = this.score(chunk);
      out.set(scores.dataSync(), start);
      tf.dispose([chunk, scores]);
    }
    return out;
  }

  /** A copy of the current weights (for keeping the best checkpoint). */
  snapshot(): Float32Array[] {
    return this.variables.map((v) => v.dataSync().slice() as Float32Array);
  }

  /** A new model with the same architecture and a copy of the current weights. */
  copy(): ScoringModel {
    return new ScoringModel(this.spec, this.numFeatures, this.snapshot());
  }

  restore(snapshot: Float32Array[]): void {
    this.variables.forEach((v, i) => {
      const value = tf.tensor(snapshot[i], v.shape);
      v.assign(value);
      value.dispose();
    });
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
