/** `fer quantize`: symmetric uniform quantization of a trained model (eqs. 2–4), with calibration. */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { loadModel, saveModel, type FerMetadata } from '../model/io.js';
import { calibrate } from '../quantize/calibrate.js';
import { spreadSample } from '../data/dataset.js';
import { GRANULARITIES } from '../train/options.js';
import { finetune } from '../train/finetune.js';
import { UsageError } from '../errors.js';
import { SAMPLE_DATA } from './export.js';
import {
  dataClassesFor,
  withClassMap,
  fineTuneRunJson,
  out,
  prepareOut,
  showSchemaDefaults,
  startEngine,
  stopOnSignal,
  withEngineOptions,
  withForce,
  modelSchema,
} from './common.js';
import { loadWithSummary, trainPrinter } from './train.js';
import { recoverySchema, teacherFor, withRecoveryOptions } from '../compress/options.js';
import { reestimateBatchNorm } from '../compress/recovery.js';
import type { Dataset } from '../data/dataset.js';

export const quantizeSchema = z
  .object({
    classMap: z.string().optional(),
    model: modelSchema,
    bits: z.coerce
      .number()
      .int()
      .refine((b) => (b >= 2 && b <= 8) || b === 16, 'bits must be 2..8 or 16')
      .default(8),
    granularity: z.enum(GRANULARITIES).default('per-channel'),
    /** Default: --data when given, else the bundled fixtures. */
    calibrationData: z.string().optional(),
    calibrationImages: z.coerce.number().int().min(1).default(512),
    finetuneEpochs: z.coerce.number().int().min(0).default(0),
    lr: z.coerce.number().positive().default(1e-4),
    data: z.string().optional(),
    val: z.string().optional(),
    out: z.string(),
    force: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .extend(recoverySchema.shape);

export function quantizeCommand(): Command {
  const cmd = new Command('quantize')
    .description(
      'quantize a trained model: b-bit symmetric weights (eqs. 2–4) or fp16, activation calibration for int8 export, optional QAT fine-tuning',
    )
    .option('--model <dir>', 'fer model directory, or a shipped model by name (default: the shipped model)')
    .option('--bits <b>', '2..8, or 16 for fp16')
    .option('--granularity <g>', 'per-tensor (the paper) | per-channel')
    .option('--calibration-data <dir|csv>', 'images for activation ranges (default: --data, else bundled fixtures)')
    .option('--calibration-images <n>', 'how many calibration images')
    .option('--finetune-epochs <n>', 'quantization-aware fine-tuning epochs (needs --data)')
    .option('--lr <x>', 'fine-tuning learning rate')
    .option('--data <dir|csv>', 'training data for fine-tuning')
    .option('--val <dir|csv>', 'validation data for fine-tuning')
    .requiredOption('--out <dir>', 'where to write the quantized model')
    .option('--json', 'print the result as JSON');
  withClassMap(withEngineOptions(withForce(withRecoveryOptions(cmd, 'quantized'))));
  showSchemaDefaults(cmd, quantizeSchema);
  cmd.action(async (flags) => {
    const o = quantizeSchema.parse({ ...flags, json: !!flags.json, force: !!flags.force });
    if (o.finetuneEpochs > 0 && !o.data) throw new UsageError('quantize: --finetune-epochs needs --data');
    if (o.finetuneEpochs > 0 && o.bits === 16) throw new UsageError('quantize: fp16 needs no fine-tuning');
    prepareOut(o.out, 'model', o.force);
    if (o.finetuneEpochs > 0) prepareOut(`${o.out}-qat`, 'run', o.force);
    await startEngine(flags, o.json);
    let modelDir = o.model;
    const classes = dataClassesFor(o.model, o.classMap);
    const trainSet: Dataset | null = o.data ? await loadWithSummary(o.data, 'Training', o.json, { classes }) : null;
    if (o.finetuneEpochs > 0 && trainSet) {
      const { meta } = await loadModel(o.model);
      const valSet = o.val ? await loadWithSummary(o.val, 'PublicTest', o.json, { classes }) : null;
      const stop = stopOnSignal();
      const r = await finetune(o.model, meta, trainSet, valSet, `${o.out}-qat`, {
        epochs: o.finetuneEpochs,
        lr: o.lr,
        quantize: { bits: o.bits, granularity: o.granularity },
        teacher: teacherFor(o, o.model),
        onEvent: o.json ? undefined : trainPrinter(false, 64, o.finetuneEpochs, `${o.out}-qat`),
        shouldStop: stop.shouldStop,
        runJson: fineTuneRunJson(o.data!, o.val),
      }).finally(stop.dispose);
      if (r.stopReason === 'interrupted') {
        process.exitCode = 130;
        return;
      }
      modelDir = path.join(`${o.out}-qat`, 'best');
    }
    const { model, meta } = await loadModel(modelDir);
    const calib = !o.calibrationData && trainSet ? trainSet : await loadWithSummary(o.calibrationData ?? SAMPLE_DATA, 'Training', o.json);
    const { applyFakeQuant } = await import('../quantize/model.js');
    applyFakeQuant(model, o.bits, o.granularity);
    // The quantized weights' batch-norm statistics, before the activation ranges are measured with them.
    const bn = o.bnReestimate && trainSet && o.bits !== 16 ? reestimateBatchNorm(model, trainSet) : null;
    if (bn && !o.json) out(`batch norm re-estimated on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
    const sample = spreadSample(calib, o.calibrationImages);
    const c = calibrate(model, sample.images, sample.size);
    const result: FerMetadata = {
      ...meta,
      quantization: { bits: o.bits, granularity: o.granularity, activations: c.percentile },
    };
    await saveModel(model, o.out, result);
    model.dispose();
    const summary = {
      model: o.out,
      bits: o.bits,
      granularity: o.granularity,
      calibrationImages: c.images,
      layersCalibrated: Object.keys(c.percentile).length,
    };
    if (o.json) out(JSON.stringify(summary));
    else
      out(
        `quantized to ${o.bits === 16 ? 'fp16' : `${o.bits}-bit ${o.granularity}`} weights; calibrated ${summary.layersCalibrated} activations on ${c.images} images; wrote ${o.out}`,
      );
  });
  return cmd;
}
