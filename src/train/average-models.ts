/**
 * The `fer average` stage over saved models (weights averaged, batch norm re-estimated). Its own module, apart
 * from train/average.ts's tfjs-typed primitives, so the package's root declarations do not load tfjs's.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { NO_AUGMENT, TRAIN_AUGMENT } from '../data/augment.js';
import type { Dataset } from '../data/dataset.js';
import { loadModel, saveModel } from '../model/io.js';
import { averageWeightsInto, recalibrateBatchNorm } from './average.js';
import { parseOptions } from '../util/options.js';

export const averageOptionsSchema = z.object({
  /** Images per batch-norm batch. */
  batchSize: z.coerce.number().int().min(2).default(256),
  /** Seed of the batch order. */
  seed: z.coerce.number().int().default(1),
  /** Augment the images as training does by default (TRAIN_AUGMENT) instead of using them plain. */
  augment: z.boolean().default(false),
});

/** averageModels's options (defaults as in the schema; `fer average`'s flags by the same names). */
export type AverageOptions = z.input<typeof averageOptionsSchema> & {
  /** After each batch-norm batch. */
  onBatch?: (done: number, total: number) => void;
};

export interface AverageResult {
  out: string;
  models: string[];
  batchNormBatches: number;
  seconds: number;
}

/**
 * `fer average`: the saved models (snapshots of one network) averaged weight by weight into the first one's
 * architecture (one model: taken as it is), its batch-norm statistics re-estimated on `data`'s images, saved
 * to `out` with `averagedFrom` in its metadata.
 */
export async function averageModels(
  models: string[],
  data: Pick<Dataset, 'images' | 'size'>,
  out: string,
  options: AverageOptions = {},
): Promise<AverageResult> {
  const o = parseOptions(averageOptionsSchema, options, 'average', ['onBatch']);
  if (models.length === 0) throw new UsageError('average: no models given');
  const loaded = [];
  try {
    for (const m of models) loaded.push(await loadModel(m));
    const [{ model: target, meta }] = loaded;
    if (loaded.length > 1)
      averageWeightsInto(
        target,
        loaded.map((l) => l.model),
        models,
      );
    const t0 = Date.now();
    const batches = recalibrateBatchNorm(target, data.images, data.size, {
      batchSize: o.batchSize,
      seed: o.seed,
      augment: o.augment ? TRAIN_AUGMENT : NO_AUGMENT,
      onBatch: options.onBatch,
    });
    const seconds = (Date.now() - t0) / 1000;
    await saveModel(target, out, { ...meta, averagedFrom: models });
    return { out, models, batchNormBatches: batches, seconds };
  } finally {
    for (const l of loaded) l.model.dispose();
  }
}
