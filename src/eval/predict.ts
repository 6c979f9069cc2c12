/** Batched inference of a tfjs model over 48×48 grayscale bytes. */
import { tf } from '../engine/tf.js';
import { makeBatch, flipBatch } from '../data/augment.js';
import { NUM_CLASSES } from '../data/classes.js';

export type Tta = 'none' | 'flip';

/** Softmax probabilities, [n × 7], in inference mode; `flip` averages with the mirrored image. */
/** What predictProbs runs: a tfjs model, or anything that maps a batch to probabilities. */
export interface Predictor { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }

export function predictProbs(model: Predictor, images: Uint8Array, n: number, tta: Tta = 'none', batchSize = 256): Float32Array {
  const out = new Float32Array(n * NUM_CLASSES);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const xs = makeBatch(images, idx);
    const p = tf.tidy(() => {
      const run = (data: Float32Array) => model.predict(tf.tensor4d(data, [idx.length, 48, 48, 1])) as tf.Tensor;
      const probs = tta === 'flip' ? tf.div(tf.add(run(xs), run(flipBatch(xs))), 2) : run(xs);
      return probs;
    });
    out.set(p.dataSync() as Float32Array, start * NUM_CLASSES);
    p.dispose();
  }
  return out;
}
