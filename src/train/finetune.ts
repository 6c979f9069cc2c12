/** Fine-tuning a saved model with pruning and/or quantization held, as `fer prune` and `fer quantize` do. */
import type { Dataset } from '../data/dataset.js';
import type { FerMetadata } from '../model/io.js';
import { pruneHook } from './hooks/prune.js';
import { quantizeHook } from './hooks/quantize.js';
import { structuredHook } from './hooks/structured.js';
import type { StepHook } from './types.js';
import { train, type TrainEvent, type TrainResult } from './fit.js';
import { trainOptionsSchema, type TrainOptions } from './options.js';

export interface FinetuneOptions {
  epochs: number;
  lr: number;
  prune?: { target: number; pattern: TrainOptions['prunePattern']; scope?: TrainOptions['pruneScope'] };
  quantize?: { bits: number; granularity: TrainOptions['granularity'] };
  onEvent?: (e: TrainEvent) => void;
  /** Polled between batches (Ctrl-C): stop after writing a checkpoint; `fer train --resume` continues. */
  shouldStop?: () => boolean;
  /** What run.json records besides the options (the command, its data). */
  runJson?: Record<string, unknown>;
}

/**
 * Trains `init` further with a cosine schedule: pruning at a constant sparsity from the first step (the
 * zeros already in the weights are the masks), quantization-aware training when asked, and whatever the
 * model's metadata says it already has (a pruned model stays pruned while it is quantized, and so on).
 */
export async function finetune(
  init: string,
  meta: FerMetadata,
  trainSet: Dataset,
  valSet: Dataset | null,
  out: string,
  o: FinetuneOptions,
): Promise<TrainResult> {
  const prune =
    o.prune ??
    (meta.pruning ? { target: meta.pruning.sparsity, pattern: meta.pruning.pattern as TrainOptions['prunePattern'] } : undefined);
  const quant = o.quantize ?? (meta.quantization && meta.quantization.bits <= 8 ? meta.quantization : undefined);
  const options = trainOptionsSchema.parse({
    epochs: o.epochs,
    lr: o.lr,
    schedule: 'cosine',
    init,
    ...(prune
      ? {
          pruneTarget: prune.pattern === '2:4' ? 0.5 : prune.target,
          pruneBegin: 0,
          pruneEnd: 0,
          prunePattern: prune.pattern,
          pruneScope: prune.scope ?? 'layer',
        }
      : {}),
    ...(quant ? { quantizeBits: quant.bits, granularity: quant.granularity } : {}),
  });
  return train(trainSet, valSet, options, {
    out,
    hooks: trainingHooks(options),
    onEvent: o.onEvent,
    shouldStop: o.shouldStop,
    runJson: o.runJson,
  });
}

/** The step hooks a run's options ask for: unstructured or 2:4 pruning, structured pruning, quantization-aware training. */
export function trainingHooks(options: TrainOptions): StepHook[] {
  return [pruneHook(options), structuredHook(options), quantizeHook(options)].filter((h) => h !== null);
}
