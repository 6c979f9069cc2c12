/**
 * The quantize stage (`fer quantize`): a saved model's weights on a b-bit symmetric grid (eqs. 2–4) or fp16,
 * optionally after quantization-aware fine-tuning, its batch norm re-estimated, its activations calibrated for
 * int8 export, and saved with the quantization in its metadata.
 */
import path from 'node:path';
import { z } from 'zod';
import { loadModel, saveModel, type FerMetadata } from '../model/io.js';
import { SAMPLE_DATA } from '../model/default.js';
import { loadData, spreadSample, type Dataset } from '../data/dataset.js';
import { calibrate } from '../quantize/calibrate.js';
import { applyFakeQuant } from '../quantize/model.js';
import { GRANULARITIES, type TrainOptions } from '../train/options.js';
import type { TrainResult } from '../train/fit.js';
import { UsageError } from '../errors.js';
import { recoverySchema, type BatchNormNote } from './options.js';
import { reestimateBatchNorm } from './recovery.js';
import { fineTuneCompressed, type CompressHooks } from './finetune.js';
import { modelDataClasses } from '../eval/evaluate-data.js';
import { parseOptions } from '../util/options.js';

export const quantizeOptionsSchema = z
  .object({
    /** A class map file (JSON) merging --data's labels into the model's classes. */
    classMap: z.string().optional(),
    bits: z.coerce
      .number()
      .int()
      .refine((b) => (b >= 2 && b <= 8) || b === 16, 'bits must be 2..8 or 16')
      .default(8),
    granularity: z.enum(GRANULARITIES).default('per-channel'),
    /** Default: --data when given, else the bundled sample (SAMPLE_DATA). */
    calibrationData: z.string().optional(),
    calibrationImages: z.coerce.number().int().min(1).default(512),
    finetuneEpochs: z.coerce.number().int().min(0).default(0),
    lr: z.coerce.number().positive().default(1e-4),
    /** Training data: for the fine-tune, batch-norm re-estimation and (by default) calibration. */
    data: z.string().optional(),
    val: z.string().optional(),
    /** Continue the fine-tune an earlier run of the same command left (interrupted) in its run beside `out`. */
    resume: z.boolean().default(false),
  })
  .extend(recoverySchema.shape);

/** quantizeModel's options (defaults as in the schema; `fer quantize`'s flags by the same names). */
export type QuantizeOptions = z.input<typeof quantizeOptionsSchema>;

export type QuantizeResult =
  | {
      interrupted: false;
      /** The quantized model's directory. */
      model: string;
      bits: number;
      granularity: TrainOptions['granularity'];
      calibrationImages: number;
      layersCalibrated: number;
      batchNorm?: BatchNormNote;
      finetune?: TrainResult;
    }
  /** The fine-tune was stopped (shouldStop): its run directory holds a checkpoint; nothing was written at `out`. */
  | { interrupted: true; run: string; finetune: TrainResult };

/** Where quantizeModel fine-tunes (a run directory beside `out`). */
export const qatRunDir = (out: string) => `${out}-qat`;

/** Usage errors of an option combination, checked before any work. */
export function checkQuantizeOptions(o: Pick<z.infer<typeof quantizeOptionsSchema>, 'finetuneEpochs' | 'data' | 'bits'>): void {
  if (o.finetuneEpochs > 0 && !o.data) throw new UsageError('quantize: --finetune-epochs needs --data');
  if (o.finetuneEpochs > 0 && o.bits === 16) throw new UsageError('quantize: fp16 needs no fine-tuning');
}

/** Quantizes the saved model `model` into `out` (see the file comment); the engine must be chosen first (useBackend). */
export async function quantizeModel(
  model: string,
  out: string,
  options: QuantizeOptions = {},
  hooks: CompressHooks = {},
): Promise<QuantizeResult> {
  const o = parseOptions(quantizeOptionsSchema, options, 'quantize');
  checkQuantizeOptions(o);
  const load = hooks.load ?? loadData;
  const classes = modelDataClasses(model, o.classMap);
  const trainSet: Dataset | null = o.data ? await load(o.data, 'Training', { classes }) : null;
  let from = model;
  let finetune: TrainResult | undefined;
  if (o.finetuneEpochs > 0 && trainSet) {
    const { model: m, meta } = await loadModel(model);
    m.dispose();
    const run = qatRunDir(out);
    const quantize = { bits: o.bits, granularity: o.granularity };
    finetune = await fineTuneCompressed(model, meta, trainSet, run, { ...o, quantize, teacherOf: model, classes }, hooks);
    if (finetune.stopReason === 'interrupted') return { interrupted: true, run, finetune };
    from = path.join(run, 'best');
  }
  const { model: m, meta } = await loadModel(from);
  try {
    const calib = !o.calibrationData && trainSet ? trainSet : await load(o.calibrationData ?? SAMPLE_DATA, 'Training', {});
    applyFakeQuant(m, o.bits, o.granularity);
    // The quantized weights' batch-norm statistics, before the activation ranges are measured with them.
    const bn = o.bnReestimate && trainSet && o.bits !== 16 ? reestimateBatchNorm(m, trainSet) : null;
    if (bn) hooks.onNote?.(`batch norm re-estimated on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
    const sample = spreadSample(calib, o.calibrationImages);
    const c = calibrate(m, sample.images, sample.size);
    const result: FerMetadata = {
      ...meta,
      quantization: { bits: o.bits, granularity: o.granularity, activations: c.percentile },
    };
    await saveModel(m, out, result);
    return {
      interrupted: false,
      model: out,
      bits: o.bits,
      granularity: o.granularity,
      calibrationImages: c.images,
      layersCalibrated: Object.keys(c.percentile).length,
      ...(bn ? { batchNorm: bn } : {}),
      ...(finetune ? { finetune } : {}),
    };
  } finally {
    m.dispose();
  }
}
