/**
 * engine/optimizer.ts's fused updates on fer-native against tfjs's own Adam and momentum optimizers on cpu (the
 * independent reference): weights and every slot bit-identical after several steps, with a learning-rate change
 * between steps, weights small and large (the native loop goes parallel past 32,768 floats), a gradient missing
 * for one weight, and the fused kernel verifiably the one that ran.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { registerNativeBackend, NATIVE_BACKEND } from '../../src/engine/native/backend.js';
import { applyGradients, ADAM_UPDATE, MOMENTUM_UPDATE } from '../../src/engine/optimizer.js';
import { setLearningRate } from '../../src/engine/tfjs-internals.js';
import { randomArray } from '../helpers.js';

const hasNative = registerNativeBackend(2);
// The cpu reference is switched to with tf.setBackend, not useBackend: quiet tfjs's "install tfjs-node" banner as useBackend does.
tf.env().set('PROD', true);
const shapes = [[3, 3, 8, 16], [16], [40_000], [7]];

/** Weights, optimizer slots and Adam's β powers after `steps` updates on `backend`, through `apply`. */
async function train(
  backend: string,
  make: () => tf.Optimizer,
  apply: (o: tf.Optimizer, g: Record<string, tf.Tensor>) => void,
  tag: string,
) {
  await tf.setBackend(backend);
  const vars = shapes.map((s, i) =>
    tf.variable(
      tf.tensor(
        randomArray(
          s.reduce((a, b) => a * b, 1),
          10 + i,
        ),
        s,
      ),
      true,
      `${tag}${backend}w${i}`,
    ),
  );
  const opt = make();
  for (let step = 0; step < 4; step++) {
    if (step === 2) setLearningRate(opt, 0.003);
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => {
        // The last weight gets no gradient on odd steps (tfjs skips it; its slots stay as they were).
        if (i < 3 || step % 2 === 0) grads[v.name] = tf.tensor(randomArray(v.size, 100 * step + i, 0.5 + i), v.shape);
      });
      apply(opt, grads);
    });
  }
  const out = [...vars.map((v) => Array.from(v.dataSync())), ...(await opt.getWeights()).map((w) => Array.from(w.tensor.dataSync()))];
  opt.dispose();
  tf.dispose(vars);
  return out;
}

afterAll(() => void tf.setBackend('cpu'));

describe.skipIf(!hasNative)('fused optimizer updates on fer-native equal tfjs optimizers on cpu', () => {
  it.each([
    ['Adam', () => tf.train.adam(0.01), ADAM_UPDATE],
    ['SGD with Nesterov momentum', () => tf.train.momentum(0.05, 0.9, true), MOMENTUM_UPDATE],
    ['SGD with plain momentum', () => tf.train.momentum(0.05, 0.8, false), MOMENTUM_UPDATE],
  ] as const)('%s: weights and slots bit-identical after 4 steps', async (name, make, kernel) => {
    const tag = name.replace(/\W/g, '');
    const ref = await train('cpu', make, (o, g) => o.applyGradients(g), tag);
    const got = await train(NATIVE_BACKEND, make, applyGradients, tag);
    expect(got.length).toBe(ref.length);
    got.forEach((a, i) => expect(a).toEqual(ref[i]));

    // The fused kernel, not tfjs's own update, is what ran on fer-native.
    await tf.setBackend(NATIVE_BACKEND);
    const v = tf.variable(tf.ones([5]), true, `${tag}probe`);
    const opt = make();
    const { kernels } = await tf.profile(() => applyGradients(opt, { [v.name]: tf.ones([5]) }));
    expect(kernels.map((k) => k.name)).toContain(kernel);
    opt.dispose();
    v.dispose();
  });

  it('falls back to the optimizer itself on a backend without the kernels', async () => {
    await tf.setBackend('cpu');
    const v = tf.variable(tf.ones([3]), true, 'fallbackw');
    const opt = tf.train.rmsprop(0.1);
    applyGradients(opt, { [v.name]: tf.ones([3]) });
    expect(Array.from(v.dataSync()).every((x) => x < 1)).toBe(true);
    opt.dispose();
    v.dispose();
  });
});

// setLearningRate must reach the step itself: tfjs's SGD/momentum step with a scalar −lr made at construction,
// so setting only the `learningRate` field left every `fer train --optimizer sgd` run at its first rate.
// Hand-computed: x = 1, g = 1 each step, momentum 0.9 (not Nesterov). Step 1 at lr 0.1: acc = 1, x = 0.9.
// Step 2 at lr 0.01: acc = 0.9·1 + 1 = 1.9, x = 0.9 − 0.01·1.9 = 0.881 (the stale rate gives 0.71).
describe('setLearningRate', () => {
  const backends = hasNative ? ['cpu', NATIVE_BACKEND] : ['cpu'];
  it.each(backends)('changes the rate momentum steps with on %s', async (backend) => {
    await tf.setBackend(backend);
    const v = tf.variable(tf.ones([1]), true, `lrprobe${backend}`);
    const opt = tf.train.momentum(0.1, 0.9, false);
    applyGradients(opt, { [v.name]: tf.ones([1]) });
    expect(v.dataSync()[0]).toBeCloseTo(0.9, 6);
    setLearningRate(opt, 0.01);
    applyGradients(opt, { [v.name]: tf.ones([1]) });
    expect(v.dataSync()[0]).toBeCloseTo(0.881, 6);
    opt.dispose();
    v.dispose();
  });

  it('changes the rate Adam steps with', async () => {
    await tf.setBackend('cpu');
    const v = tf.variable(tf.zeros([1]), true, 'lrprobeadam');
    const opt = tf.train.adam(0.1);
    setLearningRate(opt, 0.01);
    // Adam's first step moves each weight by lr·sign(g) (bias-corrected m/√v = 1, up to ε).
    applyGradients(opt, { [v.name]: tf.ones([1]) });
    expect(v.dataSync()[0]).toBeCloseTo(-0.01, 5);
    opt.dispose();
    v.dispose();
  });
});
