/**
 * Weight averaging (SWA, Izmailov et al. 2018): the mean of several snapshots of one network taken along
 * one training trajectory (e.g. the ends of successive cosine cycles) is one network of the same size that
 * often generalizes better than any snapshot. The batch-norm statistics of an averaged network are not the
 * average of its snapshots' statistics, so they are re-estimated with a forward pass over training data.
 */
import { tf } from '../engine/tf.js';
import { ModelError } from '../errors.js';
import { makeBatch, NO_AUGMENT, type AugmentOptions } from '../data/augment.js';
import { IMAGE_SIZE } from '../data/classes.js';
import { Rng } from '../util/rng.js';
import { BATCH_NORM_CLASS } from '../model/batch-norm.js';
import { batchNormInternals } from '../engine/tfjs-internals.js';

/** Sets `target`'s weights to the element-wise mean of `models`' weights (same architecture required). */
export function averageWeightsInto(target: tf.LayersModel, models: tf.LayersModel[], paths?: string[]): void {
  if (models.length === 0) throw new ModelError('average: no models');
  const label = (i: number, m: tf.LayersModel) => paths?.[i] ?? `"${m.name}"`;
  // Layer names carry per-process suffixes (conv2d_3): compare each weight's kind (kernel, gamma…) and shape.
  const names = (m: tf.LayersModel) => m.weights.map((w) => `${w.originalName.split('/').pop()}:${w.shape.join('x')}`);
  const ref = names(target);
  for (const [k, m] of models.entries()) {
    const n = names(m);
    if (n.length !== ref.length || n.some((s, i) => s !== ref[i])) {
      throw new ModelError(`average: ${label(k, m)} has other weights than ${label(0, target)} (a different architecture)`);
    }
  }
  const mean = tf.tidy(() => {
    const all = models.map((m) => m.getWeights());
    return ref.map((_, i) => tf.div(tf.addN(all.map((ws) => ws[i])), models.length));
  });
  target.setWeights(mean);
  tf.dispose(mean);
}

const isBatchNorm = (l: tf.layers.Layer) => l.getClassName() === BATCH_NORM_CLASS;

/**
 * Re-estimates every batch-norm layer's moving mean and variance as the plain average of its batch
 * statistics over `images` (uint8, N×48×48), in shuffled batches of `batchSize` (the last partial one
 * dropped), un-augmented unless `augment` says otherwise: batch k updates the moving value with weight
 * 1/(k+1), which is what setting the layer's momentum to k/(k+1) does. Returns the number of batches used.
 * The layers' momentum is restored afterwards. The forward passes run in training mode (fer's networks
 * have no dropout that this would switch on).
 */
export function recalibrateBatchNorm(
  model: tf.LayersModel,
  images: Uint8Array,
  count: number,
  {
    batchSize = 256,
    seed = 1,
    augment = NO_AUGMENT,
    onBatch,
  }: { batchSize?: number; seed?: number; augment?: AugmentOptions; onBatch?: (done: number, total: number) => void } = {},
): number {
  const bns = model.layers.filter(isBatchNorm).map(batchNormInternals);
  if (bns.length === 0) return 0;
  const saved = bns.map((l) => l.momentum);
  const batches = Math.floor(count / batchSize) || 1;
  // Shuffled: datasets are stored class by class, and batches of one class would miss the variance between classes.
  const rng = new Rng(seed);
  const order = rng.shuffle([...Array(count).keys()]);
  try {
    for (let k = 0; k < batches; k++) {
      for (const l of bns) l.momentum = k / (k + 1);
      const n = Math.min(batchSize, count - k * batchSize);
      const idx = order.slice(k * batchSize, k * batchSize + n);
      const xs = makeBatch(images, idx, augment, rng);
      tf.tidy(() => {
        model.apply(tf.tensor4d(xs, [n, IMAGE_SIZE, IMAGE_SIZE, 1]), { training: true });
      });
      onBatch?.(k + 1, batches);
    }
  } finally {
    bns.forEach((l, i) => {
      l.momentum = saved[i];
    });
  }
  return batches;
}
