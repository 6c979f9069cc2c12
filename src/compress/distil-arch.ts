/**
 * `fer compress --target latency`'s architecture variant: a faster network trained from scratch on --data,
 * distilled from the model being compressed (its flip-averaged probabilities on every training image, soft
 * targets at temperature 2 mixed 0.7 with the labels: the recipe of the shipped slim model, models/README.md),
 * with batch norm re-estimated on plain images at the end. Where pruning the paper network's channels buys
 * ~1.25× for 7 points (BENCHMARKS.md, issue 24), a network that runs after a stride-2 stem at twice the width
 * (`mini-xception-s2c2-x2`: the paper network's multiply-adds at a quarter of its resolution) buys ~2× throughput
 * for about nothing, but only through a training run: this is the one variant whose cost is minutes, not seconds.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DataLoader, Dataset } from '../data/dataset.js';
import type { Arch } from '../model/archs.js';
import { trainingHooks } from '../train/hooks/index.js';
import { train } from '../train/fit.js';
import { trainOptionsSchema } from '../train/options.js';
import { reestimateSaved } from './recovery.js';
import { modelDataClasses } from '../eval/evaluate-data.js';
import { resumableRunJson, type CompressHooks } from './finetune.js';

/** The faster architecture `fer compress --target latency` distils into. */
export const DISTIL_ARCH: Arch = 'mini-xception-s2c2-x2';

/** Epochs of the distillation when neither --arch-epochs nor --budget-minutes says otherwise (the slim model's first cycle). */
export const DISTIL_EPOCHS = 60;
/**
 * At most this many when --budget-minutes plans them. Longer cosine cycles keep gaining (the slim model: 63.97% after
 * 60 epochs, more after a second cycle), and on the native step 60 epochs take ~9 of a 60-minute budget's minutes
 * (BENCHMARKS.md "fer compress --target latency on the native step"); 240 leaves room for the other variants.
 */
export const BUDGET_DISTIL_EPOCHS = 240;

/** The training recipe (everything but the architecture, the epochs and the teacher): the slim model's cycle 1. */
export const DISTIL_RECIPE = {
  schedule: 'cosine',
  warmupEpochs: 1,
  lr: 1e-3,
  minLr: 1e-5,
  batchSize: 64,
  labelSmoothing: 0.1,
  l2: 1e-3,
  rotation: 10,
  zoom: 0.1,
  shift: 0.1,
  patience: 0,
  distillAlpha: 0.7,
  temperature: 2,
  seed: 21,
} as const;

/**
 * Epochs that fit `seconds` at `imagesPerSecond` over `trainImages` per epoch (plus `valImages` evaluated per epoch
 * at ~4× the training rate), at most `max`; 0 when fewer than `min` fit.
 */
export function epochsWithin(
  seconds: number,
  imagesPerSecond: number,
  trainImages: number,
  valImages: number,
  min = 5,
  max = DISTIL_EPOCHS,
): number {
  const perEpoch = trainImages / imagesPerSecond + valImages / (4 * imagesPerSecond);
  const fit = Math.min(max, Math.floor(seconds / perEpoch));
  return fit >= min ? fit : 0;
}

/**
 * Trains `arch` from scratch in `runDir` on `trainSet`, distilled from `teachers` (saved model directories), for
 * `epochs` epochs, validating on `valSet`; resumes the run in `runDir` when it holds a checkpoint (an interrupted
 * compress loses at most the batches since the last one). Returns the best epoch's model with batch norm
 * re-estimated on `trainSet`, or null when interrupted.
 */
export async function distilIntoArch(
  teachers: string[],
  runDir: string,
  trainSet: Dataset,
  valSet: Dataset,
  o: { arch: Arch; epochs: number; data: string; val: string },
  hooks: CompressHooks,
): Promise<{ model: string; bestValAcc: number; bestEpoch: number } | null> {
  const options = trainOptionsSchema.parse({ ...DISTIL_RECIPE, arch: o.arch, epochs: o.epochs, teacher: teachers, teacherTta: 'flip' });
  const resume = existsSync(path.join(runDir, 'checkpoint'));
  const r = await train(trainSet, valSet, options, {
    out: runDir,
    resume,
    hooks: trainingHooks(options),
    onEvent: hooks.onEvent,
    shouldStop: hooks.shouldStop,
    runJson: resumableRunJson(hooks, o.data, o.val),
  });
  if (r.stopReason === 'interrupted') return null;
  const best = path.join(runDir, 'best');
  const note = await reestimateSaved(best, trainSet);
  hooks.onNote?.(`batch norm re-estimated on ${note.images} images (${note.seconds.toFixed(1)} s)`);
  return { model: best, bestValAcc: r.bestValAcc, bestEpoch: r.bestEpoch };
}

/** Batches of the speed probe: enough for oneDNN's primitives to be made and the rate to settle. */
const PROBE_BATCHES = 24;

/**
 * Training images per second of the distillation on this machine and engine, measured on a short run of
 * PROBE_BATCHES batches of `trainSet`'s first images in `dir` (removed afterwards).
 */
export async function probeImagesPerSecond(teachers: string[], dir: string, trainSet: Dataset, arch: Arch): Promise<number> {
  const n = Math.min(trainSet.size, PROBE_BATCHES * DISTIL_RECIPE.batchSize);
  const labels = trainSet.labels.subarray(0, n);
  const counts = trainSet.classes.map((_, c) => labels.reduce((a, l) => a + (l === c ? 1 : 0), 0));
  const subset: Dataset = {
    ...trainSet,
    images: trainSet.images.subarray(0, (n * trainSet.images.length) / trainSet.size),
    labels,
    size: n,
    counts,
    files: trainSet.files.slice(0, n),
  };
  const options = trainOptionsSchema.parse({ ...DISTIL_RECIPE, warmupEpochs: 0, arch, epochs: 1, teacher: teachers, teacherTta: 'none' });
  let rate = 0;
  try {
    await train(subset, null, options, {
      out: dir,
      hooks: [],
      onEvent: (e) => {
        if (e.type === 'batch') rate = e.imagesPerSecond;
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rate;
}

/** Fewer epochs than this are not worth a distillation (the slim model's first cycle is 60). */
export const MIN_DISTIL_EPOCHS = 5;
/** What the budget keeps for the steps after the distillation: its int8 copy, batch norm, every export and the bench. */
const RESERVE_SECONDS = 300;
export const NO_EPOCHS_FIT = `budget: fewer than ${MIN_DISTIL_EPOCHS} epochs of the distillation fit in what is left`;

/**
 * The distillation's epochs: `archEpochs` when given, else as many as fit in `left` seconds of budget (less
 * RESERVE_SECONDS) at the speed a probe in `dir` measures, at most BUDGET_DISTIL_EPOCHS (0 when fewer than
 * MIN_DISTIL_EPOCHS fit), else DISTIL_EPOCHS.
 */
export async function distilEpochs(
  model: string,
  teachers: string[],
  dir: string,
  o: { archEpochs?: number; left?: number; data: string; val: string },
  load: DataLoader,
): Promise<number> {
  if (o.archEpochs !== undefined) return o.archEpochs;
  if (o.left === undefined) return DISTIL_EPOCHS;
  const left = o.left - RESERVE_SECONDS;
  if (left <= 0) return 0;
  const classes = modelDataClasses(model);
  const [trainSet, valSet] = [await load(o.data, 'Training', { classes }), await load(o.val, 'PublicTest', { classes })];
  const rate = await probeImagesPerSecond(teachers, path.join(dir, 'probe'), trainSet, DISTIL_ARCH);
  return epochsWithin(left, rate, trainSet.size, valSet.size, MIN_DISTIL_EPOCHS, BUDGET_DISTIL_EPOCHS);
}
