/**
 * Input gradients of convolutions on `wasm` (the filter gradients and MaxPoolGrad are in gradients.ts).
 * Stride-1 Conv2D: one forward conv of dy padded to 'full', filter flipped; strided Conv2D: a matrix multiply
 * per tap; 1×1 convs: fer's SIMD kernel when it loads; depthwise: a loop over the heap.
 */
import { makeF32, readF32 } from '../kernel-io.js';
import { heapF32, heapPtr, simdKernels, withScratch } from './simd.js';
import { convGeometry, forEachDepthwiseTap, kernels, type Info, type KernelArgs } from './gradients.js';

/**
 * Input gradient of a strided Conv2D on `wasm`: for each tap, dy times that tap's weights (a matrix
 * multiply) gives what the tap's input pixels receive, [N·oh·ow, ci], added at the tap's strided positions.
 */
function backpropInput(
  backend: unknown,
  inShape: number[],
  filterShape: [number, number, number, number],
  attrs: Record<string, unknown>,
  tapGrad: (ky: number, kx: number) => Info,
): Info {
  const { dispose } = kernels(backend);
  const info = convGeometry(inShape, filterShape, attrs, false);
  const [n, h, w, c] = inShape;
  const { top, left } = info.padInfo;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const out = makeF32(backend, inShape);
  readF32(backend, out.info).fill(0);
  const simd = simdKernels(backend);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const g = tapGrad(ky, kx);
      if (simd) {
        simd.scatter_tap(heapPtr(backend, g), heapPtr(backend, out.info), n, h, w, c, oh, ow, sh, sw, ky, kx, top, left);
        dispose(g);
        continue;
      }
      const src = readF32(backend, g),
        dx = readF32(backend, out.info);
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * sh + ky - top;
          if (y < 0 || y >= h) continue;
          for (let ox = 0; ox < ow; ox++) {
            const x = ox * sw + kx - left;
            if (x < 0 || x >= w) continue;
            const s = ((b * oh + oy) * ow + ox) * c,
              d = ((b * h + y) * w + x) * c;
            for (let ch = 0; ch < c; ch++) dx[d + ch] += src[s + ch];
          }
        }
      }
      dispose(g);
    }
  }
  return out.info;
}

/**
 * A stride-1 conv's input gradient: the forward kernel `kernel` over dy padded to 'full' minus the forward
 * pads, with the (already flipped) filter; consumes the filter.
 */
function fullConv(backend: unknown, kernel: string, dy: Info, flipped: Info, info: ReturnType<typeof convGeometry>): Info {
  const { run, dispose } = kernels(backend);
  const {
    filterHeight: kh,
    filterWidth: kw,
    padInfo: { top, bottom, left, right },
  } = info;
  const pads = [
    [0, 0],
    [kh - 1 - top, kh - 1 - bottom],
    [kw - 1 - left, kw - 1 - right],
    [0, 0],
  ];
  const padded = pads.some(([a, b]) => a || b) ? run('PadV2', { x: dy }, { paddings: pads, constantValue: 0 }) : run('Identity', { x: dy });
  const dx = run(kernel, { x: padded, filter: flipped }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
  dispose(padded, flipped);
  return dx;
}

/** Weights of tap (ky, kx): the [a, b] block of a [kh, kw, a, b] filter, as a new tensor. */
function tapWeights(backend: unknown, filter: Info, ky: number, kx: number, shape: number[]): Info {
  const [, kw, a, b] = filter.shape;
  const t = makeF32(backend, shape);
  const off = (ky * kw + kx) * a * b;
  readF32(backend, t.info).set(readF32(backend, filter).subarray(off, off + a * b));
  return t.info;
}

export function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs): Info {
  const { dy, filter } = inputs;
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const { run, dispose } = kernels(backend);
  const info = convGeometry(attrs.inputShape as number[], [kh, kw, ci, co], attrs, false);
  const simd = kh === 1 && kw === 1 && ci % 4 === 0 ? simdKernels(backend) : null;
  if (simd) {
    // 1×1 (pointwise and strided shortcut convs): dx = dy · Wᵀ in one SIMD kernel, with Wᵀ in scratch.
    const out = makeF32(backend, attrs.inputShape as number[]);
    const [n, h, w] = attrs.inputShape as number[];
    withScratch(backend, 4 * ci * co, (wt) => {
      const wv = readF32(backend, filter),
        t = heapF32(backend, wt, ci * co);
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) t[o * ci + i] = wv[i * co + o];
      simd.pointwise_input_grad(
        heapPtr(backend, dy),
        wt,
        heapPtr(backend, out.info),
        n,
        h,
        w,
        ci,
        info.outHeight,
        info.outWidth,
        co,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
      );
    });
    return out.info;
  }
  if (info.strideHeight === 1 && info.strideWidth === 1) {
    // Stride 1: the input gradient is a forward conv of dy, padded to 'full' minus the forward pads, with
    // the filter flipped in space and its channels swapped: one wasm (XNNPACK) Conv2D.
    const flipped = makeF32(backend, [kh, kw, co, ci]);
    const wv = readF32(backend, filter),
      fv = readF32(backend, flipped.info);
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++)
            fv[((ky * kw + kx) * co + o) * ci + i] = wv[(((kh - 1 - ky) * kw + (kw - 1 - kx)) * ci + i) * co + o];
    return fullConv(backend, 'Conv2D', dy, flipped.info, info);
  }
  const m = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const dy3 = run('Reshape', { x: dy }, { shape: [1, m, co] });
  const dx = backpropInput(backend, attrs.inputShape as number[], [kh, kw, ci, co], attrs, (ky, kx) => {
    const wt = tapWeights(backend, filter, ky, kx, [1, ci, co]);
    const g = run('BatchMatMul', { a: dy3, b: wt }, { transposeA: false, transposeB: true });
    dispose(wt);
    return g;
  });
  dispose(dy3);
  return dx;
}

/**
 * Depthwise input gradient. Multiplier 1 (the mini-Xception's) and stride 1: a forward depthwise conv of
 * dy, padded to 'full' minus the forward pads, with the filter flipped in space (one wasm kernel).
 * Otherwise a loop over the heap.
 */
export function depthwiseBackpropInput({ inputs, attrs, backend }: KernelArgs): Info {
  const { dy, filter } = inputs;
  const [kh, kw, c, mult] = filter.shape as [number, number, number, number];
  const inShape = attrs.inputShape as number[];
  const info = convGeometry(inShape, [kh, kw, c, mult], attrs, true);
  const { top, left } = info.padInfo;
  if (mult === 1 && info.strideHeight === 1 && info.strideWidth === 1) {
    const flipped = makeF32(backend, [kh, kw, c, 1]);
    const wv = readF32(backend, filter),
      fv = readF32(backend, flipped.info);
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        fv.set(wv.subarray(((kh - 1 - ky) * kw + (kw - 1 - kx)) * c, ((kh - 1 - ky) * kw + (kw - 1 - kx) + 1) * c), (ky * kw + kx) * c);
    return fullConv(backend, 'DepthwiseConv2dNative', dy, flipped.info, info);
  }
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const oc = c * mult;
  const out = makeF32(backend, inShape);
  const g = readF32(backend, dy),
    wv = readF32(backend, filter),
    dx = readF32(backend, out.info);
  dx.fill(0);
  forEachDepthwiseTap({ n, h, w, oh, ow, sh, sw, kh, kw, top, left, c, oc }, (xo, yo, wo) => {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let m = 0; m < mult; m++) sum += g[yo + ch * mult + m] * wv[wo + ch * mult + m];
      dx[xo + ch] += sum;
    }
  });
  return out.info;
}
