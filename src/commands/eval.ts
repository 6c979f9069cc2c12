/** `fer eval`: accuracy, macro-F1, per-class precision/recall and the confusion matrix of a model. */
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TTA_MODES } from '../data/augment.js';
import { readClassMap } from '../data/class-map.js';
import { mergesOutputs } from '../data/classes.js';
import { DETECTORS } from '../detect/faces.js';
import { faceCropper } from '../predict/crops.js';
import { CSV_USAGES } from '../data/dataset.js';
import { evaluateModel, writeConfusionPng, writeEvalJson } from '../eval/evaluate.js';
import { evaluateOnnx } from '../eval/evaluate-onnx.js';
import { modelClasses, withClassMap, out, startEngine, table, withEngineOptions, showSchemaDefaults, modelSchema } from './common.js';
import { loadWithSummary } from './train.js';
import { checkOutputFile } from '../io/output.js';
import { Progress } from './progress.js';

export const evalSchema = z.object({
  model: modelSchema,
  data: z.string({ error: 'required (a <class>/ folder tree or fer2013.csv)' }),
  usage: z.enum(CSV_USAGES).default('PublicTest'),
  tta: z.enum(TTA_MODES).default('flip'),
  out: z.string().optional(),
  classMap: z.string().optional(),
  detect: z.union([z.boolean(), z.enum(DETECTORS)]).default(false),
  json: z.boolean().default(false),
});

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('evaluate a model (tfjs directory or .onnx) on labelled data: accuracy, macro-F1, per-class metrics, confusion matrix')
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
    .option('--out <dir>', 'write eval.json and confusion.png here')
    .option(
      '--detect [detector]',
      `--data holds ordinary photos: classify each one's face, cropped as fer train --detect does (${DETECTORS.join(' | ')}; default auto)`,
    )
    .option('--json', 'print the result as JSON');
  withClassMap(withEngineOptions(cmd));
  showSchemaDefaults(cmd, evalSchema);
  cmd.action(async (flags) => {
    const o = evalSchema.parse({ ...flags, json: !!flags.json });
    const onnx = o.model.endsWith('.onnx');
    // Its files go where nothing but fer's own output of them may be replaced: checked before the work.
    if (o.out) for (const f of ['eval.json', 'confusion.png']) checkOutputFile(path.join(o.out, f), '--out');
    if (!onnx || o.detect) await startEngine(flags, o.json);
    const cropper = o.detect ? faceCropper({ detector: o.detect === true ? 'auto' : o.detect }) : undefined;
    // A class map onto a model of other classes merges its probabilities (no retraining); onto a model of
    // the map's own classes it only merges the data's labels, as in training.
    const map = o.classMap ? readClassMap(o.classMap) : undefined;
    const own = modelClasses(o.model);
    const merging = !!map && mergesOutputs(own, map);
    const ds = await loadWithSummary(o.data, o.usage, o.json, {
      classes: merging ? { map } : { classes: own, map },
      decoder: cropper,
    }).finally(() => cropper?.release());
    // Progress with ETA on stderr (tencrop over thousands of images takes a while); none with --json.
    const bar = o.json ? null : new Progress();
    const t0 = Date.now();
    const onProgress = bar
      ? (done: number, total: number) => bar.update(done, total, 'eval', `${o.tta}`, ((Date.now() - t0) / 1000 / done) * (total - done))
      : undefined;
    const r = onnx ? await evaluateOnnx(o.model, ds, o.tta, {}, onProgress, map) : await evaluateModel(o.model, ds, o.tta, onProgress, map);
    bar?.done();
    const dir = o.out;
    if (dir) mkdirSync(dir, { recursive: true });
    let written: string[] = [];
    if (o.out) {
      written = [writeEvalJson(r, dir!, ds), path.join(dir!, 'confusion.png')];
      await writeConfusionPng(r, written[1]);
    }
    if (o.json) {
      const { predictions: _p, ...rest } = r;
      out(JSON.stringify(rest));
      return;
    }
    out(
      `model ${path.relative(process.cwd(), o.model) || o.model}  data ${o.data}  ${r.n} images${o.tta !== 'none' ? `  tta ${o.tta}` : ''}`,
    );
    out(`accuracy ${(r.accuracy * 100).toFixed(2)}%   macro-F1 ${(r.macroF1 * 100).toFixed(2)}%\n`);
    out(
      table(
        ['class', 'precision', 'recall', 'f1', 'support'],
        r.perClass.map((c) => [c.name, (c.precision * 100).toFixed(1), (c.recall * 100).toFixed(1), (c.f1 * 100).toFixed(1), c.support]),
      ),
    );
    out('\nconfusion (rows: true, % of row)');
    out(
      table(
        ['', ...r.perClass.map((c) => c.name.slice(0, 5))],
        r.confusionNormalized.map((row, i) => [r.perClass[i].name, ...row.map((v) => (v * 100).toFixed(0))]),
      ),
    );
    if (written.length) out(`\nwrote ${written.join(', ')}`);
  });
  return cmd;
}
