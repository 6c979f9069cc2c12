import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, pruneModelDir, loadDataset } from '../../src/index.js';
import { loadModel } from '../../src/model/io.js';
import { FIXTURE_DATA, saveFixtureModel } from '../fixture-model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-reconstruct-'));
let model: string;

beforeAll(async () => {
  await useBackend('auto');
  model = await saveFixtureModel();
});

describe('fer prune with --data: layer-wise reconstruction', () => {
  it('pruneModelDir with --data: the same zeros with and without reconstruction; refitted kept weights fit the dense outputs better', async () => {
    const train = path.join(FIXTURE_DATA, 'train');
    const opts = { targetSparsity: 0.5, data: train, bnReestimate: false, reconstructImages: 32 } as const;
    const notes: string[] = [];
    const a = await pruneModelDir(model, path.join(tmp, 'plain'), { ...opts, reconstruct: false });
    const b = await pruneModelDir(model, path.join(tmp, 'refit'), opts, { onNote: (n) => notes.push(n) });
    if (a.interrupted || b.interrupted) throw new Error('not fine-tuned: cannot be interrupted');
    expect(notes.some((n) => n.includes('refitted layer by layer'))).toBe(true);
    const [plain, refit, dense] = await Promise.all([a.model, b.model, model].map((m) => loadModel(m)));
    // The kernels: their zeros are the mask (a bias is not pruned, and the refit moves it).
    const weights = (m: typeof plain) =>
      m.model.weights.filter((w) => w.originalName.endsWith('kernel')).map((w) => w.read().dataSync() as Float32Array);
    const [wp, wr] = [weights(plain), weights(refit)];
    let changed = 0;
    wp.forEach((v, i) =>
      v.forEach((x, j) => {
        expect(x === 0).toBe(wr[i][j] === 0);
        if (x !== wr[i][j]) changed++;
      }),
    );
    expect(changed).toBeGreaterThan(0);
    // Logits on the training images: the refitted network is closer to the dense one.
    const ds = await loadDataset(train);
    const { tf } = await import('../../src/engine/tf.js');
    const x = tf.tensor4d(
      Float32Array.from(ds.images, (v) => v / 127.5 - 1),
      [ds.size, 48, 48, 1],
    );
    const ref = dense.model.predict(x) as import('../../src/engine/tf.js').Tensor;
    const dist = (m: typeof plain) => tf.tidy(() => tf.mean(tf.square(tf.sub(m.model.predict(x) as typeof ref, ref))).dataSync()[0]);
    expect(dist(refit)).toBeLessThan(dist(plain));
    tf.dispose([x, ref]);
    [plain, refit, dense].forEach((m) => m.model.dispose());
  });
});
