/**
 * Loads the native addon (our C++ on oneDNN, native/src): the package's prebuilt linux-x64 binary, or a build from
 * source (locate.ts says which, and in what order). Returns null where neither loads: callers fall back to wasm.
 */
import { loadAddon } from './locate.js';

export interface NativeAddon {
  conv(kind: 0 | 1 | 2, params: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  maxPool(params: Int32Array, x: Float32Array, y: Float32Array): void;
  maxPoolGrad(params: Int32Array, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  bnTrainForward(
    x: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    c: number,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  bnTrainBackward(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    c: number,
    eps: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  bnInfer(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    c: number,
    eps: number,
    y: Float32Array,
  ): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** binary() with the small operand broadcast over a middle block of axes: [outer, inner] against [outer, mid, inner]. Absent in builds before it. */
  binaryMid?(
    op: number,
    a: Float32Array,
    b: Float32Array,
    outer: number,
    mid: number,
    inner: number,
    smallIsA: boolean,
    out: Float32Array,
  ): void;
  /** tfjs cpu's Mean over the middle axes of [outer, mid, inner], bit for bit. Absent in builds before it. */
  meanMid?(x: Float32Array, outer: number, mid: number, inner: number, out: Float32Array): void;
  unary(op: number, x: Float32Array, y: Float32Array): void;
  sumRows(x: Float32Array, c: number, out: Float32Array): void;
  sumCols(x: Float32Array, c: number, out: Float32Array): void;
  /** One Adam step over one weight (native/src/kernels.h adam_update; absent in builds before it); k: β1, 1−β1, β2, 1−β2, 1−β1ᵗ, 1−β2ᵗ, ε, −lr. */
  adamUpdate?(
    x: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    k: Float32Array,
    x1: Float32Array,
    m1: Float32Array,
    v1: Float32Array,
  ): void;
  /** One momentum step over one weight; k: momentum, −lr. */
  momentumUpdate?(
    x: Float32Array,
    acc: Float32Array,
    g: Float32Array,
    k: Float32Array,
    nesterov: boolean,
    x1: Float32Array,
    acc1: Float32Array,
  ): void;
  /** tfjs-layers' L2 penalty Σ l2·w² and its gradient 2·((dy·l2)·w) (kernels.h l2_penalty; absent in builds before it). */
  l2Penalty?(w: Float32Array, l2: number): number;
  l2PenaltyGrad?(w: Float32Array, l2: number, dy: number, g: Float32Array): void;
  /** dy · step(x) in one pass (step: 1 above 0, NaN for NaN, else 0, as tfjs's). */
  reluGrad?(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * A whole training step: the program of engine/native/step-plan.ts over its arena (native/src/step.cc). `times`
   * (64 doubles) accumulates milliseconds per opcode (a convolution's at 24 + its kind). Absent in builds before it.
   */
  runPlan?(arena: Float32Array, program: Int32Array, times?: Float64Array): void;
  /** Batch image b = images[idx[b]] (48×48 uint8) through affines[6b..6b+5], bilinear, × scale + offset (native/src/augment.cc); absent in builds before it. */
  warpBatch?(images: Uint8Array, idx: Int32Array, affines: Float64Array, out: Float32Array, scale: number, offset: number): void;
  /** The highest plan opcode runPlan knows (step-compiler.ts PLAN_OP); absent in builds before the fused BN+ReLU ones. */
  planOps?: number;
  setThreads(n: number): number;
  getThreads(): number;
  /** Convolutions in bf16 (inputs rounded to bf16; f32 accumulation and outputs) or f32; false: no bf16 kernel here. */
  setConvBf16(on: boolean): boolean;
  /** glibc's malloc keeps freed tensor-sized blocks mapped (addon.cc): process-wide, so training calls it, not loading. Absent in builds before it. */
  keepFreedMemory?(): boolean;
  /** 2 MiB pages for the array's aligned interior (madvise; addon.cc): call before writing it. Returns the bytes advised. Absent in builds before it. */
  adviseHugePages?(a: Float32Array): number;
}

export function loadNativeAddon(): NativeAddon | null {
  // FER_NATIVE_ADDON: another build of the addon (e.g. one built out of tree while a run uses this one).
  return loadAddon<NativeAddon>('fer_native').addon;
}

/** Why the addon is unavailable, for the one-line fallback message. */
export function nativeAddonError(): string | undefined {
  return loadAddon<NativeAddon>('fer_native').why;
}
