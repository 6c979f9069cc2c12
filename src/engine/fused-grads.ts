/**
 * Fewer, fused kernels for two pieces of every training step that tfjs runs op by op (issue 38), where the
 * backend has them (fer-native: engine/native/kernels/train-fused.ts); elsewhere tfjs's own ops run, unchanged.
 *
 * - The L2 weight penalty of tfjs-layers' L1L2 regularizer, `sum(l2 * square(w))`: 5 kernels forward and ~13
 *   backward (broadcast reshapes, casts, the two halves of w·w) per regularized weight, in one kernel each way.
 *   The fused kernels round as those ops do (each product to float32, the sum by the backend's own Sum), and the
 *   gradient is what the tape accumulates from them, (dy·l2)·w reached twice and added: bit-identical.
 * - ReLU's gradient, `dy * cast(step(x))` (3 kernels, 2 full-size passes), in one pass with the same values.
 */
import { tf, activeBackendHas } from './tf.js';

export const L2_PENALTY = 'FerL2Penalty';
export const L2_PENALTY_GRAD = 'FerL2PenaltyGrad';
export const RELU_GRAD = 'FerReluGrad';

/** Off: tfjs's own ops everywhere (the reference the tests compare the fused kernels with). */
export const fusedGradSettings = { enabled: true };

const hasKernel = (name: string) => fusedGradSettings.enabled && activeBackendHas(name);

let registered = false;

/** The gradients of the fused kernels, and ReLU's gradient through FerReluGrad where it exists (once). */
export function registerFusedGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: L2_PENALTY,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return {
        x: () => tf.engine().runKernel(L2_PENALTY_GRAD, { dy: dy as tf.Tensor, x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  });
  // tfjs-core's own Relu gradient (gradients/Relu_grad.ts) where the backend has no fused kernel.
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const d = dy as tf.Tensor;
      return {
        x: () =>
          hasKernel(RELU_GRAD) && x.dtype === 'float32' && d.dtype === 'float32'
            ? (tf.engine().runKernel(RELU_GRAD, { dy: d, x }, {}) as tf.Tensor)
            : tf.mul(d, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}

/** l2 · Σ w², as tfjs-layers' L2 regularizer computes it, in one kernel; null where the backend has none. */
export function l2Penalty(x: tf.Tensor, l2: number): tf.Scalar | null {
  if (x.dtype !== 'float32' || !hasKernel(L2_PENALTY)) return null;
  registerFusedGradients();
  return tf.engine().runKernel(L2_PENALTY, { x }, { l2 }) as tf.Scalar;
}
