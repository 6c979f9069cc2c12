/** Batched inference of a tfjs model over 48×48 grayscale bytes. */
import { tf } from '../engine/tf.js';
import { ProbsTable, viewBatches, type Tta } from '../data/augment.js';
import { IMAGE_SIZE } from '../data/classes.js';
import { nativeInferenceFor } from '../engine/native/native-infer.js';

export type { Tta };

/**
 * What predictProbs runs: a tfjs model, or anything that maps a batch (a tf.Tensor) to probabilities (a
 * tf.Tensor). Structural, with no tfjs type: evaluation's public declarations import this module.
 */
export interface Predictor {
  predict(x: object): unknown;
}

/** Called after each batch of a long inference loop: images done of total. */
export type OnProgress = (done: number, total: number) => void;

/** Softmax probabilities, [n × classes], in inference mode, averaged over the test-time views of `tta`. */
export function predictProbs(
  model: Predictor,
  images: Uint8Array,
  n: number,
  tta: Tta = 'none',
  batchSize = 256,
  onProgress?: OnProgress,
): Float32Array {
  const table = new ProbsTable(n);
  // On fer-native, a model the step compiler knows runs natively (tested equal to predict), with its current weights.
  const native = nativeInferenceFor(model, true);
  for (const b of viewBatches(images, n, tta, batchSize)) {
    const perView = b.views.map((v) =>
      native
        ? native.probs(v, b.count)
        : tf.tidy(() => (model.predict(tf.tensor4d(v, [b.count, IMAGE_SIZE, IMAGE_SIZE, 1])) as tf.Tensor).dataSync() as Float32Array),
    );
    table.add(b, perView);
    onProgress?.(b.start + b.count, n);
  }
  return table.result;
}
