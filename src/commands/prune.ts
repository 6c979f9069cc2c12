/** `fer prune`: magnitude pruning of a trained model, optionally fine-tuned with the masks held. */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { loadModel, saveModel } from '../model/io.js';
import { modelSparsity, pruneModel } from '../prune/hook.js';
import { PRUNE_PATTERNS } from '../train/options.js';
import { finetune } from '../train/finetune.js';
import { DEFAULT_MODEL } from '../model/default.js';
import { UsageError } from '../errors.js';
import { dataClassesFor, withClassMap, fineTuneRunJson, out, prepareOut, startEngine, stopOnSignal, table, withEngineOptions, withForce, showSchemaDefaults } from './common.js';
import { loadWithSummary, trainPrinter } from './train.js';

export const pruneSchema = z.object({
  classMap: z.string().optional(),
  model: z.string().default(DEFAULT_MODEL),
  targetSparsity: z.coerce.number().gt(0).lt(1).default(0.5),
  pattern: z.enum(PRUNE_PATTERNS).default('unstructured'),
  scope: z.enum(['layer', 'global']).default('layer'),
  finetuneEpochs: z.coerce.number().int().min(0).default(0),
  lr: z.coerce.number().positive().default(3e-4),
  data: z.string().optional(),
  val: z.string().optional(),
  out: z.string(),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function pruneCommand(): Command {
  const cmd = new Command('prune')
    .description('prune a trained model by weight magnitude (unstructured or 2:4), optionally fine-tuning with the masks held')
    .option('--model <dir>', 'fer model directory (default: the shipped model)')
    .option('--target-sparsity <x>', 'fraction of conv/dense weights set to zero')
    .option('--pattern <p>', 'unstructured | 2:4')
    .option('--scope <s>', 'layer (each layer to the target) | global (one threshold)')
    .option('--finetune-epochs <n>', 'fine-tune this many epochs after pruning (needs --data)')
    .option('--lr <x>', 'fine-tuning learning rate')
    .option('--data <dir|csv>', 'training data for fine-tuning')
    .option('--val <dir|csv>', 'validation data for fine-tuning')
    .requiredOption('--out <dir>', 'where to write the pruned model (a run directory when fine-tuning)')
    .option('--json', 'print the sparsity report as JSON');
  withClassMap(withEngineOptions(withForce(cmd)));
  showSchemaDefaults(cmd, pruneSchema);
  cmd.action(async (flags) => {
    const o = pruneSchema.parse({ ...flags, json: !!flags.json, force: !!flags.force });
    if (o.finetuneEpochs > 0 && !o.data) throw new UsageError('prune: --finetune-epochs needs --data');
    prepareOut(o.out, o.finetuneEpochs > 0 ? 'run' : 'model', o.force);
    await startEngine(flags, o.json);
    const { model, meta } = await loadModel(o.model);
    pruneModel(model, { target: o.targetSparsity, pattern: o.pattern, scope: o.scope });
    let report = modelSparsity(model);
    const pruning = { sparsity: report.sparsity, pattern: o.pattern, perLayer: Object.fromEntries(report.layers.map((l) => [l.name, l.sparsity])) };
    let modelDir = o.out;
    if (o.finetuneEpochs > 0) {
      const init = path.join(o.out, 'pruned-init');
      await saveModel(model, init, { ...meta, pruning });
      const [trainSet, valSet] = [await loadWithSummary(o.data!, 'Training', o.json, { classes: dataClassesFor(o.model, o.classMap) }), o.val ? await loadWithSummary(o.val, 'PublicTest', o.json, { classes: dataClassesFor(o.model, o.classMap) }) : null];
      const stop = stopOnSignal();
      const r = await finetune(init, meta, trainSet, valSet, o.out, {
        epochs: o.finetuneEpochs, lr: o.lr, prune: { target: o.targetSparsity, pattern: o.pattern, scope: o.scope },
        onEvent: o.json ? undefined : trainPrinter(false, 64, o.finetuneEpochs, o.out),
        shouldStop: stop.shouldStop, runJson: fineTuneRunJson(o.data!, o.val),
      }).finally(stop.dispose);
      if (r.stopReason === 'interrupted') {
        process.exitCode = 130;
        return;
      }
      modelDir = path.join(o.out, 'best');
      const best = await loadModel(modelDir);
      report = modelSparsity(best.model);
      best.model.dispose();
      if (!o.json) out(`fine-tuned ${r.history.length} epochs: best val accuracy ${(r.bestValAcc * 100).toFixed(2)}%`);
    } else {
      await saveModel(model, o.out, { ...meta, pruning });
    }
    model.dispose();
    if (o.json) {
      out(JSON.stringify({ model: modelDir, ...report }));
      return;
    }
    out(table(['layer', 'weights', 'non-zero', 'sparsity'], report.layers.map((l) => [l.name, l.total, l.nonzero, `${(l.sparsity * 100).toFixed(1)}%`])));
    out(`\ntotal ${report.total} weights, ${report.nonzero} non-zero: sparsity ${(report.sparsity * 100).toFixed(1)}%, compression ratio R = ${report.compressionRatio.toFixed(2)} (eq. 1)`);
    out(`wrote ${modelDir}`);
  });
  return cmd;
}
