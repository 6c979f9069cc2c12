/**
 * Native kernels for engine/fused-grads.ts: the L2 weight penalty and its gradient, and ReLU's gradient, each one
 * pass instead of tfjs's chains of element-wise kernels. Registered on fer-native alone, with an addon that has them.
 */
import type { NativeKernel } from '../native-backend.js';
import { L2_PENALTY, L2_PENALTY_GRAD, RELU_GRAD } from '../../fused-grads.js';

const l2Penalty: NativeKernel = ({ inputs, attrs, backend }) => {
  const w = backend.f32(inputs.x)!;
  const out = backend.take(1);
  out[0] = backend.addon.l2Penalty!(w, attrs.l2 as number);
  return backend.makeTensorInfo([], 'float32', out);
};

const l2PenaltyGrad: NativeKernel = ({ inputs, attrs, backend }) => {
  const w = backend.f32(inputs.x)!,
    dy = backend.f32(inputs.dy)!;
  const g = backend.take(w.length);
  backend.addon.l2PenaltyGrad!(w, attrs.l2 as number, dy[0], g);
  return backend.makeTensorInfo(inputs.x.shape, 'float32', g);
};

const reluGrad: NativeKernel = ({ inputs, backend }) => {
  const dy = backend.f32(inputs.dy)!,
    x = backend.f32(inputs.x)!;
  const dx = backend.take(x.length);
  backend.addon.reluGrad!(dy, x, dx);
  return backend.makeTensorInfo(inputs.x.shape, 'float32', dx);
};

export const trainFusedKernels: Record<string, NativeKernel> = {
  [L2_PENALTY]: l2Penalty,
  [L2_PENALTY_GRAD]: l2PenaltyGrad,
  [RELU_GRAD]: reluGrad,
};
