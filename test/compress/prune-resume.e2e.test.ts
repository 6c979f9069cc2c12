/**
 * `fer prune --resume`: a prune whose fine-tune was interrupted continues from its checkpoint, pruning nothing again,
 * and ends with the weights of the uninterrupted prune (the fine-tune's pruning ramp included: its hooks come from the
 * checkpoint). Before, the command had no --resume, and `fer train --resume` on the run skipped prune's batch-norm step.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { loadModel } from '../../src/model/io.js';
import { pruneModelDir, slimModel } from '../../src/compress/prune.js';
import { UsageError } from '../../src/errors.js';
import { FIXTURE_DATA, saveFixtureModel } from '../fixture-model.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-prune-resume-'));

async function weights(dir: string): Promise<number[][]> {
  const { model } = await loadModel(dir);
  const w = model.getWeights().map((t) => Array.from(t.dataSync()));
  model.dispose();
  return w;
}

describe('prune --resume', () => {
  let model: string;
  beforeAll(async () => {
    await useBackend('auto', 2);
    model = await saveFixtureModel();
  });

  const options = {
    targetSparsity: 0.6,
    ramp: 0.9,
    scope: 'lamp' as const,
    reconstruct: false,
    finetuneEpochs: 3,
    batchSize: 32,
    data: path.join(FIXTURE_DATA, 'train'),
    val: path.join(FIXTURE_DATA, 'val'),
  };

  it('an interrupted fine-tune resumes to the uninterrupted weights; pruneModelDir and slimModel alike', async () => {
    for (const [stage, extra] of [
      [pruneModelDir, {}],
      [slimModel, { ratio: 0.25 }],
    ] as const) {
      const straight = path.join(tmp(), 'p');
      const a = await stage(model, straight, { ...options, ...extra });
      if (a.interrupted) throw new Error('not interrupted');
      const broken = path.join(tmp(), 'p');
      let batches = 0;
      const first = await stage(model, broken, { ...options, ...extra }, { shouldStop: () => ++batches === 4 });
      expect(first.interrupted).toBe(true);
      // as a kill between replaceDir's two renames leaves it: train() puts the checkpoint back
      renameSync(path.join(broken, 'checkpoint'), path.join(broken, 'checkpoint.old-999999'));
      const notes: string[] = [];
      const b = await stage(model, broken, { ...options, ...extra, resume: true }, { onNote: (n) => notes.push(n) });
      if (b.interrupted) throw new Error('interrupted again');
      expect(b.model).toBe(path.join(broken, 'best'));
      expect(notes.join('\n')).toMatch(/fine-tuned 3 epochs[\s\S]*batch norm of .* re-estimated/);
      expect(await weights(b.model)).toEqual(await weights(a.model));
    }
  }, 300_000);

  it('--resume without an interrupted fine-tune, before its first checkpoint, without --finetune-epochs or with other --structured options: a usage error', async () => {
    await expect(pruneModelDir(model, path.join(tmp(), 'none'), { ...options, resume: true })).rejects.toThrow(
      /holds no interrupted fine-tune/,
    );
    await expect(pruneModelDir(model, path.join(tmp(), 'none'), { resume: true })).rejects.toThrow(UsageError);
    const slim = path.join(tmp(), 's');
    let batches = 0;
    const first = await slimModel(model, slim, { ...options, ratio: 0.5 }, { shouldStop: () => ++batches === 2 });
    expect(first.interrupted).toBe(true);
    // the report would describe a 0.25 network while out/best is the 0.5 one
    await expect(slimModel(model, slim, { ...options, ratio: 0.25, resume: true })).rejects.toThrow(/was pruned with ratio 0\.5/);
    rmSync(path.join(slim, 'checkpoint'), { recursive: true });
    await expect(slimModel(model, slim, { ...options, ratio: 0.5, resume: true })).rejects.toThrow(/before its first checkpoint/);
  }, 120_000);
});
