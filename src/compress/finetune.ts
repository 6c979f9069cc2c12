/**
 * The fine-tune after pruning or quantization, written once for both stages (compress/prune.ts,
 * compress/quantize.ts): the data they read, the validation set, the teacher, and train/finetune.ts's run.
 */
import { loadData, type DataLoader, type Dataset } from '../data/dataset.js';
import type { ClassSpec } from '../data/classes.js';
import type { FerMetadata } from '../model/types.js';
import { finetune, type FinetuneOptions } from '../train/finetune.js';
import type { TrainEvent, TrainResult } from '../train/fit.js';
import { teacherFor, type RecoveryOptions } from './options.js';

/** How a compress stage reports and reads; every field optional (a library caller usually gives none). */
export interface CompressHooks {
  /** Reads --data, --val and the calibration images (default loadDataset). */
  load?: DataLoader;
  /** The fine-tune's training events (progress, epochs). */
  onEvent?: (e: TrainEvent) => void;
  /** One-line notes: batch norm re-estimated, the fine-tune's best accuracy. */
  onNote?: (message: string) => void;
  /** A stage's progress outside the fine-tune (prune's layer-by-layer refit): `done` of `total`, starting at 0. */
  onProgress?: (done: number, total: number, what: string) => void;
  /** Polled between fine-tuning batches (Ctrl-C): stop after a checkpoint; `fer train --resume` continues the run. */
  shouldStop?: () => boolean;
  /** Recorded in the fine-tune's run.json before its data (e.g. the command line). */
  runJson?: Record<string, unknown>;
}

/** What the fine-tune reads: the stage options it shares between prune and quantize. */
export interface FinetuneData extends RecoveryOptions {
  finetuneEpochs: number;
  /** Continue the run at runDir from its checkpoint (train's --resume) instead of starting it. */
  resume?: boolean;
  lr: number;
  data?: string;
  val?: string;
}

/**
 * Fine-tunes `from` (with `meta`) into the run directory `runDir` on `trainSet`, validating on `o.val` (loaded
 * here, in `classes`), distilled from `teacherOf` (the model before compression) unless distillation is off.
 * `prune`/`quantize` say what the training holds. An interrupted run returns with stopReason 'interrupted'.
 */
export async function fineTuneCompressed(
  from: string,
  meta: FerMetadata,
  trainSet: Dataset,
  runDir: string,
  o: FinetuneData & { teacherOf: string; classes: ClassSpec } & Pick<FinetuneOptions, 'prune' | 'quantize'>,
  hooks: CompressHooks,
): Promise<TrainResult> {
  const valSet = o.val ? await (hooks.load ?? loadData)(o.val, 'PublicTest', { classes: o.classes }) : null;
  return finetune(from, meta, trainSet, valSet, runDir, {
    epochs: o.finetuneEpochs,
    lr: o.lr,
    lrDecay: o.lrDecay ?? false,
    optimizer: o.optimizer,
    batchSize: o.batchSize,
    seed: o.seed,
    ema: o.ema,
    prune: o.prune,
    quantize: o.quantize,
    teacher: teacherFor(o, o.teacherOf),
    onEvent: hooks.onEvent,
    shouldStop: hooks.shouldStop,
    runJson: resumableRunJson(hooks, o.data, o.val),
    resume: o.resume,
  });
}

/** run.json's record of a compress stage's training run: what `fer train --resume` needs to continue it. */
export function resumableRunJson(hooks: Pick<CompressHooks, 'runJson'>, data?: string, val?: string): Record<string, unknown> {
  return {
    ...hooks.runJson,
    cwd: process.cwd(),
    data,
    val,
    usage: 'Training',
    valUsage: val ? 'PublicTest' : undefined,
    started: new Date().toISOString(),
  };
}
