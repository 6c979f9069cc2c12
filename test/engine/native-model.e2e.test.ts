/**
 * A whole mini-Xception training step on `fer-native` against tfjs's `cpu` backend running tfjs's own
 * batch norm (moments + batchNorm): forward loss and the gradient of every trainable variable.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { miniXception } from '../../src/model/mini-xception.js';
import { batchNormSettings } from '../../src/model/batch-norm.js';
import { registerWasmTrainingKernels } from '../../src/engine/wasm/register.js';
import { loadWasmBackend } from '../../src/engine/tf.js';
import { expectClose, randomArray } from '../helpers.js';

const hasNative = registerNativeBackend();
await loadWasmBackend(); // imported only when chosen (src/engine/tf.ts)
registerWasmTrainingKernels();
let cached: ReturnType<typeof gradients> | undefined;
/** The reference: cpu with tfjs's own batch norm (computed once: ~10 s). */
const reference = () => (cached ??= gradients('cpu', false));

function gradients(backend: string, fused: boolean, threads?: number) {
  tf.setBackend(backend);
  if (threads) registerNativeBackend(threads);
  batchNormSettings.fused = fused;
  const model = miniXception({ seed: 7 });
  const x = tf.tensor4d(randomArray(4 * 48 * 48, 3), [4, 48, 48, 1]);
  const y = tf.oneHot(tf.tensor1d([0, 3, 5, 6], 'int32'), 7);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
  );
  const out = {
    loss: value.dataSync()[0],
    grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k.replace(/_\d+\//, '/'), g.dataSync().slice()])),
  };
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  batchNormSettings.fused = true;
  return out;
}

describe.skipIf(!hasNative)('fer-native: whole mini-Xception step vs cpu', () => {
  afterAll(() => tf.setBackend('cpu'));

  it("fer's fused batch-norm kernels on cpu (the wasm path) match tfjs's own batch norm", () => {
    const ref = reference(),
      got = gradients('cpu', true);
    expect(got.loss).toBeCloseTo(ref.loss, 5);
    Object.values(ref.grads).forEach((g, i) => {
      const scale = Math.max(...Array.from(g, Math.abs));
      expectClose(Object.values(got.grads)[i], g, { atol: 1e-4 * scale + 1e-6, rtol: 1e-3, label: Object.keys(ref.grads)[i] });
    });
  });

  it.each([1, 2])('matches the cpu reference with %i thread(s)', (threads) => {
    const ref = reference(),
      got = gradients('fer-native', true, threads);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    expect(Object.keys(got.grads).length).toBe(Object.keys(ref.grads).length);
    // Batch-norm gradients of a 4-image batch sum thousands of terms of both signs; float32 summation
    // order alone moves them by ~1e-5 relative to their largest entries.
    Object.values(ref.grads).forEach((g, i) => {
      const scale = Math.max(...Array.from(g, Math.abs));
      expectClose(Object.values(got.grads)[i], g, { atol: 2e-4 * scale + 1e-6, rtol: 1e-3, label: Object.keys(ref.grads)[i] });
    });
  });
});

describe('wasm: whole mini-Xception step vs cpu', () => {
  afterAll(() => tf.setBackend('cpu'));

  // The wasm training path: its SIMD kernels (conv, depthwise and pooling gradients, batch norm) and the
  // backend's own forward and element-wise kernels, against cpu with tfjs's own batch norm.
  it('every gradient matches the cpu reference', async () => {
    const ref = reference();
    await tf.setBackend('wasm');
    const got = gradients('wasm', true);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    expect(Object.keys(got.grads).length).toBe(Object.keys(ref.grads).length);
    Object.values(ref.grads).forEach((g, i) => {
      const scale = Math.max(...Array.from(g, Math.abs));
      expectClose(Object.values(got.grads)[i], g, { atol: 2e-4 * scale + 1e-6, rtol: 1e-3, label: Object.keys(ref.grads)[i] });
    });
  });
});
