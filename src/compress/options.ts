/** The recovery options the prune and quantize stages share (issue 36): each on by default, each with its off switch (commands/common.ts withRecoveryOptions). */
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { z } from 'zod';
import { resolveTeachers } from '../model/default.js';
import { OPTIMIZERS } from '../train/options.js';
import { TTA_MODES } from '../data/augment.js';
import { COMPRESS_TARGETS } from './choose.js';

export const recoverySchema = z.object({
  /** Online distillation from the dense/unquantized model (or --teacher) during the fine-tune. */
  distill: z.boolean().default(true),
  teacher: z.union([z.string().transform((s) => [s]), z.array(z.string())]).optional(),
  alpha: z.coerce.number().min(0).max(1).default(0.5),
  temperature: z.coerce.number().positive().max(20).default(2),
  /**
   * The fine-tune's learning rate decays along a cosine over its steps (to 1e-5 at the last one) instead of staying
   * at --lr: a one-epoch fine-tune is one "epoch" of fer train's epoch-wise schedule, so without it the rate never moves.
   * Unset: quantize keeps --lr; prune decides by the target sparsity (pruneFinetuneRate).
   */
  lrDecay: z.boolean().optional(),
  /** The fine-tune's optimizer (fresh state either way): Adam, or SGD with Nesterov momentum 0.9. */
  optimizer: z.enum(OPTIMIZERS).default('adam'),
  /** The fine-tune keeps an EMA of its weights with this decay (0: off), and that average is the result (train --ema). */
  ema: z.coerce.number().min(0).lt(1).default(0),
  /** The fine-tune's batch size; unset: fer train's (64), or for prune by the target sparsity (pruneFinetuneRate). */
  batchSize: z.coerce.number().int().min(1).optional(),
  /** The fine-tune's seed: its batch order and augmentation. */
  seed: z.coerce.number().int().min(0).default(1),
  /** Batch-norm statistics re-estimated on --data after the weights change. */
  bnReestimate: z.boolean().default(true),
});

export type RecoveryOptions = z.infer<typeof recoverySchema>;

/** The fine-tune's teacher, or undefined when distillation is off. */
export function teacherFor(o: RecoveryOptions, model: string): { models: string[]; alpha: number; temperature: number } | undefined {
  return o.distill ? { models: teachersOf(o, model), alpha: o.alpha, temperature: o.temperature } : undefined;
}

/** --teacher's models (committed teachers by name, or paths), or `model` itself when none is given. */
export function teachersOf(o: Pick<RecoveryOptions, 'teacher'>, model: string): string[] {
  return o.teacher?.length ? resolveTeachers(o.teacher) : [model];
}

/** What a batch-norm re-estimation did (compress/recovery.ts reestimateBatchNorm). */
export interface BatchNormNote {
  images: number;
  batches: number;
  seconds: number;
}

/**
 * compress's data and val paths, checked before any work: it reads them only after the original's export and
 * measurement, which a wrong path then left behind. (A library caller with its own loader reads its own sources.)
 */
export function checkDataPaths(o: { data: string; val: string }): void {
  for (const [what, p] of [
    ['data', o.data],
    ['val', o.val],
  ] as const)
    if (!existsSync(p)) throw new UsageError(`compress: ${what} ${p}: no such file or folder`);
}

const list = z.union([z.string().transform((s) => s.split(',').map(Number)), z.array(z.number())]).pipe(z.array(z.number().gt(0).lt(1)));

export const compressOptionsSchema = z
  .object({
    /** Training data: fine-tunes, batch-norm re-estimation, int8 calibration. */
    data: z.string(),
    /** Validation data: every variant's accuracy (on its ONNX export) and the fine-tunes' best epoch. */
    val: z.string(),
    /** Largest accuracy drop against the original on --val, in points, that a chosen variant may have. */
    maxDrop: z.coerce.number().min(0).default(1),
    target: z.enum(COMPRESS_TARGETS).default('latency'),
    /** Stop starting variants once the next one would end past this many minutes (estimated from those done). */
    budgetMinutes: z.coerce.number().positive().optional(),
    /** Layer-wise reconstruction after unstructured pruning (as `fer prune`; off: faster, less accurate). */
    reconstruct: z.boolean().default(true),
    /** Fine-tune epochs after pruning (0: none). */
    finetuneEpochs: z.coerce.number().int().min(0).default(1),
    /** --target size: unstructured sparsities tried (each + int8). */
    sparsities: list.default([0.5, 0.65, 0.8]),
    /** --target latency: structured channel-pruning ratios tried (each fp32, and int8 where not slower). */
    ratios: list.default([0.25, 0.5]),
    /**
     * --target latency: epochs of the distillation into the faster architecture (distil-arch.ts); default: as many
     * as fit --budget-minutes (measured on a short probe), else DISTIL_EPOCHS. 0: that variant is not run.
     */
    archEpochs: z.coerce.number().int().min(0).optional(),
    /** Only these variants (by name), e.g. for a quick run. */
    only: z.union([z.string().transform((s) => s.split(',')), z.array(z.string())]).optional(),
    /** Test-time augmentation of the --val evaluation. */
    tta: z.enum(TTA_MODES).default('none'),
    calibrationImages: z.coerce.number().int().min(1).default(512),
    /** The bench: timed runs per model and batch size, shared over the rounds; and the rounds. */
    benchIterations: z.coerce.number().int().min(1).default(50),
    benchRounds: z.coerce.number().int().min(1).default(10),
    benchWarmup: z.coerce.number().int().min(0).default(5),
    /** Skip the variants <out>/compress-state.json records as done. */
    resume: z.boolean().default(false),
  })
  .extend(recoverySchema.shape);

export type CompressOptions = z.input<typeof compressOptionsSchema>;
/** compress's options as parsed (defaults filled in). */
export type CompressParsed = z.infer<typeof compressOptionsSchema>;
