/**
 * The native forward pass for prediction (engine/native/native-infer.ts, step-plan.ts compileInference) against
 * tfjs-layers' predict on the `cpu` backend (the independent reference): the paper's mini-Xception, the stride-2
 * ×2 student and a small ResNet teacher (dropout, a softmax Dense), with random moving statistics so that batch norm's
 * inference form matters, on a batch count that leaves the last batch partial.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { NativeInference } from '../../src/engine/native/native-infer.js';
import { PLAN_OPS } from '../../src/engine/native/step-plan.js';
import { buildModel, resnet } from '../../src/model/mini-xception.js';
import { randomArray } from '../helpers.js';
import { nativeSoftTargets, onlineSoftTargets } from '../../src/train/distill.js';
import { registerNativeBackend, NATIVE_BACKEND } from '../../src/engine/native/backend.js';

const addon = loadNativeAddon();
const hasInfer = (addon?.planOps ?? 0) >= PLAN_OPS;

/** Moving means in ±0.5 and variances in [0.5, 1.5]: batch norm's inference form then differs from the identity. */
function randomizeMovingStats(model: tf.LayersModel, seed: number): number {
  let k = seed;
  for (const w of model.weights) {
    const name = w.originalName;
    if (!/moving_(mean|variance)/.test(name)) continue;
    const shape = w.shape as number[];
    const r = randomArray(
      shape.reduce((a, b) => a * b, 1),
      k++,
    );
    w.write(tf.tensor(name.includes('mean') ? r.map((v) => v * 0.5) : r.map((v) => 1 + v * 0.5), shape));
  }
  return k - seed;
}

describe.skipIf(!hasInfer)('native inference equals tfjs predict on cpu', () => {
  beforeAll(async () => void (await tf.setBackend('cpu')));
  afterAll(() => void tf.setBackend('cpu'));

  it.each([
    ['mini-xception', () => buildModel('mini-xception', { seed: 3 }), 48],
    ['mini-xception-s2c2-x2', () => buildModel('mini-xception-s2c2-x2', { seed: 4 }), 48],
    ['a small ResNet teacher (dropout 0.3, softmax Dense)', () => resnet({ inputSize: 24, base: 4, seed: 5, dropout: 0.3 }), 24],
  ] as const)('%s: probabilities within 1e-5 over 11 images at batch 4', (_name, make, size) => {
    const model = make();
    expect(randomizeMovingStats(model, 7)).toBeGreaterThan(2);
    const n = 11;
    const xs = randomArray(n * size * size, 9);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(xs, [n, size, size, 1])) as tf.Tensor).dataSync() as Float32Array);
    const inf = NativeInference.create(model, 4);
    if ('unsupported' in inf) throw new Error(inf.unsupported);
    const got = inf.probs(xs, n);
    expect(got.length).toBe(ref.length);
    const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - ref[i])));
    expect(worst).toBeLessThan(1e-5);
    // Not vacuous: the probabilities are not uniform, and the moving statistics change them.
    expect(Math.max(...Array.from(ref)) - Math.min(...Array.from(ref))).toBeGreaterThan(0.01);
    model.dispose();
  });

  it('reads the weights again on load(): a changed weight changes the output', () => {
    const model = buildModel('mini-xception', { seed: 6 });
    const inf = NativeInference.create(model, 2);
    if ('unsupported' in inf) throw new Error(inf.unsupported);
    const xs = randomArray(2 * 48 * 48, 10);
    const before = inf.logits(xs, 2);
    const k = model.weights.find((w) => w.originalName.includes('kernel'))!;
    k.write(tf.mul(k.read(), 2));
    expect(Array.from(inf.logits(xs, 2))).toEqual(Array.from(before));
    inf.load();
    expect(Array.from(inf.logits(xs, 2))).not.toEqual(Array.from(before));
    model.dispose();
  });

  it("distillation's online soft targets of two teachers (T = 2) equal tfjs's onlineSoftTargets on cpu", async () => {
    const teachers = [buildModel('mini-xception', { seed: 11 }), buildModel('mini-xception-s2c2-x2', { seed: 12 })];
    teachers.forEach((t, i) => randomizeMovingStats(t, 20 + i));
    const n = 5;
    const xs = randomArray(n * 48 * 48, 13);
    const ref = tf.tidy(() => onlineSoftTargets(teachers, tf.tensor4d(xs, [n, 48, 48, 1]), 2).dataSync() as Float32Array);
    expect(nativeSoftTargets(teachers, xs, n, 2)).toBeNull(); // not on fer-native: tfjs's path runs
    registerNativeBackend(1);
    await tf.setBackend(NATIVE_BACKEND);
    try {
      const got = nativeSoftTargets(teachers, xs, n, 2)!;
      expect(got).not.toBeNull();
      expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - ref[i])))).toBeLessThan(1e-5);
    } finally {
      await tf.setBackend('cpu');
    }
    teachers.forEach((t) => t.dispose());
  });
});
