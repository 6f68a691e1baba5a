import * as tf from '@tensorflow/tfjs';

/**
 * Rows of `table` at `indices`, with the gradient as a scatter-add: TF.js's own gather gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks; ScatterNd sums duplicate indices.
 */
export const gatherRows = tf.customGrad(((table: tf.Tensor2D, indices: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([indices]);
  return {
    value: tf.gather(table, indices),
    gradFunc: (dy: tf.Tensor2D, [idx]: tf.Tensor[]) => [tf.scatterND(tf.reshape(idx, [-1, 1]), dy, table.shape), tf.zerosLike(idx)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (table: tf.Tensor2D, indices: tf.Tensor1D) => tf.Tensor2D;
