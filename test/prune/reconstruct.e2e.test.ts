import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { reconstructPruned } from '../../src/prune/reconstruct.js';
import { computeMasks, pruneModel } from '../../src/prune/model.js';
import { kernelWeights, readValues } from '../../src/prune/weights.js';
import { fixtureModel } from '../fixture-model.js';
import { randomArray } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('reconstructPruned', () => {
  it(
    'keeps the mask and brings the pruned network closer to the dense one than magnitude pruning alone',
    { timeout: 300_000 },
    async () => {
      const dense = fixtureModel(5),
        a = fixtureModel(5),
        b = fixtureModel(5);
      pruneModel(a, { target: 0.5, pattern: 'unstructured', scope: 'lamp' });
      pruneModel(b, { target: 0.5, pattern: 'unstructured', scope: 'lamp' });
      const zeros = kernelWeights(b).map((w) => readValues(w).map((v) => (v === 0 ? 1 : 0)));
      const calib = tf.tensor4d(randomArray(16 * 48 * 48, 9, 1), [16, 48, 48, 1]);
      const held = tf.tensor4d(randomArray(8 * 48 * 48, 10, 1), [8, 48, 48, 1]);
      const r = await reconstructPruned(b, dense, { images: calib, batchSize: 8 });
      expect(r.layers.length).toBe(kernelWeights(b).length);
      // Each kernel's output error against the dense layer's, on the calibration set, goes down (the ridge term
      // and float32 Gram matrices leave it a hair above the exact optimum: 1% slack).
      for (const l of r.layers) expect(l.after).toBeLessThanOrEqual(l.before * 1.01);
      expect(r.layers.reduce((a, l) => a + l.after, 0)).toBeLessThan(0.7 * r.layers.reduce((a, l) => a + l.before, 0));
      kernelWeights(b).forEach((w, i) => readValues(w).forEach((v, j) => zeros[i][j] && expect(v).toBe(0)));
      // Logits (pre-softmax features of the head) on held-out inputs: reconstruction is closer to dense.
      const logits = (m: tf.LayersModel) =>
        tf.model({ inputs: m.inputs, outputs: m.layers[m.layers.length - 2].output as tf.SymbolicTensor });
      const ref = logits(dense).predict(held) as tf.Tensor;
      const dist = (m: tf.LayersModel) =>
        tf.tidy(() => tf.mean(tf.square(tf.sub(logits(m).predict(held) as tf.Tensor, ref))).dataSync()[0]);
      expect(dist(b)).toBeLessThan(dist(a) * 0.8);
      tf.dispose([calib, held, ref]);
      [dense, a, b].forEach((m) => m.dispose());
    },
  );

  it("with select: 'obs' and 'sparsegpt' prune each kernel as many weights as LAMP allocates, and OBS fits the layers closer to the dense ones", async () => {
    const dense = fixtureModel(5),
      magnitude = fixtureModel(5);
    const settings = { target: 0.5, pattern: 'unstructured', scope: 'lamp' } as const;
    const masks = computeMasks(kernelWeights(magnitude), 0.5, settings);
    const zeros = masks.map((mask) => mask!.reduce((a, v) => a + (v ? 0 : 1), 0));
    pruneModel(magnitude, settings);
    const calib = tf.tensor4d(randomArray(6 * 48 * 48, 9, 1), [6, 48, 48, 1]);
    // Ctrl-C between layers ends the refit there (exit 130 in a command), after the layer under way
    let layers = 0;
    const stopped = fixtureModel(5);
    pruneModel(stopped, settings);
    await expect(
      reconstructPruned(stopped, dense, {
        images: calib,
        batchSize: 8,
        onLayer: (_, done) => (layers = done),
        shouldStop: () => layers >= 2,
      }),
    ).rejects.toMatchObject({
      exitCode: 130,
      message: expect.stringMatching(/^interrupted during the refit of the kept weights \(layer 2 of \d+\)/),
    });
    expect(layers).toBe(2);
    // progress: 0 of n before the first layer (a bar with its ETA from there), then each layer done
    const progress: [string, number, number][] = [];
    const rm = await reconstructPruned(magnitude, dense, { images: calib, batchSize: 8, onLayer: (...a) => progress.push(a) });
    const layersDone = progress.length - 1; // the layers refitted (a separable conv's two kernels are one layer)
    expect(layersDone).toBeGreaterThan(5);
    expect(progress[0]).toEqual(['', 0, layersDone]);
    expect(progress.slice(1).map(([name, done, total]) => [name.length > 0, done, total])).toEqual(
      progress.slice(1).map((_, i) => [true, i + 1, layersDone]),
    );
    const total = (r: typeof rm) => r.layers.reduce((a, l) => a + l.after, 0);
    const totals: Record<string, number> = {};
    for (const method of ['obs', 'sparsegpt'] as const) {
      const selected = fixtureModel(5);
      const rs = await reconstructPruned(selected, dense, { images: calib, batchSize: 8, select: { zeros, method, block: 8 } });
      kernelWeights(selected).forEach((w, i) => expect(readValues(w).filter((v) => v === 0).length).toBe(zeros[i]));
      totals[method] = total(rs);
      selected.dispose();
    }
    // Summed over the kernels, the output error against the dense layers: OBS's choice fits them better than the
    // smallest |w| (1.5e-2 against 2.2e-2 on this fixture, most of it the head). SparseGPT's sequential choice is not held to it: its
    // saliency assumes the earlier columns frozen, and the exact refit afterwards does not (BENCHMARKS.md).
    expect(totals.obs).toBeLessThan(0.8 * total(rm));
    expect(Number.isFinite(totals.sparsegpt)).toBe(true);
    calib.dispose();
    [dense, magnitude, stopped].forEach((m) => m.dispose());
  }, 600_000);
});
