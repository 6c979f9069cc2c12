/**
 * engine/fused-grads.ts on fer-native: the fused L2 penalty (model/regularizer.ts) and ReLU gradient against
 * tfjs's own ops, on fer-native (bit-identical: same values, same gradient bits as the tape accumulates them) and
 * on cpu (the independent reference); a whole mini-Xception step's loss and gradients unchanged bit for bit; the
 * fused kernels verifiably the ones that ran; and the regularizer serializing as tfjs's L1L2.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { registerNativeBackend, NATIVE_BACKEND } from '../../src/engine/native/backend.js';
import { fusedGradSettings, L2_PENALTY, L2_PENALTY_GRAD, RELU_GRAD } from '../../src/engine/fused-grads.js';
import { l2Regularizer } from '../../src/model/regularizer.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { withPenalties } from '../../src/train/epoch.js';
import { expectClose, randomArray } from '../helpers.js';

const hasNative = registerNativeBackend(2);

afterAll(() => {
  fusedGradSettings.enabled = true;
  void tf.setBackend('cpu');
});

/** Loss and gradient of `f` at w (a variable), with w also used by a product (as a convolution uses it). */
function lossAndGrad(w: Float32Array, shape: number[], f: (v: tf.Variable) => tf.Scalar) {
  return tf.tidy(() => {
    const v = tf.variable(tf.tensor(w, shape));
    const { value, grads } = tf.variableGrads(() => f(v), [v]);
    const out = { value: Array.from(value.dataSync()), grad: Array.from(grads[v.name].dataSync()) };
    v.dispose();
    return out;
  });
}

/** An L2 penalty plus another use of the weight, scaled (so the penalty's upstream gradient is not 1). */
const l2Loss = (apply: (x: tf.Tensor) => tf.Scalar, other: Float32Array, shape: number[]) => (v: tf.Variable) =>
  tf.mul(tf.add(tf.sum(tf.mul(v, tf.tensor(other, shape))), apply(v)), 0.37) as tf.Scalar;

describe.skipIf(!hasNative)('fused training gradients on fer-native', () => {
  it.each([[[3, 3, 8, 16]], [[40_000]], [[7]]])('L2 penalty %j: value and gradient bit-identical to tfjs-layers', async (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const w = randomArray(n, 3, 0.7),
      other = randomArray(n, 4);
    const tfjsL2 = tf.regularizers.l2({ l2: 0.0005 }),
      ferL2 = l2Regularizer(0.0005);
    await tf.setBackend(NATIVE_BACKEND);
    const ref = lossAndGrad(
      w,
      shape,
      l2Loss((x) => tfjsL2.apply(x), other, shape),
    );
    const got = lossAndGrad(
      w,
      shape,
      l2Loss((x) => ferL2.apply(x), other, shape),
    );
    expect(got.value).toEqual(ref.value);
    expect(got.grad).toEqual(ref.grad);
    const { kernels } = await tf.profile(
      () =>
        lossAndGrad(
          w,
          shape,
          l2Loss((x) => ferL2.apply(x), other, shape),
        ).value.length,
    );
    expect(kernels.map((k) => k.name)).toEqual(expect.arrayContaining([L2_PENALTY, L2_PENALTY_GRAD]));
    // Against tfjs's cpu backend (its own sum order): within float tolerance.
    await tf.setBackend('cpu');
    const cpu = lossAndGrad(
      w,
      shape,
      l2Loss((x) => tfjsL2.apply(x), other, shape),
    );
    expectClose(got.value, cpu.value, { atol: 0, rtol: 1e-5 });
    expectClose(got.grad, cpu.grad, { atol: 1e-12, rtol: 1e-6 });
  });

  it('ReLU gradient bit-identical to tfjs on cpu, with zeros, -0 gradients and NaN', async () => {
    const n = 50_000; // past the kernel's parallel threshold
    const x = randomArray(n, 5);
    const dy = randomArray(n, 6);
    x[0] = 0;
    x[1] = -0;
    x[2] = NaN;
    // (No denormal x: fer-native's kernels treat them as zero, DAZ; see native/src/addon.cc.)
    dy[4] = -0;
    const grad = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor(dy))))(tf.tensor(x));
        return Array.from(g.dataSync());
      });
    };
    const ref = await grad('cpu');
    const got = await grad(NATIVE_BACKEND);
    expect(Object.is(got[5], ref[5])).toBe(true);
    expect(got.map((v) => Object.is(v, -0))).toEqual(ref.map((v) => Object.is(v, -0)));
    expect(got).toEqual(ref);
    const { kernels } = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(tf.tensor(x)));
    expect(kernels.map((k) => k.name)).toContain(RELU_GRAD);
  });

  it('a mini-Xception step: loss and every gradient bit-identical with the fused kernels on and off', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = buildModel('mini-xception', { seed: 7, l2: 0.0005 });
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const x = tf.tensor(randomArray(8 * 48 * 48, 8), [8, 48, 48, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 0], 'int32'), 7).toFloat();
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          return withPenalties(model, tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
        }, vars);
        return [Array.from(value.dataSync()), ...vars.map((v) => Array.from(grads[v.name].dataSync()))];
      });
    // Batch norm's moving statistics change on each training call; they do not enter the loss or gradients.
    fusedGradSettings.enabled = false;
    const ref = step();
    fusedGradSettings.enabled = true;
    const got = step();
    expect(got.length).toBe(ref.length);
    got.forEach((a, i) => expect(a).toEqual(ref[i]));
    tf.dispose([x, y]);
    model.dispose();
  });

  it('serializes as tfjs-layers L1L2 and loads back into the fused class', () => {
    const r = l2Regularizer(0.001);
    expect(r.getClassName()).toBe('L1L2');
    expect(r.getConfig()).toEqual({ l1: 0, l2: 0.001 });
    const back = tf.serialization.SerializationMap.getMap().classNameMap.L1L2[0];
    expect(back).toBe(r.constructor);
  });
});
