/**
 * fer's WebAssembly SIMD kernels (native/wasm/kernels.c, built by native/wasm/build.sh and committed as
 * fer-kernels.wasm), instantiated on tfjs-backend-wasm's own memory: they take tensors' heap offsets and
 * work in place. `null` when the module or the backend's memory is not available (then the JavaScript
 * kernels run); FER_WASM_SIMD=0 forces that, for A/B measurements.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../paths.js';
import type { TensorInfo } from '../tf.js';

type Ptr = number;
/** A sliding window's geometry as the C kernels take it: input N·H·W·C, output oh·ow, strides, window, top/left padding. */
type WindowGeometry = [
  n: number,
  h: number,
  w: number,
  c: number,
  oh: number,
  ow: number,
  sh: number,
  sw: number,
  kh: number,
  kw: number,
  top: number,
  left: number,
];

export interface SimdKernels {
  conv2d_filter_grad(
    x: Ptr,
    dy: Ptr,
    dw: Ptr,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    sh: number,
    sw: number,
    kh: number,
    kw: number,
    top: number,
    left: number,
  ): void;
  depthwise_filter_grad(x: Ptr, dy: Ptr, dw: Ptr, ...g: WindowGeometry): void;
  scatter_tap(
    src: Ptr,
    dx: Ptr,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    ky: number,
    kx: number,
    top: number,
    left: number,
  ): void;
  pointwise_input_grad(
    dy: Ptr,
    wt: Ptr,
    dx: Ptr,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  max_pool_grad(x: Ptr, dy: Ptr, dx: Ptr, ...g: WindowGeometry): void;
  bn_train_forward(
    x: Ptr,
    gamma: Ptr,
    beta: Ptr,
    m: number,
    c: number,
    eps: number,
    y: Ptr,
    mean: Ptr,
    variance: Ptr,
    scratch: Ptr,
    dscratch: Ptr,
  ): void;
  bn_train_backward(
    dy: Ptr,
    x: Ptr,
    gamma: Ptr,
    mean: Ptr,
    variance: Ptr,
    m: number,
    c: number,
    eps: number,
    dx: Ptr,
    dgamma: Ptr,
    dbeta: Ptr,
    scratch: Ptr,
    dscratch: Ptr,
  ): void;
}

interface WasmBackendInternals {
  wasm: { asm?: { memory?: WebAssembly.Memory }; HEAPU8: Uint8Array; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

const cache = new WeakMap<object, SimdKernels | null>();

/** The SIMD kernels bound to this wasm backend's memory, or null. */
export function simdKernels(backend: unknown): SimdKernels | null {
  if (process.env.FER_WASM_SIMD === '0') return null;
  const b = backend as WasmBackendInternals;
  if (cache.has(b)) return cache.get(b)!;
  let kernels: SimdKernels | null = null;
  const memory = b.wasm?.asm?.memory;
  if (memory instanceof WebAssembly.Memory) {
    try {
      const file = packagePath('native', 'wasm', 'fer-kernels.wasm');
      const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory } });
      kernels = instance.exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
  }
  cache.set(b, kernels);
  return kernels;
}

/** A tensor's byte offset in the wasm heap. */
export function heapPtr(backend: unknown, info: TensorInfo): Ptr {
  const data = (backend as WasmBackendInternals).dataIdMap.get(info.dataId);
  if (!data) throw new Error('wasm: tensor has no data');
  return data.memoryOffset;
}

/** A float32 view of `length` values at heap offset ptr (take it after the last allocation: growth detaches views). */
export function heapF32(backend: unknown, ptr: Ptr, length: number): Float32Array {
  return new Float32Array((backend as WasmBackendInternals).wasm.HEAPU8.buffer, ptr, length);
}

/** Runs fn with `bytes` of scratch heap memory (8-byte aligned), freed afterwards. */
export function withScratch<T>(backend: unknown, bytes: number, fn: (ptr: Ptr) => T): T {
  const wasm = (backend as WasmBackendInternals).wasm;
  const raw = wasm._malloc(bytes + 8);
  try {
    return fn((raw + 7) & ~7);
  } finally {
    wasm._free(raw);
  }
}
