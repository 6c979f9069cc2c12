/**
 * The prune stages (`fer prune`): `pruneModelDir` zeroes the smallest weights of a saved model (unstructured
 * or 2:4, the zeros held as masks), `slimModel` removes whole channels (a smaller dense network); either may
 * fine-tune afterwards (compress/finetune.ts) and re-estimate batch norm. Both save the result with its
 * pruning in the metadata.
 */
import path from 'node:path';
import { z } from 'zod';
import { loadModel, readFerMetadata, saveModel, type FerMetadata } from '../model/io.js';
import { ARCH_VARIANTS, type Arch } from '../model/mini-xception.js';
import { tf } from '../engine/tf.js';
import { loadData, type Dataset } from '../data/dataset.js';
import { computeMasks, modelSparsity, pruneModel } from '../prune/model.js';
import type { PruneSettings, SparsityReport } from '../prune/prune.js';
import type { ObsSelection } from '../prune/least-squares.js';
import { STRUCTURED_CRITERIA, structuredPrune, structuredReport } from '../prune/structured.js';
import { PRUNE_PATTERNS, PRUNE_SCOPES } from '../train/options.js';
import type { FinetuneOptions } from '../train/finetune.js';
import type { TrainResult } from '../train/fit.js';
import { UsageError } from '../errors.js';
import { recoverySchema } from './options.js';
import { reestimateBatchNorm, reestimateSaved } from './recovery.js';
import { makeBatch, NO_AUGMENT } from '../data/augment.js';
import { IMAGE_SIZE, type ClassSpec } from '../data/classes.js';
import { Rng } from '../util/rng.js';
import { reconstructPruned, type ReconstructOptions } from '../prune/reconstruct.js';
import { kernelWeights, readValues, writeValues } from '../prune/weights.js';
import { applyMask, magnitudeMask } from '../prune/prune.js';
import { allocateBySensitivity, measureSensitivity, SENSITIVITY_LEVELS } from '../prune/sensitivity.js';
import { fineTuneCompressed, type CompressHooks } from './finetune.js';
import { checkPruneResume, checkSlimResume } from './prune-resume.js';
import { modelDataClasses } from '../eval/evaluate-data.js';
import { convertToOnnx } from '../convert/convert.js';
import { inspectOnnx } from '../onnx/inspect.js';
import { parseOptions } from '../util/options.js';

export const PRUNE_SELECTIONS = ['magnitude', 'obs', 'sparsegpt'] as const;

/** `fer prune --scope`: the training hook's allocations, and `sensitivity` (measured on --data, prune/sensitivity.ts). */
export const PRUNE_COMMAND_SCOPES = [...PRUNE_SCOPES, 'sensitivity'] as const;

/** Plain images the layer-wise reconstruction after pruning fits on (the count measured on the dev split, BENCHMARKS.md). */
export const RECONSTRUCT_IMAGES = 512;

export const pruneOptionsSchema = z
  .object({
    /** A class map file (JSON) merging --data's labels into the model's classes. */
    classMap: z.string().optional(),
    targetSparsity: z.coerce.number().gt(0).lt(1).default(0.5),
    /** Continue the interrupted fine-tune in `out` (its pruned start, <out>/pruned-init, is kept; nothing is pruned again). */
    resume: z.boolean().default(false),
    pattern: z.enum(PRUNE_PATTERNS).default('unstructured'),
    /** Unset: by the target sparsity (pruneScopeFor). */
    scope: z.enum(PRUNE_COMMAND_SCOPES).optional(),
    /** Share of the fine-tune's steps over which sparsity ramps up to the target (0: pruned at once). */
    ramp: z.coerce.number().min(0).max(1).default(0),
    /**
     * Layer-wise reconstruction after one-shot pruning (prune/reconstruct.ts): the kept weights refitted so each
     * layer reproduces the dense layer's outputs on RECONSTRUCT_IMAGES plain --data images. Needs --data.
     */
    reconstruct: z.boolean().default(true),
    /** Images the reconstruction fits on. */
    reconstructImages: z.coerce.number().int().min(1).default(RECONSTRUCT_IMAGES),
    /**
     * How the reconstruction chooses which weights of each kernel go (unstructured, with --data): magnitude (the
     * smallest |w|, masks made before the refit), obs (w*²/[H⁻¹]ᵢᵢ, one shot) or sparsegpt (sequential OBS in
     * blocks of input columns), the number per kernel as `scope` allocates it either way (prune/least-squares.ts obsSelect).
     */
    selection: z.enum(PRUNE_SELECTIONS).default('magnitude'),
    /** sparsegpt: input columns per block. */
    selectionBlock: z.coerce.number().int().min(1).default(32),
    finetuneEpochs: z.coerce.number().int().min(0).default(0),
    /** Unset: by the target sparsity (pruneFinetuneRate), as --lr-decay. */
    lr: z.coerce.number().positive().optional(),
    /** Training data: for the fine-tune and batch-norm re-estimation. */
    data: z.string().optional(),
    val: z.string().optional(),
    /** Channels removed (slimModel) instead of weights zeroed (pruneModelDir). */
    structured: z.boolean().default(false),
    ratio: z.coerce.number().min(0).max(0.9).default(0.5),
    criterion: z.enum(STRUCTURED_CRITERIA).default('bn'),
    multiple: z.coerce.number().int().min(1).max(64).default(1),
  })
  .extend(recoverySchema.shape);

/** pruneModelDir's and slimModel's options (defaults as in the schema; `fer prune`'s flags by the same names). */
export type PruneOptions = z.input<typeof pruneOptionsSchema>;

import type { PruneResult, SlimResult } from './compress-types.js';
export type { PruneInterrupted as Interrupted, PruneResult, SlimResult } from './compress-types.js';
export { checkPruneResume } from './prune-resume.js';

type Parsed = z.infer<typeof pruneOptionsSchema>;

/** Usage errors of an option combination, checked before any work. */
export function checkPruneOptions(o: Pick<Parsed, 'finetuneEpochs' | 'data' | 'resume'>): void {
  if (o.finetuneEpochs > 0 && !o.data) throw new UsageError('prune: --finetune-epochs needs --data');
  if (o.resume && o.finetuneEpochs === 0)
    throw new UsageError('prune: --resume continues a fine-tune: give the --finetune-epochs it ran with');
}

/** The saved model, its data's classes and the training data (when given), as both prune stages start. */
async function start(model: string, out: string, options: PruneOptions, hooks: CompressHooks) {
  const o = parseOptions(pruneOptionsSchema, options, 'prune');
  checkPruneOptions(o);
  if (o.resume) checkPruneResume(out);
  const loaded = await loadModel(model);
  const classes = modelDataClasses(model, o.classMap);
  const trainSet = o.data ? await (hooks.load ?? loadData)(o.data, 'Training', { classes }) : null;
  return { o, ...loaded, classes, trainSet };
}

/** `n` plain (un-augmented, preprocessed) images of `ds`, shuffled with `seed`: a [n, 48, 48, 1] tensor. */
function calibrationImages(ds: Pick<Dataset, 'images' | 'size'>, n: number, seed = 1): tf.Tensor4D {
  const rng = new Rng(seed);
  const idx = rng.shuffle([...Array(ds.size).keys()]).slice(0, Math.min(n, ds.size));
  return tf.tensor4d(makeBatch(ds.images, idx, NO_AUGMENT, rng), [idx.length, IMAGE_SIZE, IMAGE_SIZE, 1]);
}

/**
 * Refits `pruned`'s kept weights against the dense model saved at `dense` on plain images of `ds`; with `select`,
 * `pruned` arrives unpruned and the reconstruction chooses its zeros too (ReconstructOptions.select).
 */
async function reconstructFrom(
  dense: string,
  pruned: tf.LayersModel,
  ds: Dataset,
  count: number,
  select: ReconstructOptions['select'],
  hooks: Pick<CompressHooks, 'shouldStop' | 'onProgress'>,
) {
  const { model: reference } = await loadModel(dense);
  const images = calibrationImages(ds, count);
  const { shouldStop, onProgress } = hooks;
  try {
    const onLayer = onProgress && ((_: string, done: number, total: number) => onProgress(done, total, 'refit'));
    const r = await reconstructPruned(pruned, reference, { images, select, shouldStop, onLayer });
    return { images: images.shape[0], seconds: r.seconds };
  } finally {
    images.dispose();
    reference.dispose();
  }
}

/**
 * Magnitude pruning of the saved model `model` into `out`: at once, or (with a fine-tune and `ramp`) rising
 * to the target during it. With `finetuneEpochs`, `out` becomes a run directory and the model is `out/best`.
 */
export async function pruneModelDir(
  model: string,
  out: string,
  options: PruneOptions = {},
  hooks: CompressHooks = {},
): Promise<PruneResult> {
  const { o, model: m, meta, classes, trainSet } = await start(model, out, options, hooks);
  try {
    // The exported model's weight count: the kernels plus the biases of the folded graph (pruning keeps it).
    const exported = inspectOnnx(convertToOnnx(m, meta, { precision: 'fp32' })).parameters;
    const rate = pruneFinetuneRate(o.targetSparsity, o.lr, o.lrDecay);
    if (o.resume)
      return await prunedBest(
        await fineTunePruned(null, trainSet!, out, { ...o, ...rate, teacherOf: model, classes }, hooks),
        out,
        exported,
      );
    const kernels = kernelWeights(m);
    const count = kernels.reduce((a, k) => a + k.variable.size, 0);
    const scope = o.scope ?? pruneScopeFor(o.targetSparsity, trainSet !== null);
    // Measured allocation: the fine-tune holds its zeros; lamp stands in for it wherever masks are recomputed.
    const measured = scope === 'sensitivity' && o.pattern === 'unstructured';
    checkSensitivity(measured, trainSet, o.ramp * o.finetuneEpochs);
    const target = kernelTarget(o.targetSparsity, count, exported, kernels.length, measured ? 'lamp' : (scope as PruneSettings['scope']));
    const settings: PruneSettings = { target, pattern: o.pattern, scope: measured ? 'lamp' : (scope as PruneSettings['scope']) };
    // With a ramp the fine-tune prunes, step by step from the zeros already there; else all at once now.
    const ramp = o.finetuneEpochs > 0 && o.pattern === 'unstructured' ? o.ramp : 0;
    const initial = modelSparsity(m).sparsity;
    const reconstruct = ramp === 0 && o.reconstruct && trainSet;
    // Second-order selection happens inside the reconstruction, layer by layer; it keeps scope's zeros per kernel.
    const counts = measured ? await sensitivityCounts(m, trainSet!, target, hooks) : null;
    const select =
      reconstruct && o.selection !== 'magnitude' && o.pattern === 'unstructured' ? selectionCounts(m, settings, o, counts) : undefined;
    if (ramp === 0 && !select) pruneWith(m, settings, counts);
    if (reconstruct) {
      const r = await reconstructFrom(model, m, trainSet, o.reconstructImages, select, hooks);
      const how = select ? `pruned by ${o.selection} and ` : '';
      hooks.onNote?.(`kept weights ${how}refitted layer by layer on ${r.images} images (${r.seconds.toFixed(1)}s)`);
    }
    const kernelReport = modelSparsity(m);
    const report = exportedReport(kernelReport, exported);
    const pruning = {
      sparsity: report.sparsity,
      pattern: o.pattern,
      perLayer: Object.fromEntries(kernelReport.layers.map((l) => [l.name, l.sparsity])),
    };
    const bn = ramp === 0 && o.bnReestimate && trainSet ? reestimateBatchNorm(m, trainSet) : null;
    if (bn) hooks.onNote?.(`batch norm re-estimated after pruning on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
    if (o.finetuneEpochs === 0) {
      await saveModel(m, out, { ...meta, pruning });
      return { interrupted: false, model: out, ...report };
    }
    const ftMeta = { ...meta, ...(ramp ? {} : { pruning }) };
    const prune = measured ? undefined : { ...settings, ramp, initial };
    const r = await fineTunePruned({ model: m, meta: ftMeta }, trainSet!, out, { ...o, ...rate, prune, teacherOf: model, classes }, hooks);
    return await prunedBest(r, out, exported);
  } finally {
    m.dispose();
  }
}

/** A pruned model's fine-tune as pruneModelDir returns it: its best epoch's sparsity report, or interrupted. */
async function prunedBest(r: TrainResult, out: string, exported: number): Promise<PruneResult> {
  if (r.stopReason === 'interrupted') return { interrupted: true, run: out, finetune: r };
  const best = await loadModel(path.join(out, 'best'));
  const report = exportedReport(modelSparsity(best.model), exported);
  best.model.dispose();
  return { interrupted: false, model: path.join(out, 'best'), ...report, finetune: r };
}

/**
 * What `--target-sparsity` counts: the exported model's weights (what `fer inspect` and the ONNX file hold), i.e.
 * the conv and dense kernels plus the biases batch-norm folding gives the convolutions, which are never zero.
 * Counting kernels alone left the int8 file at 49.37% zeros for a target of 0.5 (BENCHMARKS.md). The kernel
 * sparsity that makes at least `target` of the exported weights zero: `scope: 'layer'` rounds each kernel's
 * count down, so it needs one more zero per kernel; lamp and global prune exactly floor(s·n) over all kernels.
 */
export function kernelTarget(target: number, kernels: number, exported: number, tensors: number, scope: PruneSettings['scope']): number {
  const zeros = Math.ceil(target * exported) + (scope === 'layer' ? tensors : 0);
  return Math.min(1, (zeros + 0.5) / kernels);
}

/** The sparsity report over the exported model's weights: the kernels' rows and one row for the folded biases. */
function exportedReport(kernels: SparsityReport, exported: number): SparsityReport & { kernelSparsity: number } {
  const biases = exported - kernels.total;
  const layers =
    biases > 0
      ? [...kernels.layers, { name: 'biases (batch norm folded into the convs)', total: biases, nonzero: biases, sparsity: 0 }]
      : kernels.layers;
  const total = kernels.total + Math.max(0, biases),
    nonzero = kernels.nonzero + Math.max(0, biases);
  return { layers, total, nonzero, sparsity: 1 - nonzero / total, compressionRatio: total / nonzero, kernelSparsity: kernels.sparsity };
}

/**
 * The pruning fine-tune's learning rate where --lr and --lr-decay are not given, by how much the pruning removed.
 * Measured on the dev split (BENCHMARKS.md, "Prune + int8 recovery in one epoch"): up to 50% the one-shot model
 * (reconstructed, batch norm re-estimated) is nearly as good as one epoch makes it, and a small decaying rate keeps
 * it (1e-4 → 1e-5: 71.58% against 71.19% at a constant 3e-4; on val −0.94 points from the dense model against −1.40,
 * 3 seeds); beyond, the fine-tune has more to repair, and at 75% a constant 3e-4 does best (63.97% against 62.78%).
 */
export function pruneFinetuneRate(sparsity: number, lr?: number, lrDecay?: boolean): { lr: number; lrDecay: boolean } {
  const gentle = sparsity <= 0.5;
  return { lr: lr ?? (gentle ? 1e-4 : 3e-4), lrDecay: lrDecay ?? gentle };
}

/**
 * The allocation `fer prune` uses where --scope is not given: up to 50% LAMP (each kernel pruned as far as its own
 * weights' shares say); beyond, with --data, `sensitivity` (each kernel as far as the network's output tolerates it,
 * measured). Chosen on the dev split (BENCHMARKS.md, issue 36, h36s).
 */
export function pruneScopeFor(target: number, data: boolean): (typeof PRUNE_COMMAND_SCOPES)[number] {
  return target > 0.5 && data ? 'sensitivity' : 'lamp';
}

function checkSensitivity(measured: boolean, data: Dataset | null, ramp: number): void {
  if (measured && !data) throw new UsageError('prune: --scope sensitivity needs --data (the images it measures on)');
  if (measured && ramp > 0) throw new UsageError('prune: --scope sensitivity prunes at once: --ramp needs lamp, global or layer');
}

/** Each kernel's zeros by measureSensitivity on RECONSTRUCT_IMAGES plain images of `ds` (prune/sensitivity.ts). */
async function sensitivityCounts(m: tf.LayersModel, ds: Dataset, target: number, hooks: CompressHooks): Promise<number[]> {
  const t0 = Date.now();
  const images = calibrationImages(ds, RECONSTRUCT_IMAGES);
  try {
    const weights = kernelWeights(m);
    const sizes = weights.map((w) => w.variable.size);
    const costs = await measureSensitivity(m, weights, images);
    const zeros = Math.floor(target * sizes.reduce((a, v) => a + v, 0));
    hooks.onNote?.(`zeros allocated by each kernel's measured sensitivity (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    return allocateBySensitivity(sizes, SENSITIVITY_LEVELS, costs, zeros);
  } finally {
    images.dispose();
  }
}

/** One-shot pruning: `counts` zeros per kernel by |w| when given, else as `settings` allocate. */
function pruneWith(m: tf.LayersModel, settings: PruneSettings, counts: number[] | null): void {
  if (!counts) return void pruneModel(m, settings);
  kernelWeights(m).forEach((w, i) => {
    const values = readValues(w);
    writeValues(w, applyMask(values, magnitudeMask(values, (counts[i] + 0.5) / values.length)));
  });
}

/** How many weights of each kernel `settings` (or `counts`) would prune (the per-kernel allocation obsSelect keeps). */
function selectionCounts(m: tf.LayersModel, settings: PruneSettings, o: Parsed, counts: number[] | null): ReconstructOptions['select'] {
  const weights = kernelWeights(m);
  const masks = counts ? null : computeMasks(weights, settings.target, settings);
  const zeros = counts ?? masks!.map((mask) => (mask ? mask.reduce((a, v) => a + (v ? 0 : 1), 0) : 0));
  return { zeros, method: o.selection as ObsSelection, block: o.selectionBlock };
}

/**
 * Structured pruning of the saved mini-Xception `model` into `out`: the `ratio` least important channels of
 * each group removed (`criterion`), kept counts rounded up to `multiple`; fine-tuned when asked, as pruneModelDir.
 */
export async function slimModel(model: string, out: string, options: PruneOptions = {}, hooks: CompressHooks = {}): Promise<SlimResult> {
  const { o, model: m, meta, classes, trainSet } = await start(model, out, options, hooks);
  let slim: tf.LayersModel | undefined;
  try {
    const arch = ARCH_VARIANTS[(meta.arch ?? 'mini-xception') as Arch];
    if (!arch || 'family' in arch) throw new UsageError(`prune --structured: works on mini-Xception models, not ${meta.arch}`);
    if (o.resume) checkSlimResume(out, o);
    const r = structuredPrune(m, { ratio: o.ratio, criterion: o.criterion, multiple: o.multiple, arch });
    slim = r.model;
    const rows = structuredReport(m, slim, arch);
    const { pruning: _unstructured, ...rest } = meta; // its zeros are no longer held as masks
    const slimMeta: FerMetadata = {
      ...rest,
      structured: { ratio: o.ratio, criterion: o.criterion, multiple: o.multiple, channels: r.channels, from: model },
    };
    // (a resumed fine-tune starts from its saved pruned-init: nothing to re-estimate here)
    const bn = o.bnReestimate && trainSet && !o.resume ? reestimateBatchNorm(slim, trainSet) : null;
    if (bn) hooks.onNote?.(`batch norm re-estimated after pruning on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
    let modelDir = out;
    let finetune: TrainResult | undefined;
    if (o.finetuneEpochs > 0) {
      // Whole channels gone: a constant 3e-4 unless given (pruneFinetuneRate's rule was measured on zeroed weights).
      const rate = { lr: o.lr ?? 3e-4, lrDecay: o.lrDecay ?? false };
      const from = o.resume ? null : { model: slim, meta: slimMeta };
      finetune = await fineTunePruned(from, trainSet!, out, { ...o, ...rate, teacherOf: model, classes }, hooks);
      if (finetune.stopReason === 'interrupted') return { interrupted: true, run: out, finetune };
      modelDir = path.join(out, 'best');
    } else {
      await saveModel(slim, out, slimMeta);
    }
    const sum = (f: (x: ReturnType<typeof structuredReport>[number]) => number) => rows.reduce((a, x) => a + f(x), 0);
    return {
      interrupted: false,
      model: modelDir,
      channels: r.channels,
      parameters: { before: m.countParams(), after: slim.countParams() },
      macs: { before: sum((x) => x.macsBefore), after: sum((x) => x.macsAfter) },
      layers: rows,
      ...(finetune ? { finetune } : {}),
    };
  } finally {
    m.dispose();
    slim?.dispose();
  }
}

/**
 * Saves the pruned model as <out>/pruned-init and fine-tunes it into the run <out> (unstructured masks held, or
 * ramped up, when `prune` is given; the dense model teaching unless distillation is off), then re-estimates the
 * best epoch's batch norm. `from` null: --resume, the run's checkpoint continued (its pruned-init as saved).
 */
async function fineTunePruned(
  from: { model: tf.LayersModel; meta: FerMetadata } | null,
  trainSet: Dataset,
  out: string,
  o: Parsed & { lr: number; lrDecay: boolean; teacherOf: string; classes: ClassSpec; prune?: FinetuneOptions['prune'] },
  hooks: CompressHooks,
): Promise<TrainResult> {
  const init = path.join(out, 'pruned-init');
  if (from) await saveModel(from.model, init, from.meta);
  // on --resume, pruned-init's metadata as the interrupted run saved it (saveModel writes it whole), not its weights
  const meta = from?.meta ?? (readFerMetadata(init) as FerMetadata);
  const r = await fineTuneCompressed(init, meta, trainSet, out, { ...o, resume: !from }, hooks);
  if (r.stopReason === 'interrupted') return r;
  hooks.onNote?.(
    `fine-tuned ${r.history[r.history.length - 1]?.epoch ?? o.finetuneEpochs} epochs: best val accuracy ${(r.bestValAcc * 100).toFixed(2)}%`,
  );
  if (o.bnReestimate) {
    const bn = await reestimateSaved(path.join(out, 'best'), trainSet);
    hooks.onNote?.(`batch norm of ${path.join(out, 'best')} re-estimated on ${bn.images} images (${bn.seconds.toFixed(1)}s)`);
  }
  return r;
}
