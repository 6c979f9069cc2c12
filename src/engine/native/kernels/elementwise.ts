/**
 * Element-wise kernels, native when both operands are float32 and broadcasting is "trailing" (one
 * operand's shape is a suffix of the other's, e.g. [N,H,W,C] with [C]): the cases a training step of a
 * CNN produces. Anything else falls back to the cpu kernel.
 */
import { tf } from '../../tf.js';
import type { NativeKernel } from '../native-backend.js';

const BINARY = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6 } as const;
const UNARY = { Relu: 0, Neg: 2, Square: 3, Sqrt: 4, Exp: 5, Relu6: 6 } as const;

function isTrailing(small: number[], big: number[]): boolean {
  let s = small.slice();
  while (s.length > 0 && s[0] === 1) s = s.slice(1);
  if (s.length > big.length) return false;
  const off = big.length - s.length;
  return s.every((d, i) => d === big[off + i]);
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

/**
 * [outer, mid, inner] when `small` (left-padded with 1s) equals `big` but for one contiguous block of axes where it
 * is 1 (e.g. [N,1,1,C] against [N,H,W,C]: the gradient of a global average pool), else null.
 */
export function middleBroadcast(small: number[], big: number[]): [number, number, number] | null {
  if (small.length > big.length) return null;
  const s = [...Array<number>(big.length - small.length).fill(1), ...small];
  const differs = big.map((d, i) => s[i] !== d);
  const first = differs.indexOf(true),
    last = differs.lastIndexOf(true);
  if (first < 0) return null;
  for (let i = first; i <= last; i++) if (s[i] !== 1) return null;
  return [prod(big.slice(0, first)), prod(big.slice(first, last + 1)), prod(big.slice(last + 1))];
}

function binary(op: number): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b } = inputs;
    const va = backend.f32(a),
      vb = backend.f32(b);
    if (!va || !vb || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    const out = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const sameA = tf.util.arraysEqual(a.shape, out),
      sameB = tf.util.arraysEqual(b.shape, out);
    if (!((sameA && sameB) || (sameA && isTrailing(b.shape, out)) || (sameB && isTrailing(a.shape, out)))) {
      const mid = backend.addon.binaryMid && (sameA ? middleBroadcast(b.shape, out) : sameB ? middleBroadcast(a.shape, out) : null);
      if (!mid) return null;
      const values = backend.take(tf.util.sizeFromShape(out));
      backend.addon.binaryMid!(op, va, vb, ...mid, !sameA, values);
      return backend.makeTensorInfo(out, 'float32', values);
    }
    const values = backend.take(tf.util.sizeFromShape(out));
    backend.addon.binary(op, va, vb, values);
    return backend.makeTensorInfo(out, 'float32', values);
  };
}

function unary(op: number): NativeKernel {
  return ({ inputs, backend }) => {
    const x = backend.f32(inputs.x);
    if (!x || inputs.x.dtype !== 'float32') return null;
    const y = backend.take(x.length);
    backend.addon.unary(op, x, y);
    return backend.makeTensorInfo(inputs.x.shape, 'float32', y);
  };
}

const step: NativeKernel = (args) => ((args.attrs.alpha ?? 0) === 0 ? unary(1)(args) : null);

/** clipByValue(x, 0, 6) is how MobileNets (face detection) write relu6; other bounds fall back. */
const clipByValue: NativeKernel = (args) => {
  const { clipValueMin: lo, clipValueMax: hi } = args.attrs as { clipValueMin: number; clipValueMax: number };
  if (lo === 0 && hi === 6) return unary(6)(args);
  if (lo === 0 && hi === Infinity) return unary(0)(args);
  return null;
};

export const elementwiseKernels: Record<string, NativeKernel> = {
  ...Object.fromEntries(Object.entries(BINARY).map(([name, op]) => [name, binary(op)])),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, op]) => [name, unary(op)])),
  Step: step,
  ClipByValue: clipByValue,
};
