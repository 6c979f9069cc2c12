/**
 * FusedBatchNorm (inference form: given mean and variance), native over channel vectors, plus the
 * native implementations of fer's fused batch-statistics kernels (see engine/kernels/batch-norm-train.ts).
 */
import type { NativeKernel } from '../native-backend.js';
import { tf } from '../../tf.js';

const fusedBatchNorm: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, mean, variance, offset, scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  const vx = backend.f32(x),
    vm = backend.f32(mean),
    vv = backend.f32(variance);
  const vo = offset ? backend.f32(offset) : null,
    vs = scale ? backend.f32(scale) : null;
  const vecOk = (v: Float32Array | null, info?: tf.TensorInfo) => !info || (v !== null && v.length === c);
  if (!vx || !vm || !vv || vm.length !== c || vv.length !== c || !vecOk(vo, offset) || !vecOk(vs, scale)) return null;
  const y = backend.take(vx.length);
  backend.addon.bnInfer(vx, vm, vv, vo, vs, c, (attrs.varianceEpsilon as number) ?? 0.001, y);
  return backend.makeTensorInfo(x.shape, 'float32', y);
};

const bnTrain: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs;
  const c = x.shape[x.shape.length - 1];
  const vx = backend.f32(x);
  if (!vx) return null;
  const y = backend.take(vx.length),
    mean = backend.take(c),
    variance = backend.take(c);
  backend.addon.bnTrainForward(
    vx,
    gamma ? backend.f32(gamma) : null,
    beta ? backend.f32(beta) : null,
    c,
    attrs.epsilon as number,
    y,
    mean,
    variance,
  );
  return [
    backend.makeTensorInfo(x.shape, 'float32', y),
    backend.makeTensorInfo([c], 'float32', mean),
    backend.makeTensorInfo([c], 'float32', variance),
  ];
};

const bnTrainGrad: NativeKernel = ({ inputs, attrs, backend }) => {
  const { dy, x, gamma, mean, variance } = inputs;
  const c = x.shape[x.shape.length - 1];
  const vdy = backend.f32(dy),
    vx = backend.f32(x),
    vm = backend.f32(mean),
    vv = backend.f32(variance);
  if (!vdy || !vx || !vm || !vv) return null;
  const dx = backend.take(vx.length),
    dgamma = backend.take(c),
    dbeta = backend.take(c);
  backend.addon.bnTrainBackward(vdy, vx, gamma ? backend.f32(gamma) : null, vm, vv, c, attrs.epsilon as number, dx, dgamma, dbeta);
  return [
    backend.makeTensorInfo(x.shape, 'float32', dx),
    backend.makeTensorInfo([c], 'float32', dgamma),
    backend.makeTensorInfo([c], 'float32', dbeta),
  ];
};

export const batchNormKernels: Record<string, NativeKernel> = {
  FusedBatchNorm: fusedBatchNorm,
  FerBatchNormTrain: bnTrain,
  FerBatchNormTrainGrad: bnTrainGrad,
};
