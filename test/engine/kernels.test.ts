/**
 * Every native kernel (and every wasm training kernel) against tfjs's cpu backend on random shapes:
 * strides 1 and 2, 'same' and 'valid', odd sizes, batch 1 and 3, channel multipliers 1 and 2. Forward
 * values and gradients (through tf.grads, so the registered backward kernels run).
 * Tolerance: 1e-4 absolute + 1e-4 relative — float32 accumulation order differs (oneDNN's blocked
 * reductions vs cpu's sequential loops) over at most a few hundred terms.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { registerNativeBackend, setNativeConvBf16 } from '../../src/engine/native/backend.js';
import { registerWasmTrainingKernels } from '../../src/engine/wasm/register.js';
import { loadWasmBackend } from '../../src/engine/tf.js';
import { batchNormTrain, registerBatchNormTrainKernels } from '../../src/engine/kernels/batch-norm-train.js';
import { expectClose, randomArray } from '../helpers.js';

const hasNative = registerNativeBackend(2);
// The cpu reference is switched to with tf.setBackend, not useBackend: quiet tfjs's "install tfjs-node" banner as useBackend does.
tf.env().set('PROD', true);
registerBatchNormTrainKernels();
await loadWasmBackend(); // imported only when chosen (src/engine/tf.ts)
registerWasmTrainingKernels();

type Case = { name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor };

const convCases: Case[] = [];
for (const [n, h, w, c, oc, k, s, pad] of [
  [1, 7, 9, 3, 4, 3, 1, 'same'],
  [3, 8, 8, 2, 5, 3, 2, 'same'],
  [2, 9, 7, 4, 3, 3, 2, 'valid'],
  [3, 6, 6, 8, 16, 1, 2, 'same'],
  [1, 5, 5, 1, 8, 3, 1, 'valid'],
  [2, 5, 7, 6, 4, 1, 1, 'same'],
  // The residual conv of mini-Xception's first block on an odd batch: oneDNN 2.6 crashed here on 2 threads.
  [7, 44, 44, 8, 16, 1, 2, 'same'],
  // Strided 1×1 convs on inputs that are not a whole number of strides (the third block's 11×11 -> 6×6 residual
  // conv): their input gradient is fer's own (conv.cc), not oneDNN's.
  [2, 11, 11, 32, 64, 1, 2, 'same'],
  [2, 9, 7, 8, 16, 1, 2, 'valid'],
  // 3×3 stride 1 on 8 channels: the depthwise weight gradient is fer's own there (depthwise.cc).
  [2, 12, 10, 8, 8, 3, 1, 'same'],
] as [number, number, number, number, number, number, number, 'same' | 'valid'][]) {
  convCases.push({
    name: `conv2d n${n} ${h}x${w}x${c}→${oc} k${k} s${s} ${pad}`,
    shapes: [
      [n, h, w, c],
      [k, k, c, oc],
    ],
    f: (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad),
  });
  for (const mult of [1, 2]) {
    convCases.push({
      name: `depthwise n${n} ${h}x${w}x${c} ×${mult} k${k} s${s} ${pad}`,
      shapes: [
        [n, h, w, c],
        [k, k, c, mult],
      ],
      f: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad),
    });
  }
  convCases.push({
    name: `maxPool n${n} ${h}x${w}x${c} k3 s${s} ${pad}`,
    shapes: [[n, h, w, c]],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 3, s, pad),
  });
}
const otherCases: Case[] = [
  {
    // Bottom/right padding on a strided 1×1 conv: its last output row and column read padding only, so their
    // gradient goes nowhere (conv.cc's own strided 1×1 input gradient must not take this one: it would write
    // past the image).
    name: 'conv2d 1×1 s2 with explicit bottom/right padding',
    shapes: [
      [2, 4, 5, 3],
      [1, 1, 3, 4],
    ],
    f: (x, f) =>
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 0],
      ]),
  },
  {
    name: 'fused conv2d + bias + relu',
    shapes: [[2, 6, 6, 3], [3, 3, 3, 4], [4]],
    f: (x, f, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
  },
  { name: 'fer batch norm (batch statistics)', shapes: [[3, 5, 4, 6], [6], [6]], f: (x, g, b) => batchNormTrain(x, g, b, 1e-3)[0] },
  // 8 channels and multiples of 16 take elementwise.cc's vector kernels (one, several and blocks of four vectors; rows
  // not a whole number of its 64-row blocks), and max pooling's (pool.cc) from 16 channels; the cases above the others.
  ...[8, 16, 48, 64].map((c): Case => ({
    name: `fer batch norm, ${c} channels`,
    shapes: [[3, 7, 5, c], [c], [c]],
    f: (x, g, b) => tf.relu(batchNormTrain(x, g, b, 1e-3)[0]),
  })),
  ...[16, 48, 128].map((c): Case => ({
    name: `maxPool ${c} channels, 3x3 s2 same`,
    shapes: [[2, 7, 6, c]],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
  })),
  {
    name: 'batchNorm (moving statistics)',
    shapes: [[3, 5, 4, 6], [6], [6], [6], [6]],
    f: (x, m, v, o, s) => tf.batchNorm(x, m, tf.add(tf.abs(v), 0.5), o, s, 1e-3),
  },
  {
    name: 'add/sub/mul/div with trailing broadcast',
    shapes: [[3, 4, 5], [5], [3, 4, 5]],
    f: (a, b, c) => tf.div(tf.mul(tf.sub(tf.add(a, b), c), b), tf.add(tf.abs(b), 1)),
  },
  { name: 'relu, square, neg, exp', shapes: [[4, 7]], f: (x) => tf.exp(tf.neg(tf.square(tf.relu(x)))) },
  // Slice's gradient is a pad and PadV2's a slice: both kernels run forward and backward.
  { name: 'slice: a strided box of a 4-D tensor', shapes: [[2, 7, 9, 3]], f: (x) => tf.slice(x, [1, 2, 3, 0], [1, 4, 5, 3]) },
  { name: 'slice: rows only (one contiguous run per image)', shapes: [[3, 6, 8, 2]], f: (x) => tf.slice(x, [0, 1, 0, 0], [3, 3, -1, -1]) },
  {
    name: 'slice: 1-D and 2-D',
    shapes: [[11], [5, 6]],
    f: (a, b) => tf.add(tf.slice(a, [2], [6]), tf.slice(b, [1, 0], [1, 6]).reshape([6])),
  },
  {
    name: 'pad with a constant, every side',
    shapes: [[2, 5, 4, 3]],
    f: (x) =>
      tf.pad(
        x,
        [
          [0, 1],
          [2, 0],
          [1, 3],
          [0, 0],
        ],
        0.5,
      ),
  },
  {
    name: 'sum over leading axes, mean over trailing',
    shapes: [[3, 4, 5]],
    f: (x) => tf.add(tf.sum(tf.square(x), [0, 1]), tf.mean(tf.mean(x, [1, 2]), 0)),
  },
];

/** float32 → bfloat16 (round to nearest even, as oneDNN converts) → float32. */
function roundBf16(a: Float32Array): Float32Array {
  const u = new Uint32Array(Float32Array.from(a).buffer);
  for (let i = 0; i < u.length; i++) u[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) & 0xffff0000;
  return new Float32Array(u.buffer);
}

/** Forward values and input gradients of `c` on `backend`; `round` maps every input (and the output's gradient) first. */
function run(backend: string, c: Case, seed: number, round: (a: Float32Array) => Float32Array = (a) => a) {
  tf.setBackend(backend);
  const xs = c.shapes.map((s, i) =>
    tf.tensor(
      round(
        randomArray(
          s.reduce((a, b) => a * b, 1),
          seed + i,
        ),
      ),
      s,
    ),
  );
  // Weighted sum as the loss so every output element gets a distinct gradient.
  const loss = (...a: tf.Tensor[]) => {
    const y = c.f(...a);
    return tf.sum(tf.mul(y, tf.tensor(round(randomArray(y.size, 99)), y.shape))) as tf.Scalar;
  };
  const y = c
    .f(...xs)
    .dataSync()
    .slice();
  const grads = tf
    .grads(loss)(xs)
    .map((g) => g.dataSync().slice());
  tf.dispose(xs);
  return { y, grads };
}

afterAll(() => void tf.setBackend('cpu'));

describe.skipIf(!hasNative)('fer-native kernels vs cpu', () => {
  it.each([...convCases, ...otherCases].map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const ref = run('cpu', c, 7),
      got = run('fer-native', c, 7);
    expectClose(got.y, ref.y, { atol: 1e-4, rtol: 1e-4, label: 'forward' });
    got.grads.forEach((g, i) => expectClose(g, ref.grads[i], { atol: 1e-4, rtol: 1e-4, label: `grad ${i}` }));
  });
});

// MaxPoolGrad sends each window's gradient to the first cell (row-major) holding its maximum. Ties are the
// common case in training (windows of zeros after a ReLU); here every row and column is doubled so windows
// hold ties whose cells all carry a gradient back to x (after a ReLU they would not), and all-negative windows
// must not lose their gradient to a padding cell.
const doubled = (x: tf.Tensor) => {
  const [n, h, w, c] = x.shape;
  const cols = tf.reshape(tf.stack([x, x], 3), [n, h, 2 * w, c]);
  return tf.reshape(tf.stack([cols, cols], 2), [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
};
describe.skipIf(!hasNative)('fer-native MaxPoolGrad vs cpu: ties and negative windows', () => {
  const cases: Case[] = [
    {
      name: 'every column twice (ties), 3x3 s2 same',
      shapes: [[2, 7, 7, 8]],
      f: (x) => tf.maxPool(tf.reshape(tf.stack([x, x], 3), [2, 7, 14, 8]) as tf.Tensor4D, 3, 2, 'same'),
    },
    {
      name: 'every row and column twice (ties), 16 channels, 3x3 s2 same',
      shapes: [[3, 6, 6, 16]],
      f: (x) => tf.maxPool(doubled(x), 3, 2, 'same'),
    },
    { name: 'all negative, 3x3 s2 same', shapes: [[2, 6, 6, 3]], f: (x) => tf.maxPool(tf.sub(tf.abs(x), 5) as tf.Tensor4D, 3, 2, 'same') },
    { name: 'every row and column twice (ties), 3x3 s1 valid', shapes: [[2, 5, 4, 5]], f: (x) => tf.maxPool(doubled(x), 3, 1, 'valid') },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const ref = run('cpu', c, 5),
      got = run('fer-native', c, 5);
    expect(Array.from(got.y)).toEqual(Array.from(ref.y));
    expectClose(got.grads[0], ref.grads[0], { atol: 1e-6, label: 'dx' });
  });
});

// The gradient goes to each window's first maximum (row-major), as cpu's argmax moving only on '>' sends it:
// with values drawn from {-1, -0, 0, 1} nearly every window has ties. A gradient routed to the wrong cell is
// off by a whole dy value (~1); the tolerance covers only cpu summing overlapping windows in float64.
describe.skipIf(!hasNative)('fer-native MaxPoolGrad with tied maxima', () => {
  it.each([
    [3, 9, 9, 16, 2, 'same'],
    [2, 8, 7, 5, 2, 'valid'],
    [2, 6, 6, 3, 1, 'same'],
  ] as const)('n%i %ix%ix%i k3 s%i %s routes as cpu does', (n, h, w, c, s, pad) => {
    const tiers = [-1, -0, 0, 1];
    const x = Float32Array.from(randomArray(n * h * w * c, 11), (v) => tiers[Math.floor((v + 1) * 2) & 3]);
    const grad = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const xt = tf.tensor4d(x, [n, h, w, c]);
        const y = tf.maxPool(xt, 3, s, pad);
        const wts = tf.tensor(randomArray(y.size, 12), y.shape);
        return tf
          .grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, s, pad), wts)))(xt)
          .dataSync()
          .slice();
      });
    };
    expectClose(grad('fer-native'), grad('cpu'), { atol: 1e-5, rtol: 1e-5, label: 'dx' });
  });
});

// bf16 convolutions (fer train --bf16): the kernels round x, the filter and dy to bf16 and accumulate in f32,
// so they must equal cpu's float32 convolution of the rounded inputs (the independent reference), and differ
// from the unrounded one (the mode took effect).
const bf16 = hasNative && setNativeConvBf16(true);
if (hasNative) setNativeConvBf16(false);
describe.skipIf(!bf16)('fer-native bf16 convolutions vs cpu on bf16-rounded inputs', () => {
  afterAll(() => void setNativeConvBf16(false));
  const cases = convCases.filter((c) => !c.name.startsWith('maxPool'));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const ref = run('cpu', c, 7, roundBf16),
      exact = run('cpu', c, 7);
    setNativeConvBf16(true);
    const got = run('fer-native', c, 7);
    setNativeConvBf16(false);
    expectClose(got.y, ref.y, { atol: 1e-4, rtol: 1e-4, label: 'forward' });
    got.grads.forEach((g, i) => expectClose(g, ref.grads[i], { atol: 1e-4, rtol: 1e-4, label: `grad ${i}` }));
    expect(Math.max(...got.y.map((v, i) => Math.abs(v - exact.y[i])))).toBeGreaterThan(1e-5);
  });
});

describe.skipIf(!hasNative)('fer-native data movement on int32 images (face detection)', () => {
  it('slice and pad an int32 H×W×3 image exactly as cpu does', () => {
    const img = Int32Array.from({ length: 9 * 11 * 3 }, (_, i) => (i * 7919) % 256);
    const f = () =>
      tf.tidy(() => {
        const x = tf.tensor3d(img, [9, 11, 3], 'int32');
        return tf
          .concat([
            tf.slice(x, [2, 3, 0], [5, 4, 3]).reshape([-1]),
            tf
              .pad(
                x,
                [
                  [1, 2],
                  [0, 3],
                  [0, 0],
                ],
                9,
              )
              .reshape([-1]),
          ])
          .dataSync()
          .slice();
      });
    tf.setBackend('cpu');
    const ref = f();
    tf.setBackend('fer-native');
    expect(Array.from(f())).toEqual(Array.from(ref));
  });
});

// The wasm kernels run as WebAssembly SIMD (native/wasm/kernels.c) when the module loads, and as
// JavaScript loops with FER_WASM_SIMD=0: both paths are checked. Extra cases put channel counts on and off
// the SIMD kernels' 4×8 register blocks.
const wasmCases: Case[] = [
  ...convCases.filter((c) => !c.name.startsWith('maxPool n1 7')),
  ...(
    [
      [2, 9, 8, 6, 12, 3, 2, 'same'],
      [2, 7, 7, 8, 8, 3, 1, 'same'],
      [3, 6, 5, 16, 24, 1, 1, 'valid'],
      [2, 5, 6, 8, 7, 3, 1, 'same'],
      [2, 6, 7, 12, 5, 3, 2, 'valid'],
      [2, 9, 9, 12, 8, 1, 2, 'same'],
      [3, 5, 6, 20, 12, 1, 1, 'same'],
      [2, 7, 7, 3, 6, 3, 2, 'same'],
    ] as [number, number, number, number, number, number, number, 'same' | 'valid'][]
  ).map(([n, h, w, c, oc, k, s, pad]) => ({
    name: `conv2d n${n} ${h}x${w}x${c}→${oc} k${k} s${s} ${pad}`,
    shapes: [
      [n, h, w, c],
      [k, k, c, oc],
    ],
    f: (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad),
  })),
  { name: 'maxPool n2 9x8x12 k3 s2 same', shapes: [[2, 9, 8, 12]], f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same') },
  // Every column twice: windows hold ties, and only the first of them may get the gradient.
  {
    name: 'maxPool n2 7x7x8 k3 s2 same, ties',
    shapes: [[2, 7, 7, 8]],
    f: (x) => tf.maxPool(tf.reshape(tf.stack([x, x], 3), [2, 7, 14, 8]) as tf.Tensor4D, 3, 2, 'same'),
  },
  {
    name: 'depthwise n2 9x8x12 ×1 k3 s2 same',
    shapes: [
      [2, 9, 8, 12],
      [3, 3, 12, 1],
    ],
    f: (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'),
  },
  otherCases.find((c) => c.name.startsWith('fer batch norm'))!,
  // Statistics of many rows far from zero: the kernels' shifted, blocked sums must stay accurate.
  {
    name: 'fer batch norm, 2,000 rows around 50',
    shapes: [[8, 25, 10, 12], [12], [12]],
    f: (x, g, b) => batchNormTrain(tf.add(x, 50), g, b, 1e-3)[0],
  },
];

describe.each([
  ['SIMD', '1'],
  ['JavaScript', '0'],
])('wasm training kernels vs cpu (%s)', (_path, flag) => {
  const withPath = <T>(fn: () => T): T => {
    const saved = process.env.FER_WASM_SIMD;
    process.env.FER_WASM_SIMD = flag;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.FER_WASM_SIMD;
      else process.env.FER_WASM_SIMD = saved;
    }
  };

  it.each(wasmCases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await tf.setBackend('wasm');
    const ref = run('cpu', c, 3),
      got = withPath(() => run('wasm', c, 3));
    expectClose(got.y, ref.y, { atol: 1e-4, rtol: 1e-4, label: 'forward' });
    got.grads.forEach((g, i) => expectClose(g, ref.grads[i], { atol: 1e-4, rtol: 1e-4, label: `grad ${i}` }));
  });

  it('MaxPoolGrad routes gradients correctly when every value in a window is negative', async () => {
    await tf.setBackend('wasm');
    const c: Case = { name: 'neg', shapes: [[2, 6, 6, 3]], f: (x) => tf.maxPool(tf.sub(tf.abs(x), 5) as tf.Tensor4D, 3, 2, 'same') };
    const ref = run('cpu', c, 5),
      got = withPath(() => run('wasm', c, 5));
    expectClose(got.grads[0], ref.grads[0], { atol: 1e-6, label: 'dx' });
  });
});

it('the SIMD module is what the wasm backend runs by default', async () => {
  await tf.setBackend('wasm');
  const { simdKernels } = await import('../../src/engine/wasm/simd.js');
  expect(simdKernels(tf.backend())).not.toBeNull();
});

// Global average pooling (Mean over H, W of NHWC) and its gradient's broadcast multiply ([N,1,1,C] against
// [N,H,W,C]) ran on cpu's generic kernels before (60 ms each on the ResNet teacher's [64,3,3,256]); the native
// ones compute what cpu computes, so they must match it bit for bit, forward and gradient. (SquaredDifference is
// left out: cpu squares the difference in double, fer-native in float, with trailing broadcasts as here.)
const exact = (backend: string, shape: number[], f: (x: tf.Tensor) => tf.Tensor) => {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(
      randomArray(
        shape.reduce((a, b) => a * b, 1),
        11,
        3,
      ),
      shape,
    );
    const dy = randomArray(f(x).size, 12);
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.tensor(dy, f(t).shape))))([x]);
    return { y: Array.from(f(x).dataSync()), g: Array.from(g.dataSync()) };
  });
};
describe.skipIf(!hasNative)('fer-native middle-axes Mean and broadcast vs cpu, bit for bit', () => {
  it.each([
    ['mean over H, W of [3,5,4,7]', [3, 5, 4, 7], (x: tf.Tensor) => tf.mean(x, [1, 2])],
    ['mean over H, W of [64,3,3,256] (parallel)', [64, 3, 3, 256], (x: tf.Tensor) => tf.mean(x, [1, 2])],
    ['mean over H, W keepDims', [2, 6, 6, 5], (x: tf.Tensor) => tf.mean(x, [1, 2], true)],
    ['mean over axis 1 of [4,9,3]', [4, 9, 3], (x: tf.Tensor) => tf.mean(x, 1)],
  ] as const)('%s', (_n, shape, f) => {
    const ref = exact('cpu', [...shape], f),
      got = exact('fer-native', [...shape], f);
    expect(got.y).toEqual(ref.y);
    expect(got.g).toEqual(ref.g);
  });
  it.each([
    ['mul', (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, b)],
    ['add', (a: tf.Tensor, b: tf.Tensor) => tf.add(a, b)],
    ['sub', (a: tf.Tensor, b: tf.Tensor) => tf.sub(a, b)],
    ['div', (a: tf.Tensor, b: tf.Tensor) => tf.div(a, b)],
    ['maximum', (a: tf.Tensor, b: tf.Tensor) => tf.maximum(a, b)],
  ] as const)('%s with [N,1,1,C] against [N,H,W,C], both operand orders', (_n, op) => {
    for (const [small, big] of [
      [
        [64, 1, 1, 96],
        [64, 3, 3, 96],
      ],
      [
        [3, 1, 5],
        [3, 4, 5],
      ],
      [
        [2, 1, 1],
        [2, 3, 4],
      ],
    ]) {
      const runOp = (backend: string, smallFirst: boolean) => {
        tf.setBackend(backend);
        return tf.tidy(() => {
          const s = tf.tensor(
            randomArray(
              small.reduce((a, b) => a * b, 1),
              13,
            ),
            small,
          );
          const b = tf.tensor(
            randomArray(
              big.reduce((a, c) => a * c, 1),
              14,
            ).map((v) => v + 2),
            big,
          );
          return Array.from((smallFirst ? op(s, b) : op(b, s)).dataSync());
        });
      };
      for (const smallFirst of [true, false]) expect(runOp('fer-native', smallFirst)).toEqual(runOp('cpu', smallFirst));
    }
  });
});
