/** `fer prune`: magnitude pruning of a trained model, optionally fine-tuned with the masks held. */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { loadModel, saveModel } from '../model/io.js';
import { modelSparsity, pruneModel } from '../prune/model.js';
import { PRUNE_PATTERNS, PRUNE_SCOPES } from '../train/options.js';
import { recoverySchema, teacherFor, withRecoveryOptions } from '../compress/options.js';
import { reestimateBatchNorm, reestimateSaved } from '../compress/recovery.js';
import type { Dataset } from '../data/dataset.js';
import { STRUCTURED_CRITERIA, structuredPrune, structuredReport } from '../prune/structured.js';
import { ARCH_VARIANTS, type Arch } from '../model/mini-xception.js';
import type { FerMetadata } from '../model/io.js';
import type { tf } from '../engine/tf.js';
import { finetune, type FinetuneOptions } from '../train/finetune.js';
import type { TrainResult } from '../train/fit.js';
import { UsageError } from '../errors.js';
import {
  dataClassesFor,
  withClassMap,
  fineTuneRunJson,
  out,
  prepareOut,
  startEngine,
  stopOnSignal,
  table,
  withEngineOptions,
  withForce,
  showSchemaDefaults,
  modelSchema,
} from './common.js';
import { loadWithSummary, trainPrinter } from './train.js';

export const pruneSchema = z
  .object({
    classMap: z.string().optional(),
    model: modelSchema,
    targetSparsity: z.coerce.number().gt(0).lt(1).default(0.5),
    pattern: z.enum(PRUNE_PATTERNS).default('unstructured'),
    scope: z.enum(PRUNE_SCOPES).default('lamp'),
    /** Share of the fine-tune's steps over which sparsity ramps up to the target (0: pruned at once). */
    ramp: z.coerce.number().min(0).max(1).default(0),
    finetuneEpochs: z.coerce.number().int().min(0).default(0),
    lr: z.coerce.number().positive().default(3e-4),
    data: z.string().optional(),
    val: z.string().optional(),
    structured: z.boolean().default(false),
    ratio: z.coerce.number().min(0).max(0.9).default(0.5),
    criterion: z.enum(STRUCTURED_CRITERIA).default('bn'),
    multiple: z.coerce.number().int().min(1).max(64).default(1),
    out: z.string(),
    force: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .extend(recoverySchema.shape);

export function pruneCommand(): Command {
  const cmd = new Command('prune')
    .description('prune a trained model by weight magnitude (unstructured or 2:4), optionally fine-tuning with the masks held')
    .option('--model <dir>', 'fer model directory, or a shipped model by name (default: the shipped model)')
    .option('--target-sparsity <x>', 'fraction of conv/dense weights set to zero')
    .option('--pattern <p>', 'unstructured | 2:4')
    .option(
      '--scope <s>',
      'lamp (one threshold on layer-normalized LAMP scores: each layer pruned as far as it tolerates) | layer (each layer to the target) | global (one |w| threshold)',
    )
    .option('--finetune-epochs <n>', 'fine-tune this many epochs after pruning (needs --data)')
    .option('--ramp <x>', 'share of the fine-tune over which sparsity rises to the target on a cubic ramp (0: prune at once)')
    .option('--lr <x>', 'fine-tuning learning rate')
    .option('--data <dir|csv>', 'training data for fine-tuning')
    .option('--val <dir|csv>', 'validation data for fine-tuning')
    .option(
      '--structured',
      'remove whole channels instead (a smaller dense network, faster everywhere): see --ratio, --criterion, --multiple',
    )
    .option('--ratio <x>', '--structured: share of each channel group removed')
    .option('--criterion <c>', '--structured: channel importance, bn (|batch-norm scale|) | l1 (filter L1 norm)')
    .option('--multiple <n>', "--structured: round kept channel counts up to a multiple of n (8 or 16 fill onnxruntime's CPU blocks)")
    .requiredOption('--out <dir>', 'where to write the pruned model (a run directory when fine-tuning)')
    .option('--json', 'print the sparsity report as JSON');
  withClassMap(withEngineOptions(withForce(withRecoveryOptions(cmd, 'pruned'))));
  showSchemaDefaults(cmd, pruneSchema);
  cmd.action(async (flags) => {
    const o = pruneSchema.parse({ ...flags, json: !!flags.json, force: !!flags.force });
    if (o.finetuneEpochs > 0 && !o.data) throw new UsageError('prune: --finetune-epochs needs --data');
    prepareOut(o.out, o.finetuneEpochs > 0 ? 'run' : 'model', o.force);
    await startEngine(flags, o.json);
    const { model, meta } = await loadModel(o.model);
    const classes = dataClassesFor(o.model, o.classMap);
    const trainSet = o.data ? await loadWithSummary(o.data, 'Training', o.json, { classes }) : null;
    if (o.structured) {
      await structuredCommand(o, model, meta, trainSet);
      return;
    }
    const settings = { target: o.targetSparsity, pattern: o.pattern, scope: o.scope };
    // With a ramp the fine-tune prunes, step by step from the zeros already there; else all at once now.
    const ramp = o.finetuneEpochs > 0 && o.pattern === 'unstructured' ? o.ramp : 0;
    const initial = modelSparsity(model).sparsity;
    if (ramp === 0) pruneModel(model, settings);
    let report = modelSparsity(model);
    const pruning = {
      sparsity: report.sparsity,
      pattern: o.pattern,
      perLayer: Object.fromEntries(report.layers.map((l) => [l.name, l.sparsity])),
    };
    const bn = ramp === 0 && o.bnReestimate && trainSet ? reestimateBatchNorm(model, trainSet) : null;
    if (bn) note(o.json, `batch norm re-estimated after pruning on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
    let modelDir = o.out;
    if (o.finetuneEpochs > 0) {
      const r = await fineTunePruned(o, model, { ...meta, ...(ramp ? {} : { pruning }) }, trainSet!, { ...settings, ramp, initial });
      if (!r) return;
      modelDir = path.join(o.out, 'best');
      const best = await loadModel(modelDir);
      report = modelSparsity(best.model);
      best.model.dispose();
    } else {
      await saveModel(model, o.out, { ...meta, pruning });
    }
    model.dispose();
    if (o.json) {
      out(JSON.stringify({ model: modelDir, ...report }));
      return;
    }
    out(
      table(
        ['layer', 'weights', 'non-zero', 'sparsity'],
        report.layers.map((l) => [l.name, l.total, l.nonzero, `${(l.sparsity * 100).toFixed(1)}%`]),
      ),
    );
    out(
      `\ntotal ${report.total} weights, ${report.nonzero} non-zero: sparsity ${(report.sparsity * 100).toFixed(1)}%, compression ratio R = ${report.compressionRatio.toFixed(2)} (eq. 1)`,
    );
    out(`wrote ${modelDir}`);
  });
  return cmd;
}

/** `fer prune --structured`: channels removed, the smaller network saved (and fine-tuned when asked). */
async function structuredCommand(
  o: z.infer<typeof pruneSchema>,
  model: tf.LayersModel,
  meta: FerMetadata,
  trainSet: Dataset | null,
): Promise<void> {
  const arch = ARCH_VARIANTS[(meta.arch ?? 'mini-xception') as Arch];
  if (!arch || 'family' in arch) throw new UsageError(`prune --structured: works on mini-Xception models, not ${meta.arch}`);
  const r = structuredPrune(model, { ratio: o.ratio, criterion: o.criterion, multiple: o.multiple, arch });
  const rows = structuredReport(model, r.model, arch);
  const { pruning: _unstructured, ...rest } = meta; // its zeros are no longer held as masks
  const slimMeta: FerMetadata = {
    ...rest,
    structured: { ratio: o.ratio, criterion: o.criterion, multiple: o.multiple, channels: r.channels, from: o.model },
  };
  const bn = o.bnReestimate && trainSet ? reestimateBatchNorm(r.model, trainSet) : null;
  if (bn) note(o.json, `batch norm re-estimated after pruning on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
  let modelDir = o.out;
  if (o.finetuneEpochs > 0) {
    if (!(await fineTunePruned(o, r.model, slimMeta, trainSet!))) return;
    modelDir = path.join(o.out, 'best');
  } else {
    await saveModel(r.model, o.out, slimMeta);
  }
  const before = model.countParams(),
    after = r.model.countParams();
  const macsBefore = rows.reduce((a, x) => a + x.macsBefore, 0),
    macsAfter = rows.reduce((a, x) => a + x.macsAfter, 0);
  model.dispose();
  r.model.dispose();
  if (o.json) {
    out(
      JSON.stringify({
        model: modelDir,
        channels: r.channels,
        parameters: { before, after },
        macs: { before: macsBefore, after: macsAfter },
        layers: rows,
      }),
    );
    return;
  }
  const k = (n: number) => (n / 1000).toFixed(1) + 'k';
  out(
    table(
      ['layer', 'MACs before', 'MACs after', 'params before', 'params after'],
      rows.map((x) => [x.role, k(x.macsBefore), k(x.macsAfter), x.paramsBefore, x.paramsAfter]),
    ),
  );
  out(`\nchannels: stem ${r.channels.stem.join('/')}, modules ${r.channels.inner.map((i, m) => `${i}→${r.channels.out[m]}`).join(', ')}`);
  out(
    `parameters ${before} → ${after} (${((after / before) * 100).toFixed(1)}%), multiply-adds ${k(macsBefore)} → ${k(macsAfter)} (${((macsAfter / macsBefore) * 100).toFixed(1)}%) per image`,
  );
  out(`wrote ${modelDir}`);
}

/**
 * Saves the pruned model as <out>/pruned-init and fine-tunes it into the run <out> (unstructured masks held, or
 * ramped up, when `prune` is given; the dense model teaching unless --no-distill), then re-estimates the best
 * epoch's batch norm. Returns the result, or null when interrupted (exit 130; `fer train --resume` goes on).
 */
async function fineTunePruned(
  o: z.infer<typeof pruneSchema>,
  model: tf.LayersModel,
  meta: FerMetadata,
  trainSet: Dataset,
  prune?: FinetuneOptions['prune'],
): Promise<TrainResult | null> {
  const init = path.join(o.out, 'pruned-init');
  await saveModel(model, init, meta);
  const classes = dataClassesFor(o.model, o.classMap);
  const valSet = o.val ? await loadWithSummary(o.val, 'PublicTest', o.json, { classes }) : null;
  const stop = stopOnSignal();
  const r = await finetune(init, meta, trainSet, valSet, o.out, {
    epochs: o.finetuneEpochs,
    lr: o.lr,
    prune,
    teacher: teacherFor(o, o.model),
    onEvent: o.json ? undefined : trainPrinter(false, 64, o.finetuneEpochs, o.out),
    shouldStop: stop.shouldStop,
    runJson: fineTuneRunJson(o.data!, o.val),
  }).finally(stop.dispose);
  if (r.stopReason === 'interrupted') {
    process.exitCode = 130;
    return null;
  }
  if (!o.json) out(`fine-tuned ${r.history.length} epochs: best val accuracy ${(r.bestValAcc * 100).toFixed(2)}%`);
  if (o.bnReestimate) {
    const bn = await reestimateSaved(path.join(o.out, 'best'), trainSet);
    note(o.json, `batch norm of ${path.join(o.out, 'best')} re-estimated on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
  }
  return r;
}

const note = (json: boolean, s: string) => json || out(s);
