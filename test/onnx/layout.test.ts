/** Denormal weights flushed to +0 the same way whatever the thread's floating-point mode (onnx/layout.ts). */
import { it, expect } from 'vitest';
import { FLT_MIN, flushDenormals, foldBatchNorm } from '../../src/onnx/layout.js';

const bits = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)].map((u) => u.toString(16));

it('writes denormals and -0 as +0, and keeps the smallest normal and everything above', () => {
  const v = Float32Array.from([1e-40, -1e-40, -0, 0, FLT_MIN, -FLT_MIN, 0.5, -2]);
  expect(bits(flushDenormals(v))).toEqual(bits(Float32Array.from([0, 0, 0, 0, FLT_MIN, -FLT_MIN, 0.5, -2])));
  expect(Object.is(v[2], -0)).toBe(true); // a new array: the model's weights are left as they are
});

it('folds a product below the smallest normal to +0 (in float64, not by the float32 store), its sign and rounding aside', () => {
  // -1e-30 × 1e-10 is -1e-40, a float32 denormal; 0 × -1 is -0; (0 − 0) × s + 0 is +0; FLT_MIN×(1 − 2⁻³⁰) would round up to FLT_MIN.
  const bn = { gamma: Float32Array.of(1e-10, -1), beta: null, mean: Float32Array.of(0, 0), variance: Float32Array.of(0, 0), epsilon: 1 };
  const { weight, bias } = foldBatchNorm(Float32Array.of(-1e-30, FLT_MIN * (1 - 2 ** -30), 0, 2), undefined, 2, bn);
  expect(bits(weight)).toEqual(bits(Float32Array.of(0, 0, 0, -2)));
  expect(bits(bias)).toEqual(bits(Float32Array.of(0, 0)));
});
