/**
 * The optimizer update of one weight in one native pass (engine/optimizer.ts runs them): Adam's and momentum's
 * arithmetic as tfjs 4.22 does it, op by op in float32, instead of tfjs's 13 (Adam) or 5 (Nesterov) kernels a
 * weight, each dispatched, allocated and run over the weight separately. Registered on fer-native only.
 */
import type { tf } from '../../tf.js';
import type { NativeKernel } from '../native-backend.js';
import { ADAM_UPDATE, MOMENTUM_UPDATE } from '../../optimizer.js';

/** Scalars the kernels read from tensors (1 − β1ᵗ, momentum, −lr): the optimizer's own float32 values. */
const scalarOf = (backend: Parameters<NativeKernel>[0]['backend'], t: tf.TensorInfo) => backend.f32(t)?.[0];

const adamUpdate: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 } = inputs;
  const vx = backend.f32(x)!,
    vm = backend.f32(m)!,
    vv = backend.f32(v)!,
    vg = backend.f32(g)!;
  const { beta1, beta2, epsilon, learningRate } = attrs as { beta1: number; beta2: number; epsilon: number; learningRate: number };
  // Float32Array rounds each as tf.scalar does; 1 − β is computed in double first, as tfjs's `1 - this.beta1`.
  const k = Float32Array.from([
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    scalarOf(backend, oneMinusAccBeta1)!,
    scalarOf(backend, oneMinusAccBeta2)!,
    epsilon,
    -learningRate,
  ]);
  const x1 = backend.take(vx.length),
    m1 = backend.take(vx.length),
    v1 = backend.take(vx.length);
  backend.addon.adamUpdate!(vx, vm, vv, vg, k, x1, m1, v1);
  return [x1, m1, v1].map((a) => backend.makeTensorInfo(x.shape, 'float32', a));
};

const momentumUpdate: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, acc, g, momentum, c } = inputs;
  const vx = backend.f32(x)!;
  const k = Float32Array.from([scalarOf(backend, momentum)!, scalarOf(backend, c)!]);
  const x1 = backend.take(vx.length),
    acc1 = backend.take(vx.length);
  backend.addon.momentumUpdate!(vx, backend.f32(acc)!, backend.f32(g)!, k, attrs.nesterov as boolean, x1, acc1);
  return [x1, acc1].map((a) => backend.makeTensorInfo(x.shape, 'float32', a));
};

/** Kernels fer-native has and cpu has not (registered for fer-native alone). */
export const optimizerKernels: Record<string, NativeKernel> = { [ADAM_UPDATE]: adamUpdate, [MOMENTUM_UPDATE]: momentumUpdate };
