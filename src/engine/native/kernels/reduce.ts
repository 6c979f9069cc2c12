/** Sum and Mean over leading axes ([N,H,W,C] → [C]) or trailing axes, and Mean over middle ones (global average pooling), native; other axes fall back. */
import { tf } from '../../tf.js';
import type { NativeKernel } from '../native-backend.js';

const prod = (a: number[]) => a.reduce((p, q) => p * q, 1);

function reduce(mean: boolean): NativeKernel {
  return ({ inputs, attrs, backend }) => {
    const x = backend.f32(inputs.x);
    if (!x || inputs.x.dtype !== 'float32') return null;
    const shape = inputs.x.shape;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], shape).sort((p, q) => p - q);
    if (axes.length === 0 || shape.length === 0) return null;
    const contiguous = axes.every((ax, i) => i === 0 || ax === axes[i - 1] + 1);
    if (!contiguous) return null;
    const leading = axes[0] === 0,
      trailing = axes[axes.length - 1] === shape.length - 1;
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(shape, axes);
    if (!leading && !trailing) {
      // A middle block (global average pooling: Mean over H, W of NHWC) as tfjs's cpu Mean computes it.
      if (!mean || !backend.addon.meanMid) return null;
      const out = backend.take(tf.util.sizeFromShape(outShape));
      backend.addon.meanMid(x, prod(shape.slice(0, axes[0])), prod(reduceShape), prod(shape.slice(axes[axes.length - 1] + 1)), out);
      const finalShape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      return backend.makeTensorInfo(finalShape, 'float32', out);
    }
    const outSize = tf.util.sizeFromShape(outShape);
    const out = backend.take(outSize);
    if (leading) backend.addon.sumRows(x, outSize, out);
    else backend.addon.sumCols(x, tf.util.sizeFromShape(reduceShape), out);
    if (mean) {
      const n = tf.util.sizeFromShape(reduceShape);
      for (let i = 0; i < outSize; i++) out[i] /= n;
    }
    const finalShape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return backend.makeTensorInfo(finalShape, 'float32', out);
  };
}

export const reduceKernels: Record<string, NativeKernel> = { Sum: reduce(false), Mean: reduce(true) };
