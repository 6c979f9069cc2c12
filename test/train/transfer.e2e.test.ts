/**
 * Training on a class set of one's own: a 3-class dataset (FER2013 fixture faces under new names) trains
 * with a 3-output head; a transfer from the shipped model beats training from scratch after the same few
 * epochs; a frozen body stays as the init model's while the head learns; shared class names keep their rows.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import { train } from '../../src/train/fit.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { loadModel } from '../../src/model/io.js';
import { headLayer } from '../../src/model/transplant.js';
import { DEFAULT_MODEL } from '../../src/model/default.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { expectClose } from '../helpers.js';

const hasNative = registerNativeBackend();
const tmp = (p = 'fer-transfer-') => mkdtempSync(path.join(os.tmpdir(), p));

/** fixtures/fer-mini's happy, surprise and neutral faces as smile / wow / calm. */
export function threeClassSet(): string {
  const root = tmp();
  const names: Record<string, string> = { smile: 'happy', wow: 'surprise', calm: 'neutral' };
  for (const split of ['train', 'val']) {
    for (const [name, src] of Object.entries(names)) {
      mkdirSync(path.join(root, split, name), { recursive: true });
      const dir = path.join(FIXTURE_DATA, split, src);
      for (const f of readdirSync(dir)) copyFileSync(path.join(dir, f), path.join(root, split, name, f));
    }
  }
  return root;
}

describe.skipIf(!hasNative)('custom classes and transfer (fer-native)', () => {
  let tr: Dataset, va: Dataset;
  beforeAll(async () => {
    await useBackend('native', 2);
    const root = threeClassSet();
    tr = await loadDataset(path.join(root, 'train'), { cache: false });
    va = await loadDataset(path.join(root, 'val'), { cache: false });
  });

  it('transfer from the shipped model beats scratch after the same 4 epochs', async () => {
    // Measured (seeds 1..3): best val 0.70–0.77 with transfer, 0.33–0.43 from scratch; asserted: ≥ 0.15 apart.
    const base = { epochs: 4, batchSize: 16, lr: 0.001, schedule: 'constant', seed: 1, patience: 0 };
    const scratch = await train(tr, va, trainOptionsSchema.parse(base), { out: tmp() });
    const out = tmp();
    const transfer = await train(tr, va, trainOptionsSchema.parse({ ...base, init: DEFAULT_MODEL }), { out });
    expect(transfer.bestValAcc - scratch.bestValAcc).toBeGreaterThanOrEqual(0.15);
    const { model, meta } = await loadModel(path.join(out, 'best'));
    expect(meta.classes).toEqual(['calm', 'smile', 'wow']);
    expect(model.outputs[0].shape).toEqual([null, 3]);
    model.dispose();
  });

  it("--freeze-epochs trains only the head; the body is the init model's", async () => {
    const out = tmp();
    await train(tr, va, trainOptionsSchema.parse({ epochs: 1, batchSize: 16, lr: 0.01, seed: 2, freezeEpochs: 1, init: DEFAULT_MODEL }), {
      out,
      runJson: {},
    });
    const init = await loadModel(DEFAULT_MODEL),
      got = await loadModel(path.join(out, 'last'));
    const head = new Set(headLayer(got.model).weights.map((w) => w.name));
    let bodyChecked = 0;
    got.model.trainableWeights.forEach((w, i) => {
      if (head.has(w.name)) return;
      const a = w.read().dataSync(),
        b = init.model.trainableWeights[i].read().dataSync();
      expect(Array.from(a), w.name).toEqual(Array.from(b));
      bodyChecked++;
    });
    expect(bodyChecked).toBeGreaterThan(40);
    // On the native whole step (the frozen weights' gradients zeroed before the update, as tfjs's step hands them zeros).
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).trainStep).toBe('native');
    const [k0] = headLayer(got.model).getWeights();
    expect(Math.max(...Array.from(k0.dataSync()).map(Math.abs))).toBeGreaterThan(0);
    init.model.dispose();
    got.model.dispose();
  });

  it('a class the init model knows keeps its head row; a new one starts fresh', async () => {
    const root = tmp();
    for (const [name, src] of [
      ['happy', 'happy'],
      ['bored', 'neutral'],
    ]) {
      mkdirSync(path.join(root, name));
      const dir = path.join(FIXTURE_DATA, 'val', src);
      for (const f of readdirSync(dir)) copyFileSync(path.join(dir, f), path.join(root, name, f));
    }
    const ds = await loadDataset(root, { cache: false });
    const out = tmp();
    // lr 1e-9: steps that move no weight by more than ~1e-9, so the saved head is the transplanted one.
    await train(ds, null, trainOptionsSchema.parse({ epochs: 1, batchSize: 8, lr: 1e-9, minLr: 0, l2: 0, seed: 1, init: DEFAULT_MODEL }), {
      out,
    });
    const init = await loadModel(DEFAULT_MODEL),
      got = await loadModel(path.join(out, 'last'));
    expect(got.meta.classes).toEqual(['bored', 'happy']);
    const [ik, ib] = headLayer(init.model).getWeights(),
      [gk, gb] = headLayer(got.model).getWeights();
    const happy = init.meta.classes.indexOf('happy');
    const col = (k: typeof ik, c: number, n: number) => Array.from(k.dataSync()).filter((_, i) => i % n === c);
    expectClose(col(gk, 1, 2), col(ik, happy, 7), { atol: 1e-6 });
    expect(gb.dataSync()[1]).toBeCloseTo(ib.dataSync()[happy], 6);
    const fresh = col(gk, 0, 2),
      neutral = col(ik, init.meta.classes.indexOf('neutral'), 7);
    expect(Math.max(...fresh.map((v, i) => Math.abs(v - neutral[i])))).toBeGreaterThan(0.01);
    init.model.dispose();
    got.model.dispose();
  });
});
