/** Batched inference of a tfjs model over 48×48 grayscale bytes. */
import { tf } from '../engine/tf.js';
import { ttaAffines, viewBatch, type Tta } from '../data/augment.js';
import { IMAGE_SIZE } from '../data/classes.js';

export type { Tta };

/** What predictProbs runs: a tfjs model, or anything that maps a batch to probabilities. */
export interface Predictor {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
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
  let out = new Float32Array(0);
  const views = ttaAffines(tta);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const p = tf.tidy(() =>
      views
        .map((m) => model.predict(tf.tensor4d(viewBatch(images, idx, m), [idx.length, IMAGE_SIZE, IMAGE_SIZE, 1])) as tf.Tensor)
        .reduce((a, b) => tf.add(a, b))
        .div(views.length),
    );
    const classes = p.shape[1]!;
    if (start === 0) out = new Float32Array(n * classes);
    out.set(p.dataSync() as Float32Array, start * classes);
    p.dispose();
    onProgress?.(start + idx.length, n);
  }
  return out;
}
