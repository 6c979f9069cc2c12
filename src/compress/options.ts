/** The recovery flags `fer prune` and `fer quantize` share (issue 36): each on by default, each with its off switch. */
import type { Command } from 'commander';
import { z } from 'zod';

export const recoverySchema = z.object({
  /** Online distillation from the dense/unquantized model (or --teacher) during the fine-tune. */
  distill: z.boolean().default(true),
  teacher: z.string().optional(),
  alpha: z.coerce.number().min(0).max(1).default(0.5),
  temperature: z.coerce.number().positive().max(20).default(2),
  /** Batch-norm statistics re-estimated on --data after the weights change. */
  bnReestimate: z.boolean().default(true),
});

export type RecoveryOptions = z.infer<typeof recoverySchema>;

export function withRecoveryOptions(cmd: Command, what: 'pruned' | 'quantized'): Command {
  const source = what === 'pruned' ? 'the dense --model' : 'the unquantized --model';
  return cmd
    .option('--no-distill', `fine-tune on the labels alone (default: ${source}, or --teacher, teaches on every augmented batch)`)
    .option('--teacher <model>', `the fine-tune's online teacher (default: ${source})`)
    .option('--alpha <x>', "weight of the teacher's soft targets in the fine-tuning loss (the labels get 1 − alpha)")
    .option('--temperature <t>', "softmax temperature of the teacher's soft targets")
    .option(
      '--no-bn-reestimate',
      `keep the batch-norm statistics (default: re-estimated on --data after ${what === 'pruned' ? 'pruning and after the fine-tune' : 'the fine-tune, before calibration'})`,
    );
}

/** The fine-tune's teacher, or undefined when distillation is off. */
export function teacherFor(o: RecoveryOptions, model: string): { model: string; alpha: number; temperature: number } | undefined {
  return o.distill ? { model: o.teacher ?? model, alpha: o.alpha, temperature: o.temperature } : undefined;
}
