/**
 * `fer prune`'s measured allocation (issue 36): above 0.5 with --data the default is --scope sensitivity; it reaches
 * the target over the exported weights, puts its zeros where the one-kernel cost says (not where LAMP would), and
 * the fine-tune holds them where they are.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend, pruneModelDir } from '../../src/index.js';
import { pruneScopeFor } from '../../src/compress/prune.js';
import { FIXTURE_DATA, saveFixtureModel } from '../fixture-model.js';
import { kernelWeights, readValues } from '../../src/prune/weights.js';
import { loadModel } from '../../src/model/io.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-prune-sens-'));
let model: string;

beforeAll(async () => {
  await useBackend('auto');
  model = await saveFixtureModel();
});

const zerosOf = async (dir: string) => {
  const { model: m } = await loadModel(dir);
  const z = kernelWeights(m).map((w) => Array.from(readValues(w), (x) => x === 0));
  m.dispose();
  return z;
};

describe('prune --scope sensitivity', () => {
  it('is the default above 0.5 with data, LAMP up to 0.5 or without data', () => {
    expect(pruneScopeFor(0.75, true)).toBe('sensitivity');
    expect(pruneScopeFor(0.5, true)).toBe('lamp');
    expect(pruneScopeFor(0.75, false)).toBe('lamp');
  });

  it('reaches the target, allocates unlike LAMP, and the fine-tune keeps its zeros', async () => {
    const data = path.join(FIXTURE_DATA, 'train');
    const lamp = await pruneModelDir(model, path.join(tmp, 'lamp'), { targetSparsity: 0.75, scope: 'lamp', data, reconstruct: false });
    const out = path.join(tmp, 'sens');
    const r = await pruneModelDir(model, out, { targetSparsity: 0.75, data, reconstruct: false, finetuneEpochs: 1, distill: false });
    if (r.interrupted || lamp.interrupted) throw new Error('not interrupted');
    expect(r.sparsity).toBeGreaterThanOrEqual(0.75);
    expect(r.sparsity).toBeLessThan(0.751);
    const perKernel = (x: typeof r) => x.layers.map((l) => l.sparsity);
    expect(perKernel(r)).not.toEqual(perKernel(lamp));
    const init = await zerosOf(path.join(out, 'pruned-init')),
      best = await zerosOf(path.join(out, 'best'));
    expect(best).toEqual(init);
  }, 600_000);
});
