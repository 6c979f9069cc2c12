/**
 * What a short fine-tune after pruning or quantization needs to recover (issue 36): batch-norm statistics
 * re-estimated whenever the weights change (after pruning, after the fine-tune, before calibration). The
 * gradual sparsity ramp and online distillation from the dense model are options of train/finetune.ts.
 */
import type { tf } from '../engine/tf.js';
import type { Dataset } from '../data/dataset.js';
import { loadModel, saveModel, type FerMetadata } from '../model/io.js';
import { recalibrateBatchNorm } from '../train/average.js';

/** Images per batch-norm batch: the statistics of a batch this size are close to the data's. */
export const BN_BATCH = 256;

export type { BatchNormNote } from './options.js';
import type { BatchNormNote } from './options.js';

/**
 * Every batch-norm layer's moving mean and variance replaced by the average of its batch statistics over
 * `ds`'s plain (un-augmented) images in shuffled batches of up to 256 (train/average.ts): after pruning or
 * quantizing, each layer's inputs have moved and the stored statistics describe the old network; after a
 * short fine-tune, they are a mix of old and new (momentum 0.99 keeps 1 − 0.99^64 ≈ 47% of the new in 64 steps).
 */
export function reestimateBatchNorm(model: tf.LayersModel, ds: Pick<Dataset, 'images' | 'size'>, seed = 1): BatchNormNote {
  const t0 = Date.now();
  const batchSize = Math.min(BN_BATCH, ds.size);
  const batches = recalibrateBatchNorm(model, ds.images, ds.size, { batchSize, seed });
  return { images: batches * batchSize, batches, seconds: (Date.now() - t0) / 1000 };
}

/** Loads the model in `dir`, re-estimates its batch norm on `ds`, and writes it back in place (noted in trainedWith). */
export async function reestimateSaved(dir: string, ds: Pick<Dataset, 'images' | 'size'>): Promise<BatchNormNote> {
  const { model, meta } = await loadModel(dir);
  const note = reestimateBatchNorm(model, ds);
  const out: FerMetadata = { ...meta, trainedWith: { ...meta.trainedWith, batchNormReestimated: { images: note.images } } };
  await saveModel(model, dir, out);
  model.dispose();
  return note;
}
