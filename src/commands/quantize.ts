/** `fer quantize`: its flags (quantizeModel's options and the command's own), compress/quantize.ts, and printing. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { checkQuantizeOptions, qatRunDir, quantizeModel, quantizeOptionsSchema } from '../compress/quantize.js';
import { quantizeText } from '../compress/text.js';
import { prepareOut } from '../io/files.js';
import {
  withClassMap,
  out,
  showSchemaDefaults,
  startEngine,
  withEngineOptions,
  withForce,
  withModelOption,
  withRecoveryOptions,
  interrupted,
  modelToOutFields,
  note,
  refuseUnused,
} from './common.js';
import { UsageError } from '../errors.js';
import { printJson, withCompressHooks } from './printers.js';
import { libraryOptions } from '../util/options.js';

export const quantizeSchema = quantizeOptionsSchema.extend({ ...modelToOutFields, force: z.boolean().default(false) });

export function quantizeCommand(): Command {
  const cmd = new Command('quantize').description(
    'quantize a trained model: b-bit symmetric weights (eqs. 2–4) or fp16, activation calibration for int8 export, optional QAT fine-tuning',
  );
  withModelOption(cmd)
    .option('--bits <b>', '2..8, or 16 for fp16')
    .option('--granularity <g>', 'per-tensor (the paper) | per-channel')
    .option('--calibration-data <dir|csv>', 'images for activation ranges (default: --data, else bundled fixtures)')
    .option('--calibration-images <n>', 'how many calibration images')
    .option('--finetune-epochs <n>', 'quantization-aware fine-tuning epochs (needs --data)')
    .option('--lr <x>', 'fine-tuning learning rate')
    .option('--data <dir|csv>', 'training data for fine-tuning')
    .option('--val <dir|csv>', 'validation data for fine-tuning')
    .requiredOption('--out <dir>', 'where to write the quantized model')
    .option('--resume', 'continue an interrupted --finetune-epochs run (its checkpoint in <out>-qat), then quantize')
    .option('--json', 'print the result as JSON');
  withClassMap(withEngineOptions(withForce(withRecoveryOptions(cmd, 'quantized'))));
  showSchemaDefaults(cmd, quantizeSchema);
  cmd.action(async (flags) => {
    const o = quantizeSchema.parse(flags);
    checkQuantizeOptions(o);
    refuseUnused(cmd, [['granularity', o.bits === 16, 'integer bits (2–8), not --bits 16 (fp16)']]);
    const run = qatRunDir(o.out);
    prepareOut(o.out, 'model', o.force, [o.model]);
    if (o.finetuneEpochs > 0 && !o.resume && !o.force && existsSync(path.join(run, 'checkpoint')))
      throw new UsageError(`quantize: ${run} holds an interrupted fine-tune`, {
        hint: 'the same command with --resume continues it; --force starts it again',
      });
    if (o.finetuneEpochs > 0 && !o.resume) prepareOut(run, 'run', o.force, [o.model]);
    if (o.resume && !existsSync(run)) throw new UsageError(`quantize --resume: no fine-tune run at ${run} to continue`);
    await startEngine(flags, o.json);
    const r = await withCompressHooks(o, run, (hooks) => quantizeModel(o.model, o.out, libraryOptions(quantizeOptionsSchema, o), hooks));
    if (interrupted(r)) {
      note(`the fine-tune stopped with a checkpoint in ${run}: the same command with --resume continues it`);
      return;
    }
    const { model, bits, granularity, calibrationImages, layersCalibrated } = r;
    if (!printJson(o.json, { model, bits, granularity, calibrationImages, layersCalibrated })) out(quantizeText(r));
  });
  return cmd;
}
