/**
 * Data-movement kernels that face detection spends most of its time in on the cpu backend (Slice and
 * PadV2 of whole 640×480 images: ~90 ms and ~80 ms a call there, element by element through a
 * TensorBuffer). Here they copy contiguous runs with TypedArray.set. Any dtype held in a TypedArray.
 */
import { tf } from '../../tf.js';
import type { NativeKernel, NativeBackend } from '../native-backend.js';

type Values = Float32Array | Int32Array | Uint8Array;

function valuesOf(backend: NativeBackend, t: tf.TensorInfo): Values | null {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array ? v : null;
}

const strides = (shape: number[]) => {
  const s = Array.from({ length: shape.length }, () => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};

/** Copies the box `size` at `srcBegin` of src (shape srcShape) to `dstBegin` of dst (shape dstShape). */
export function copyBox(
  src: Values,
  srcShape: number[],
  srcBegin: number[],
  dst: Values,
  dstShape: number[],
  dstBegin: number[],
  size: number[],
): void {
  const rank = size.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  if (size.some((d) => d === 0)) return;
  const ss = strides(srcShape),
    ds = strides(dstShape);
  // Merge trailing dims that both arrays hold whole into one contiguous run.
  let inner = rank - 1,
    run = size[rank - 1];
  while (inner > 0 && size[inner] === srcShape[inner] && size[inner] === dstShape[inner]) {
    inner--;
    run *= size[inner];
  }
  const outer = size.slice(0, inner);
  const idx = Array.from({ length: inner }, () => 0);
  const count = outer.reduce((a, b) => a * b, 1);
  for (let n = 0; n < count; n++) {
    let so = 0,
      dof = 0;
    for (let d = 0; d < inner; d++) {
      so += (srcBegin[d] + idx[d]) * ss[d];
      dof += (dstBegin[d] + idx[d]) * ds[d];
    }
    so += srcBegin[inner] * ss[inner];
    dof += dstBegin[inner] * ds[inner];
    dst.set(src.subarray(so, so + run), dof);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
}

const slice: NativeKernel = ({ inputs, attrs, backend }) => {
  const x = inputs.x;
  const src = valuesOf(backend, x);
  if (!src) return null;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  const out = new (src.constructor as new (n: number) => Values)(tf.util.sizeFromShape(size));
  copyBox(
    src,
    x.shape,
    begin,
    out,
    size,
    size.map(() => 0),
    size,
  );
  return backend.makeTensorInfo(size, x.dtype, out);
};

const padV2: NativeKernel = ({ inputs, attrs, backend }) => {
  const x = inputs.x;
  const src = valuesOf(backend, x);
  if (!src) return null;
  const paddings = attrs.paddings as [number, number][];
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = new (src.constructor as new (n: number) => Values)(tf.util.sizeFromShape(shape));
  const fill = attrs.constantValue as number;
  if (fill !== 0) out.fill(fill);
  copyBox(
    src,
    x.shape,
    x.shape.map(() => 0),
    out,
    shape,
    paddings.map((p) => p[0]),
    x.shape,
  );
  return backend.makeTensorInfo(shape, x.dtype, out);
};

export const layoutKernels: Record<string, NativeKernel> = { Slice: slice, PadV2: padV2 };
