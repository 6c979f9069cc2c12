/**
 * The recipe options of issue #23 against hand computations: SGD with Nesterov momentum (PyTorch's update
 * rule, and PyTorch itself where python3-torch is installed), mixup and cutmix images and labels, random
 * erasing, the EMA's update, and through train(): EMA weights saved, an interrupted run with all of them on
 * resumed to exactly the uninterrupted run's weights.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { Rng } from '../../src/util/rng.js';
import { cutBox, emaDecay, emaUpdate, eraseBatch, mixBatch } from '../../src/train/recipe.js';
import { train } from '../../src/train/fit.js';
import { concatWeights, makeOptimizer } from '../../src/train/setup.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { loadDataset, type Dataset } from '../../src/data/dataset.js';
import { loadModel } from '../../src/model/io.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { expectClose } from '../helpers.js';

const P = 48 * 48;
/** A python3 that has PyTorch (Debian's python3-torch is in /usr/bin's, which a pyenv shim may hide). */
const torchPython = ['/usr/bin/python3', 'python3'].find((py) => {
  try {
    execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/** Three SGD steps on f(w) = Σ (w·g_t), gradients g_t given: PyTorch's rule written out. */
function nesterovByHand(w0: number[], grads: number[][], lr: number, m: number, nesterov: boolean): number[] {
  const w = [...w0],
    buf = w0.map(() => 0);
  for (const g of grads) {
    for (let i = 0; i < w.length; i++) {
      buf[i] = m * buf[i] + g[i]; // PyTorch: buf = m·buf + g (dampening 0), the first step buf = g
      const d = nesterov ? g[i] + m * buf[i] : buf[i];
      w[i] -= lr * d;
    }
  }
  return w;
}

describe('SGD with Nesterov momentum', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  const w0 = [0.5, -1.25, 2];
  const grads = [
    [0.1, -0.2, 0.3],
    [0.05, 0.4, -0.1],
    [-0.3, 0.2, 0.25],
  ];
  for (const nesterov of [true, false]) {
    it(`matches PyTorch's update rule by hand (nesterov ${nesterov})`, () => {
      const opt = makeOptimizer({ optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov });
      const w = tf.variable(tf.tensor1d(w0), true, `nesterov-${nesterov}`);
      for (const g of grads) opt.applyGradients({ [w.name]: tf.tensor1d(g) } as never);
      expectClose(w.dataSync(), nesterovByHand(w0, grads, 0.1, 0.9, nesterov), { atol: 1e-6 });
      w.dispose();
    });
  }
  it.skipIf(!torchPython)('matches torch.optim.SGD(nesterov=True)', () => {
    const py = `import torch, json
w = torch.tensor(${JSON.stringify(w0)}, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
for g in ${JSON.stringify(grads)}:
    opt.zero_grad(); w.grad = torch.tensor(g); opt.step()
print(json.dumps(w.tolist()))`;
    const ref = JSON.parse(execFileSync(torchPython!, ['-c', py], { encoding: 'utf8' })) as number[];
    const opt = makeOptimizer({ optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true });
    const w = tf.variable(tf.tensor1d(w0), true, 'nesterov-torch');
    for (const g of grads) opt.applyGradients({ [w.name]: tf.tensor1d(g) } as never);
    expectClose(w.dataSync(), ref, { atol: 1e-6 });
  });
});

describe('mixup, cutmix and erasing', () => {
  const batch = (values: number[]) => {
    const x = new Float32Array(values.length * P);
    values.forEach((v, i) => x.fill(v, i * P, (i + 1) * P));
    return x;
  };

  it('mixup: images and labels are λ·own + (1 − λ)·partner (the batch reversed)', () => {
    const x = batch([1, -1, 0.5]);
    const y = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const soft = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6]);
    const r = mixBatch(x, [y, soft], 3, { mixup: 0.4, cutmix: 0, prob: 1 }, new Rng(7));
    expect(r.kind).toBe('mixup');
    const l = r.lam;
    expect(l).toBeGreaterThan(0);
    expect(l).toBeLessThan(1);
    // image 0 ↔ 2, image 1 ↔ itself
    expect(x[0]).toBeCloseTo(l * 1 + (1 - l) * 0.5, 6);
    expect(x[P + 100]).toBeCloseTo(-1, 6);
    expect(x[2 * P + 5]).toBeCloseTo(l * 0.5 + (1 - l) * 1, 6);
    expectClose(y, [l, 0, 1 - l, 0, 1, 0, 1 - l, 0, l], { atol: 1e-6 });
    expectClose(soft.subarray(0, 3), [l * 0.7 + (1 - l) * 0.2, l * 0.2 + (1 - l) * 0.2, l * 0.1 + (1 - l) * 0.6], { atol: 1e-6 });
  });

  it("cutmix: the partner's box is pasted and the labels weigh the area it covers", () => {
    const x = batch([1, -1]);
    const y = Float32Array.from([1, 0, 0, 1]);
    const r = mixBatch(x, [y], 2, { mixup: 0, cutmix: 1, prob: 1 }, new Rng(3));
    expect(r.kind).toBe('cutmix');
    const pasted = Array.from(x.subarray(0, P)).filter((v) => v === -1).length;
    expect(pasted).toBeGreaterThan(0);
    expect(r.lam).toBeCloseTo(1 - pasted / P, 10);
    expect(Array.from(x.subarray(P, 2 * P)).filter((v) => v === 1).length).toBe(pasted);
    expectClose(y, [r.lam, 1 - r.lam, 1 - r.lam, r.lam], { atol: 1e-9 });
    const b = cutBox(0.75, new Rng(1)); // side √0.25 = half the image, clipped at the borders
    expect(b.w).toBeLessThanOrEqual(24);
    expect(b.h).toBeLessThanOrEqual(24);
  });

  it("prob 0 or α 0 leaves a batch as it is; Beta samples have Beta's mean and variance", () => {
    const x = batch([1, -1]),
      y = Float32Array.from([1, 0, 0, 1]);
    expect(mixBatch(x, [y], 2, { mixup: 0.2, cutmix: 0, prob: 0 }, new Rng(1)).kind).toBe('none');
    expect(mixBatch(x, [y], 2, { mixup: 0, cutmix: 0, prob: 1 }, new Rng(1)).kind).toBe('none');
    expect(Array.from(y)).toEqual([1, 0, 0, 1]);
    const rng = new Rng(11),
      a = 0.2,
      n = 20000;
    const s = Array.from({ length: n }, () => rng.beta(a, a));
    const mean = s.reduce((p, v) => p + v, 0) / n,
      v = s.reduce((p, q) => p + (q - mean) ** 2, 0) / n;
    expect(mean).toBeCloseTo(0.5, 1);
    expect(v).toBeCloseTo((a * a) / ((2 * a) ** 2 * (2 * a + 1)), 1); // 0.179
  });

  it('random erasing: a rectangle of noise in [−1, 1] per erased image, the rest untouched', () => {
    const x = batch([0.25, 0.25, 0.25, 0.25]);
    const rects = eraseBatch(x, 4, 1, new Rng(5));
    expect(rects).toHaveLength(4);
    for (const r of rects) {
      expect(r.w * r.h).toBeGreaterThanOrEqual(0.02 * P * 0.8);
      expect(r.w * r.h).toBeLessThanOrEqual(0.33 * P * 1.2);
      let changed = 0;
      for (let yy = 0; yy < 48; yy++) {
        for (let xx = 0; xx < 48; xx++) {
          const v = x[r.image * P + yy * 48 + xx];
          const inside = xx >= r.x && xx < r.x + r.w && yy >= r.y && yy < r.y + r.h;
          if (!inside) expect(v).toBe(0.25);
          else {
            expect(Math.abs(v)).toBeLessThanOrEqual(1);
            if (v !== 0.25) changed++;
          }
        }
      }
      expect(changed).toBe(r.w * r.h);
    }
    const y = batch([0.25]);
    expect(eraseBatch(y, 1, 0, new Rng(5))).toEqual([]);
  });
});

describe('EMA of the weights', () => {
  it("decays as TensorFlow's ExponentialMovingAverage with num_updates", () => {
    expect(emaDecay(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecay(0.999, 8)).toBeCloseTo(0.5, 12);
    expect(emaDecay(0.9, 1000)).toBe(0.9);
    const e = Float32Array.from([1, 2]);
    emaUpdate(e, [3, -2], 0.75);
    expectClose(e, [1.5, 1], { atol: 1e-7 });
  });
});

const hasNative = registerNativeBackend();

describe.skipIf(!hasNative)('the recipe inside train() (fer-native)', () => {
  let ds: Dataset, val: Dataset;
  beforeAll(async () => {
    await useBackend('native', 2);
    ds = await loadDataset(path.join(FIXTURE_DATA, 'train'), { cache: false });
    val = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
  });
  const o = trainOptionsSchema.parse({
    epochs: 2,
    batchSize: 32,
    lr: 0.01,
    optimizer: 'sgd',
    mixup: 0.2,
    cutmix: 1,
    mixProb: 0.8,
    erasing: 0.5,
    cropScale: 0.7,
    ema: 0.9,
    seed: 4,
    schedule: 'cosine',
  });

  it('saves the EMA weights (not the raw ones) and keeps the EMA in the checkpoint', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'fer-recipe-'));
    const r = await train(ds, val, o, { out });
    expect(r.history).toHaveLength(2);
    const b = readFileSync(path.join(out, 'checkpoint', 'ema.f32'));
    const ema = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    const last = await loadModel(path.join(out, 'last')),
      raw = await loadModel(path.join(out, 'checkpoint', 'model'));
    expectClose(concatWeights(last.model), ema, { atol: 0 });
    const rw = concatWeights(raw.model);
    expect(Math.max(...rw.map((v, i) => Math.abs(v - ema[i])))).toBeGreaterThan(1e-4);
    last.model.dispose();
    raw.model.dispose();
  });

  it("an interrupted run with SGD, mixup, cutmix, erasing, crops and EMA resumes to the uninterrupted run's weights", async () => {
    const straight = mkdtempSync(path.join(os.tmpdir(), 'fer-recipe-'));
    await train(ds, val, o, { out: straight });
    const broken = mkdtempSync(path.join(os.tmpdir(), 'fer-recipe-'));
    let batches = 0;
    expect((await train(ds, val, o, { out: broken, shouldStop: () => ++batches === 4 })).stopReason).toBe('interrupted');
    expect((await train(ds, val, o, { out: broken, resume: true })).stopReason).toBe('done');
    const a = await loadModel(path.join(straight, 'last')),
      b = await loadModel(path.join(broken, 'last'));
    expect(Array.from(concatWeights(b.model))).toEqual(Array.from(concatWeights(a.model)));
    a.model.dispose();
    b.model.dispose();
  });
});
