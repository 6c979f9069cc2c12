/** `fer eval`: accuracy, macro-F1, per-class precision/recall and the confusion matrix of a model (eval/evaluate-data.ts). */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { DETECTORS } from '../detect/faces.js';
import { photoLoader } from '../predict/photo-data.js';
import { evaluate, evaluateOptionsSchema } from '../eval/evaluate-data.js';
import { modelSchema } from '../model/default.js';
import { withClassMap, out, startEngine, table, withEngineOptions, showSchemaDefaults } from './common.js';
import { loadWithSummary, printJson } from './printers.js';
import { checkOutputFile } from '../io/output.js';
import { Progress } from './progress.js';

export const evalSchema = evaluateOptionsSchema.extend({
  model: modelSchema,
  data: z.string({ error: 'required (a <class>/ folder tree or fer2013.csv)' }),
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
    // Checked before the engine starts (evaluate checks again before its work).
    if (o.out) for (const f of ['eval.json', 'confusion.png']) checkOutputFile(path.join(o.out, f), '--out');
    if (!o.model.endsWith('.onnx') || o.detect) await startEngine(flags, o.json);
    // Progress with ETA on stderr (tencrop over thousands of images takes a while); none with --json.
    const bar = o.json ? null : new Progress();
    let t0 = Date.now();
    const r = await evaluate(o.model, o.data, {
      ...o,
      load: photoLoader(o.detect === true ? 'auto' : o.detect || undefined, (source, usage, options) =>
        loadWithSummary(source, usage, o.json, options).finally(() => (t0 = Date.now())),
      ),
      onProgress: bar
        ? (done, total) => bar.update(done, total, 'eval', `${o.tta}`, ((Date.now() - t0) / 1000 / done) * (total - done))
        : undefined,
    });
    bar?.done();
    const { predictions: _p, written: _w, ...rest } = r;
    if (printJson(o.json, rest)) return;
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
    if (r.written.length) out(`\nwrote ${r.written.join(', ')}`);
  });
  return cmd;
}
