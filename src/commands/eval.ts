/** `fer eval`: accuracy, macro-F1, per-class precision/recall and the confusion matrix of a model (eval/evaluate-data.ts). */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { DETECTORS } from '../detect/faces.js';
import { photoLoader } from '../predict/photo-data.js';
import { EVAL_FILES, evaluate, evaluateOptionsSchema } from '../eval/evaluate-data.js';
import { evaluationText } from '../eval/text.js';
import { modelSchema } from '../model/default.js';
import { withClassMap, out, refuseUnused, startEngine, withEngineOptions, showSchemaDefaults } from './common.js';
import { isCsv } from '../data/dataset.js';
import { loadWithSummary, printJson } from './printers.js';
import { checkOutputFile } from '../io/output.js';
import { Progress } from './progress.js';
import { libraryOptions } from '../util/options.js';

export const evalSchema = evaluateOptionsSchema.extend({
  model: modelSchema,
  data: z.string({ error: 'required (a <class>/ folder tree or fer2013.csv)' }),
  detect: z.union([z.boolean(), z.enum(DETECTORS)]).default(false),
  json: z.boolean().default(false),
});

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description(
      'evaluate a model (tfjs directory or .onnx) on labelled data: accuracy, balanced accuracy, macro-F1, calibration, per-class metrics, confusion matrix',
    )
    .option(
      '--model <path>',
      'model directory, model.json or .onnx, or a shipped model by name (fer-mini-xception…; default: the shipped model)',
    )
    .option('--data <dir|csv>', 'labelled data: <dir>/<class>/*.jpg or fer2013.csv')
    .option('--usage <usage>', 'CSV split (Training|PublicTest|PrivateTest)')
    .option(
      '--tta <mode>',
      'test-time augmentation: flip (average with the mirrored image) | tencrop (4 corner + center crops, and mirrors) | none',
    )
    .option('--out <dir>', 'write eval.json, confusion.png and calibration.png (reliability diagram) here')
    .option(
      '--prior <prior>',
      "the class prior of your faces: train (the model's own, FER2013's for the shipped models) | uniform | happy=0.3,neutral=0.4,… over the model's classes, before any --class-map (classes left out share the rest) | a .json file; probabilities are moved to it and the accuracy expected at it is reported",
    )
    .option(
      '--detect [detector]',
      `--data holds ordinary photos: classify each one's face, cropped as fer train --detect does (${DETECTORS.join(' | ')}; default auto)`,
    )
    .option('--json', 'print the result as JSON');
  withClassMap(withEngineOptions(cmd));
  showSchemaDefaults(cmd, evalSchema);
  cmd.action(async (flags) => {
    const o = evalSchema.parse(flags);
    refuseUnused(cmd, [['usage', !isCsv(o.data), 'CSV data (fer2013.csv)']]);
    // Checked before the engine starts (evaluate checks again before its work).
    if (o.out) for (const f of EVAL_FILES) checkOutputFile(path.join(o.out, f), '--out');
    if (!o.model.endsWith('.onnx') || o.detect) await startEngine(flags, o.json);
    // Progress with ETA on stderr (tencrop over thousands of images takes a while), timed from the data loaded; none with --json.
    const bar = o.json ? null : new Progress();
    const r = await evaluate(o.model, o.data, {
      ...libraryOptions(evaluateOptionsSchema, o),
      load: photoLoader(o.detect === true ? 'auto' : o.detect || undefined, (source, usage, options) =>
        loadWithSummary(source, usage, o.json, options).finally(() => bar?.restart()),
      ),
      onProgress: bar ? (done, total) => bar.tick(done, total, 'eval', o.tta) : undefined,
    });
    bar?.done();
    const { predictions: _p, written: _w, ...rest } = r;
    if (!printJson(o.json, rest)) out(evaluationText(r));
  });
  return cmd;
}
