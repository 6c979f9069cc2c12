/** MaxPool and MaxPoolGrad (NHWC), native; same tie-breaking as the cpu backend (first maximum). */
import { tf } from '../../tf.js';
import type { NativeKernel } from '../native-backend.js';
import { poolParams } from './params.js';

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolGeometry(xShape: number[], attrs: PoolAttrs) {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const params = Int32Array.from(poolParams(info));
  return { info, params };
}

const maxPool: NativeKernel = ({ inputs, attrs, backend }) => {
  const x = backend.f32(inputs.x);
  if (!x) return null;
  const { info, params } = poolGeometry(inputs.x.shape, attrs as unknown as PoolAttrs);
  const y = backend.take(info.outShape.reduce((a, b) => a * b, 1));
  backend.addon.maxPool(params, x, y);
  return backend.makeTensorInfo(info.outShape, 'float32', y);
};

const maxPoolGrad: NativeKernel = ({ inputs, attrs, backend }) => {
  const dy = backend.f32(inputs.dy),
    x = backend.f32(inputs.input);
  if (!dy || !x) return null;
  const { params } = poolGeometry(inputs.input.shape, attrs as unknown as PoolAttrs);
  const dx = backend.take(x.length);
  backend.addon.maxPoolGrad(params, dy, x, dx);
  return backend.makeTensorInfo(inputs.input.shape, 'float32', dx);
};

export const poolKernels: Record<string, NativeKernel> = { MaxPool: maxPool, MaxPoolGrad: maxPoolGrad };
