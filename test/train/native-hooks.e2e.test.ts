/**
 * The training hooks around the native whole step (train/native-step.ts nativeStepWithHooks) against tfjs's step on
 * the `cpu` backend (the independent reference: tfjs's tape and optimizer, the hooks on its variables): one epoch
 * of two steps (70 fixture images) from the same saved half-width model, with pruning masks on their schedule (recomputed
 * on tfjs's variables, re-applied between recomputes in the native step's arena), structured pruning,
 * and quantization-aware training (fake-quantized forward, the update moved onto the float master weights); and the
 * run options the step takes besides (class weights, a frozen body's first epoch then the whole model's); every
 * weight within 1e-4 of its tensor's largest |value| (test/engine/native-step.test.ts's tolerance; Adam's rounding
 * noise on ~0 gradients allowed as there), the zeros of the pruned kernels identical.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import { train } from '../../src/train/fit.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { defaultMetadata, loadModel, saveModel } from '../../src/model/io.js';
import { miniXception } from '../../src/model/mini-xception.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const hasStep = registerNativeBackend() && !!loadNativeAddon()?.runPlan;
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-hooks-'));

async function weights(dir: string): Promise<{ name: string; v: Float32Array }[]> {
  const { model } = await loadModel(dir);
  const w = model.weights.map((t) => ({ name: t.name, v: t.read().dataSync() as Float32Array }));
  model.dispose();
  return w;
}

describe.skipIf(!hasStep)('training hooks on the native step equal tfjs on cpu', () => {
  let ds: Dataset, unbalanced: Dataset, init: string;
  beforeAll(async () => {
    await useBackend('cpu');
    const all = await loadDataset(path.join(FIXTURE_DATA, 'train'), { cache: false });
    const subset = (pick: number[]): Dataset => {
      const images = new Uint8Array(pick.length * 48 * 48);
      pick.forEach((k, i) => images.set(all.images.subarray(k * 48 * 48, (k + 1) * 48 * 48), i * 48 * 48));
      const labels = Uint8Array.from(pick, (k) => all.labels[k]);
      return { ...all, size: pick.length, images, labels, counts: all.counts.map((_, c) => labels.filter((l) => l === c).length) };
    };
    // Two batches of 35: every third fixture image (the folder is in class order, so every class is there).
    ds = subset(Array.from({ length: 70 }, (_, i) => i * 3));
    // For class weights, 70 images of classes 4 to 16 strong, spread over each class's 30 (weights 0.6 to 2.5). The
    // first k of each class instead put one run's stem kernel 8e-5 of its scale from tfjs's without class weights too.
    const take = [4, 14, 10, 12, 8, 16, 6];
    unbalanced = subset(take.flatMap((t, c) => Array.from({ length: t }, (_, i) => c * 30 + Math.floor((i * 30) / t))));
    init = path.join(tmp(), 'init');
    const model = miniXception({ inputSize: 48, width: 0.5, seed: 5, l2: 0.001 });
    await saveModel(model, init, defaultMetadata());
    model.dispose();
  });

  const run = async (backend: 'cpu' | 'native', extra: Record<string, unknown>) => {
    await useBackend(backend, 2);
    const out = tmp();
    const o = trainOptionsSchema.parse({ epochs: 1, batchSize: 35, lr: 0.002, l2: 0.001, seed: 5, init, patience: 0, ...extra });
    await train(o.classWeights ? unbalanced : ds, null, o, { out, runJson: {} });
    const step = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).trainStep as string;
    return { w: await weights(path.join(out, 'last')), step };
  };

  const cases: [string, Record<string, unknown>][] = [
    [
      'pruning masks on their schedule (to 60% at step 2, recomputed every step)',
      { pruneTarget: 0.6, pruneBegin: 0, pruneEnd: 2, pruneFrequency: 1 },
    ],
    // Steps 1 and 3 of 4 re-apply the masks in the native step's arena (afterStepIn), steps 0 and 2 recompute them on tfjs.
    [
      'pruning masks recomputed every other step over 2 epochs, re-applied in the arena between',
      { pruneTarget: 0.6, pruneBegin: 0, pruneEnd: 2, pruneFrequency: 2, epochs: 2 },
    ],
    ['structured pruning (25% of channels silenced)', { pruneStructured: 0.25, pruneBegin: 0, pruneEnd: 2, pruneFrequency: 1 }],
    ['quantization-aware training, 4 bits per channel, SGD-Nesterov', { quantizeBits: 4, granularity: 'per-channel', optimizer: 'sgd' }],
    // Not hooks, but what fit.ts and epoch.ts hand the native step besides: the class weights, and the program
    // switch at the epoch the body thaws (its gradients zeroed before the update until then).
    ['class weights (0.6 to 2.5) with label smoothing', { classWeights: true, labelSmoothing: 0.1 }],
    ['a frozen body for the first of 2 epochs', { freezeEpochs: 1, epochs: 2 }],
  ];
  it.each(cases)(
    '%s',
    async (_label, extra) => {
      const a = await run('cpu', extra);
      const b = await run('native', extra);
      expect(a.step).toMatch(/^tfjs/);
      expect(b.step).toBe('native');
      expect(b.w.map((x) => x.v.length)).toEqual(a.w.map((x) => x.v.length)); // the same weights, in order (tfjs numbers their names per model)
      let zeros = 0;
      a.w.forEach(({ name, v }, i) => {
        const u = b.w[i].v;
        const scale = Math.max(1e-6, ...Array.from(v, Math.abs));
        let worst = 0;
        for (let j = 0; j < v.length; j++) {
          worst = Math.max(worst, Math.abs(u[j] - v[j]));
          if (v[j] === 0 || u[j] === 0) {
            expect(u[j], `${name}[${j}] zero on one side only`).toBe(v[j]);
            zeros++;
          }
        }
        expect(worst / scale, name).toBeLessThan(1e-4 + (extra.optimizer === 'sgd' ? 0 : (0.02 * 0.002) / scale));
      });
      if ('pruneBegin' in extra) expect(zeros).toBeGreaterThan(100);
    },
    240_000,
  );
});
