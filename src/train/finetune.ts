/** Fine-tuning a saved model with pruning and/or quantization held, as `fer prune` and `fer quantize` do. */
import type { Dataset } from '../data/dataset.js';
import type { FerMetadata } from '../model/types.js';
import { trainingHooks } from './hooks/index.js';
import { train, type TrainEvent, type TrainResult } from './fit.js';
import { trainOptionsSchema, type TrainOptions } from './options.js';

export { trainingHooks };

export interface FinetuneOptions {
  epochs: number;
  lr: number;
  /** Cosine decay of the LR over the fine-tune's steps (train/schedule.ts lrForStep); else per epoch (constant within one). */
  lrDecay?: boolean;
  optimizer?: TrainOptions['optimizer'];
  /** Batch size (default: fer train's). */
  batchSize?: number;
  /** EMA decay of the weights (0 or unset: off): the average is validated and saved (fer train --ema). */
  ema?: number;
  /** Batch order and augmentation (default 1). */
  seed?: number;
  /**
   * `ramp`: share of the steps over which sparsity rises from `initial` (the zeros the model already has) to
   * `target` on the cubic schedule; 0 or unset: the target from the first step (the model arrives pruned).
   */
  prune?: { target: number; pattern: TrainOptions['prunePattern']; scope?: TrainOptions['pruneScope']; ramp?: number; initial?: number };
  /** Online distillation: these models (paths) teach on every augmented batch; `alpha` weighs their soft targets. */
  teacher?: { models: string[]; alpha: number; temperature: number };
  quantize?: { bits: number; granularity: TrainOptions['granularity'] };
  onEvent?: (e: TrainEvent) => void;
  /** Polled between batches (Ctrl-C): stop after writing a checkpoint; `fer train --resume` continues. */
  shouldStop?: () => boolean;
  /** What run.json records besides the options (the command, its data). */
  runJson?: Record<string, unknown>;
  /** Continue the run at `out` from its checkpoint. */
  resume?: boolean;
}

/**
 * Trains `init` further with a cosine schedule: pruning at a constant sparsity from the first step (the
 * zeros already in the weights are the masks) or ramped up to it, quantization-aware training when asked,
 * online distillation from a teacher when given, and whatever the model's metadata says it already has (a
 * pruned model stays pruned while it is quantized, and so on).
 */
export async function finetune(
  init: string,
  meta: FerMetadata,
  trainSet: Dataset,
  valSet: Dataset | null,
  out: string,
  o: FinetuneOptions,
): Promise<TrainResult> {
  // A model that arrives pruned, fine-tuned without a target of its own, keeps its zeros where they are: choosing new
  // masks at its overall sparsity would undo how the pruning spread them over the layers (LAMP leaves the stem ~5%
  // sparse and the wide 1×1 kernels up to 70%).
  const hold = !o.prune && meta.pruning !== undefined;
  const prune =
    o.prune ??
    (meta.pruning ? { target: meta.pruning.sparsity, pattern: meta.pruning.pattern as TrainOptions['prunePattern'] } : undefined);
  const batchSize = o.batchSize ?? trainOptionsSchema.parse({}).batchSize;
  const steps = Math.max(1, Math.floor(trainSet.size / batchSize)) * o.epochs;
  const quant = o.quantize ?? (meta.quantization && meta.quantization.bits <= 8 ? meta.quantization : undefined);
  const options = trainOptionsSchema.parse({
    epochs: o.epochs,
    lr: o.lr,
    // --lr-decay: a cosine over the steps; without it the rate stays at --lr for every epoch (a per-epoch cosine here
    // used to lower it from the second epoch on)
    schedule: o.lrDecay ? 'cosine' : 'constant',
    lrPerStep: o.lrDecay ?? false,
    optimizer: o.optimizer ?? 'adam',
    batchSize,
    seed: o.seed ?? 1,
    ema: o.ema ?? 0,
    init,
    ...(prune
      ? {
          pruneTarget: prune.pattern === '2:4' ? 0.5 : prune.target,
          ...rampSchedule(steps, prune.pattern === '2:4' ? 0 : (prune.ramp ?? 0), prune.initial ?? 0),
          prunePattern: prune.pattern,
          pruneScope: prune.scope ?? 'layer',
          pruneHold: hold,
        }
      : {}),
    ...(quant ? { quantizeBits: quant.bits, granularity: quant.granularity } : {}),
    ...(o.teacher ? { onlineTeacher: o.teacher.models, distillAlpha: o.teacher.alpha, temperature: o.teacher.temperature } : {}),
  });
  return train(trainSet, valSet, options, {
    out,
    onEvent: o.onEvent,
    shouldStop: o.shouldStop,
    runJson: o.runJson,
    resume: o.resume,
  });
}

/**
 * The pruning schedule of a fine-tune of `totalSteps` steps in which sparsity rises from `initial` to the
 * target along the cubic of eq. (1)'s schedule (prune/prune.ts scheduledSparsity) over the first `ramp` share of
 * the steps, masks recomputed about 16 times on the way; ramp 0: the target from the first step.
 */
export function rampSchedule(
  totalSteps: number,
  ramp: number,
  initial: number,
): { pruneBegin: number; pruneEnd: number; pruneFrequency: number; pruneInitial: number } {
  if (!(ramp > 0)) return { pruneBegin: 0, pruneEnd: 0, pruneFrequency: 1, pruneInitial: 0 };
  const steps = Math.max(1, Math.round(Math.min(1, ramp) * totalSteps));
  // pruneEnd ≤ 1 is a share of the run's steps (train/hooks/prune.ts): it stays right if the data size changes on resume.
  return { pruneBegin: 0, pruneEnd: Math.min(1, ramp), pruneFrequency: Math.max(1, Math.round(steps / 16)), pruneInitial: initial };
}
