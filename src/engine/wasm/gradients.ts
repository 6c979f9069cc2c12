/**
 * Training gradients on `wasm` (its own build has none for convolutions, and a wrong MaxPoolGrad). First
 * choice: fer's WebAssembly SIMD kernels (simd.ts, native/wasm/kernels.c) working in place on the heap.
 * Without them (FER_WASM_SIMD=0, or a shape they do not take), the backend's own fast kernels (XNNPACK
 * matrix multiply, strided slices, element-wise) and plain JavaScript loops over its heap:
 *
 * Conv filter gradient: for each kernel tap (ky, kx), the input pixels that tap sees are a strided slice
 * of the padded input, [N, oh, ow, ci], and the tap's weights get sliceᵀ · dy ([ci, N·oh·ow] × [N·oh·ow, co]).
 * The rest (depthwise filter gradient, MaxPoolGrad): loops over the heap. Input gradients: input-gradients.ts.
 */
import { tf } from '../tf.js';
import { makeF32, readF32 } from '../kernel-io.js';
import { heapPtr, simdKernels } from './simd.js';

export type Info = tf.TensorInfo;
/** What tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: Record<string, Info>;
  attrs: Record<string, unknown>;
  backend: unknown;
}
interface WasmBackend {
  disposeData(dataId: object): void;
}

export function kernels(backend: unknown) {
  const run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}) =>
    tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, attrs, backend } as never) as Info;
  const dispose = (...infos: Info[]) => infos.forEach((i) => (backend as WasmBackend).disposeData(i.dataId));
  return { run, dispose };
}

interface Taps {
  n: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  kh: number;
  kw: number;
  padded: Info;
}

/** tfjs's geometry of a (depthwise) conv: output size, strides, pads. */
export function convGeometry(
  inShape: number[],
  filterShape: [number, number, number, number],
  attrs: Record<string, unknown>,
  depthwise: boolean,
) {
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number],
    dilations,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
    depthwise,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error('wasm conv gradient: dilation > 1 is not supported');
  return info;
}

/** Pads x as the forward conv did and returns what each tap's slice needs. */
function taps(backend: unknown, x: Info, filterShape: [number, number, number, number], attrs: Record<string, unknown>): Taps {
  const { run } = kernels(backend);
  const info = convGeometry(x.shape, filterShape, attrs, false);
  const p = info.padInfo;
  const padded =
    p.top || p.bottom || p.left || p.right
      ? run(
          'PadV2',
          { x },
          {
            paddings: [
              [0, 0],
              [p.top, p.bottom],
              [p.left, p.right],
              [0, 0],
            ],
            constantValue: 0,
          },
        )
      : run('Identity', { x });
  return {
    n: info.batchSize,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    padded,
  };
}

/** The [N, oh, ow, c] input pixels that tap (ky, kx) multiplies (the input itself for a 1×1 stride-1 conv). */
function tapSlice(backend: unknown, t: Taps, ky: number, kx: number, c: number): Info {
  const [, h, w] = t.padded.shape;
  if (t.kh === 1 && t.kw === 1 && t.sh === 1 && t.sw === 1 && h === t.oh && w === t.ow)
    return kernels(backend).run('Identity', { x: t.padded });
  return kernels(backend).run(
    'StridedSlice',
    { x: t.padded },
    {
      begin: [0, ky, kx, 0],
      end: [t.n, ky + (t.oh - 1) * t.sh + 1, kx + (t.ow - 1) * t.sw + 1, c],
      strides: [1, t.sh, t.sw, 1],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    },
  );
}

export function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): Info {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const [, , ci, co] = filterShape;
  const simd = simdKernels(backend);
  if (simd) {
    const g = convGeometry(x.shape, filterShape, attrs, false);
    const out = makeF32(backend, filterShape);
    const p = (i: Info) => heapPtr(backend, i);
    simd.conv2d_filter_grad(
      p(x),
      p(dy),
      p(out.info),
      g.batchSize,
      g.inHeight,
      g.inWidth,
      ci,
      g.outHeight,
      g.outWidth,
      co,
      g.strideHeight,
      g.strideWidth,
      g.filterHeight,
      g.filterWidth,
      g.padInfo.top,
      g.padInfo.left,
    );
    return out.info;
  }
  const { run, dispose } = kernels(backend);
  const t = taps(backend, x, filterShape, attrs);
  const m = t.n * t.oh * t.ow;
  const dy3 = run('Reshape', { x: dy }, { shape: [1, m, co] });
  const out = makeF32(backend, filterShape);
  for (let ky = 0; ky < t.kh; ky++) {
    for (let kx = 0; kx < t.kw; kx++) {
      const slice = tapSlice(backend, t, ky, kx, ci);
      const s3 = run('Reshape', { x: slice }, { shape: [1, m, ci] });
      // An explicit transpose: wasm's BatchMatMul with transposeA is ~10× slower than transpose + multiply.
      const st = run('Transpose', { x: s3 }, { perm: [0, 2, 1] });
      const g = run('BatchMatMul', { a: st, b: dy3 }, { transposeA: false, transposeB: false });
      // A fresh view each time: kernels may grow the wasm heap, which detaches older views.
      readF32(backend, out.info).set(readF32(backend, g), (ky * t.kw + kx) * ci * co);
      dispose(slice, s3, st, g);
    }
  }
  dispose(dy3, t.padded);
  return out.info;
}

interface DepthwiseLoop {
  n: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  kh: number;
  kw: number;
  top: number;
  left: number;
  c: number;
  oc: number;
}

/**
 * Calls fn(xo, yo, wo) for every (output pixel, tap) whose input pixel exists: the offsets of that input
 * pixel's c channels, the output pixel's oc channels and the tap's oc weights. The JavaScript path of the
 * depthwise gradients (the SIMD kernels take multiplier 1).
 */
export function forEachDepthwiseTap(l: DepthwiseLoop, fn: (xo: number, yo: number, wo: number) => void): void {
  for (let b = 0; b < l.n; b++)
    for (let oy = 0; oy < l.oh; oy++)
      for (let ky = 0; ky < l.kh; ky++) {
        const y = oy * l.sh + ky - l.top;
        if (y < 0 || y >= l.h) continue;
        for (let ox = 0; ox < l.ow; ox++) {
          const yo = ((b * l.oh + oy) * l.ow + ox) * l.oc;
          for (let kx = 0; kx < l.kw; kx++) {
            const xx = ox * l.sw + kx - l.left;
            if (xx < 0 || xx >= l.w) continue;
            fn(((b * l.h + y) * l.w + xx) * l.c, yo, (ky * l.kw + kx) * l.oc);
          }
        }
      }
}

/**
 * Depthwise filter gradient, dW[ky, kx, c, m] = Σ x·dy: the SIMD kernel for multiplier 1, else a loop
 * over the heap.
 */
export function depthwiseBackpropFilter({ inputs, attrs, backend }: KernelArgs): Info {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const [, , c, mult] = filterShape;
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    padInfo: { top, left },
  } = convGeometry(x.shape, filterShape, attrs, true);
  const oc = c * mult;
  const out = makeF32(backend, filterShape);
  const simd = mult === 1 ? simdKernels(backend) : null;
  if (simd) {
    simd.depthwise_filter_grad(
      heapPtr(backend, x),
      heapPtr(backend, dy),
      heapPtr(backend, out.info),
      n,
      h,
      w,
      c,
      oh,
      ow,
      sh,
      sw,
      kh,
      kw,
      top,
      left,
    );
    return out.info;
  }
  const xv = readF32(backend, x),
    g = readF32(backend, dy),
    dw = readF32(backend, out.info);
  dw.fill(0);
  forEachDepthwiseTap({ n, h, w, oh, ow, sh, sw, kh, kw, top, left, c, oc }, (xo, yo, wo) => {
    for (let ch = 0; ch < c; ch++) for (let m = 0; m < mult; m++) dw[wo + ch * mult + m] += xv[xo + ch] * g[yo + ch * mult + m];
  });
  return out.info;
}

/**
 * MaxPoolGrad over the wasm heap in plain JavaScript: each output's gradient goes to the first maximum of
 * its window in row-major order, padding never winning (tfjs cpu's semantics; wasm's own kernel is wrong
 * when a window's max is ≤ 0). Replaces a bridge to the cpu kernel that copied every tensor twice.
 */
export function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): Info {
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as undefined,
  );
  const { batchSize: n, inHeight: ih, inWidth: iw, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: kh, filterWidth: kw, padInfo } = info;
  const out = makeF32(backend, input.shape);
  const simd = c % 4 === 0 ? simdKernels(backend) : null;
  if (simd) {
    simd.max_pool_grad(
      heapPtr(backend, input),
      heapPtr(backend, dy),
      heapPtr(backend, out.info),
      n,
      ih,
      iw,
      c,
      oh,
      ow,
      sh,
      sw,
      kh,
      kw,
      padInfo.top,
      padInfo.left,
    );
    return out.info;
  }
  const x = readF32(backend, input),
    g = readF32(backend, dy),
    dx = readF32(backend, out.info);
  dx.fill(0);
  const best = new Float32Array(c),
    at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    const img = b * ih * iw * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(oy * sh - padInfo.top, 0),
        y1 = Math.min(oy * sh - padInfo.top + kh, ih);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(ox * sw - padInfo.left, 0),
          x1 = Math.min(ox * sw - padInfo.left + kw, iw);
        const first = img + (y0 * iw + x0) * c;
        for (let ch = 0; ch < c; ch++) {
          best[ch] = x[first + ch];
          at[ch] = first + ch;
        }
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = img + (yy * iw + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              if (x[base + ch] > best[ch]) {
                best[ch] = x[base + ch];
                at[ch] = base + ch;
              }
            }
          }
        }
        const go = ((b * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) dx[at[ch]] += g[go + ch];
      }
    }
  }
  return out.info;
}
