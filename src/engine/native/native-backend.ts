/**
 * The fer-native tfjs backend class: tfjs's cpu backend with pooled output buffers, whose kernels
 * (kernels/*.ts) call the native addon. It imports no kernel; backend.ts lists and registers them (as tfjs's
 * backend_cpu.ts never imports a kernel), so dependencies point one way.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';

export const NATIVE_BACKEND = 'fer-native';

/** Buffers under this many floats are not pooled (allocation is cheap; most are small parameter tensors). */
const POOL_MIN = 16384;
const POOL_MAX_BYTES = 512 * 2 ** 20;

export class NativeBackend extends MathBackendCPU {
  /**
   * Output buffers of disposed tensors, by length, for the next kernel output of that size: a fresh
   * Float32Array of a training step's activations is zeroed and page-faulted in by the OS on first touch,
   * which costs as much as the kernel that fills it. Only buffers this backend's kernels allocated (`take`)
   * return here, and never one whose values escaped through read/readSync/dataSync.
   */
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly owned = new WeakSet<Float32Array>();
  private readonly escaped = new WeakSet<object>();
  poolEnabled = process.env.FER_NATIVE_POOL !== '0';

  constructor(readonly addon: NativeAddon) {
    super();
  }

  /** A float32 output buffer of length n; its contents are undefined (the kernel overwrites all of it). */
  take(n: number): Float32Array {
    if (n < POOL_MIN || !this.poolEnabled) return new Float32Array(n);
    const reused = this.pool.get(n)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      return reused;
    }
    const a = new Float32Array(n);
    this.owned.add(a);
    return a;
  }

  override readSync(dataId: object) {
    const v = super.readSync(dataId);
    this.escaped.add(v as object);
    return v;
  }

  override async read(dataId: object) {
    const v = await super.read(dataId);
    this.escaped.add(v as object);
    return v;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (
      disposed &&
      values instanceof Float32Array &&
      this.owned.has(values) &&
      !this.escaped.has(values) &&
      this.pooledBytes + values.byteLength <= POOL_MAX_BYTES
    ) {
      const list = this.pool.get(values.length) ?? [];
      list.push(values);
      this.pool.set(values.length, list);
      this.pooledBytes += values.byteLength;
    }
    return disposed;
  }
  /** The float32 values of a tensor of this backend, or null when it holds another dtype. */
  f32(info: { dataId: object }): Float32Array | null {
    const v = this.data.get(info.dataId).values;
    return v instanceof Float32Array ? v : null;
  }
}

/** A native kernel: returns null to let the inherited cpu kernel run instead. */
export type NativeKernel = (args: {
  inputs: Record<string, tf.TensorInfo>;
  attrs: Record<string, unknown>;
  backend: NativeBackend;
}) => tf.TensorInfo | tf.TensorInfo[] | null;
