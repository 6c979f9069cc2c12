/** `fer prune --resume`'s checks: an interrupted fine-tune is there, and (--structured) it was pruned as asked now. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readFerMetadata } from '../model/io.js';
import { hasLeftovers } from '../io/files.js';
import { UsageError } from '../errors.js';

/**
 * `resume`: `out` holds an interrupted fine-tune to continue: its pruned start and a checkpoint (or the halves of one
 * a kill left, which train() recovers). Checked before the data loads (the command checks before the engine starts).
 */
export function checkPruneResume(out: string): void {
  const hint = { hint: 'run the command without --resume (with --force to replace the folder)' };
  if (!existsSync(path.join(out, 'pruned-init', 'model.json')))
    throw new UsageError(`prune --resume: ${out} holds no interrupted fine-tune`, hint);
  const checkpoint = path.join(out, 'checkpoint');
  if (!existsSync(checkpoint) && !hasLeftovers(checkpoint))
    throw new UsageError(`prune --resume: ${out}'s fine-tune stopped before its first checkpoint; nothing to continue`, hint);
}

/** --structured --resume: the run's channels were chosen with these options (its report describes the model it returns). */
export function checkSlimResume(out: string, o: { ratio: number; criterion: string; multiple: number }): void {
  const s = readFerMetadata(path.join(out, 'pruned-init')).structured; // its model.json alone, not its weights
  const asked = { ratio: o.ratio, criterion: o.criterion, multiple: o.multiple };
  const differ = s ? (Object.keys(asked) as (keyof typeof asked)[]).filter((k) => s[k] !== asked[k]) : ['structured'];
  if (differ.length)
    throw new UsageError(
      `prune --resume: ${out} was pruned with ${differ.map((k) => `${k} ${s ? String(s[k as keyof typeof s]) : 'none'}`).join(', ')}`,
      {
        hint: 'resume with the options the run started with',
      },
    );
}
