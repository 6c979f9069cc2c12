/**
 * The fer-native tfjs backend class: tfjs's cpu backend with pooled output buffers, whose kernels
 * (kernels/*.ts) call the native addon. It imports no kernel; backend.ts lists and registers them (as tfjs's
 * backend_cpu.ts never imports a kernel), so dependencies point one way.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { skipFirstUseBanner } from '../tfjs-internals.js';

export const NATIVE_BACKEND = 'fer-native';

const POOL_MAX_BYTES = 512 * 2 ** 20;

export class NativeBackend extends MathBackendCPU {
  /**
   * Output buffers of disposed tensors, by length, for the next kernel output of that size: a fresh
   * Float32Array of a training step's activations is zeroed and page-faulted in by the OS on first touch,
   * which costs as much as the kernel that fills it, and the ~1,000 small ones a step (optimizer, statistics)
   * cost an ArrayBuffer allocation each. Only buffers this backend's kernels allocated (`take`) return here,
   * and never one whose memory another tensor or the caller can still see: values that escaped through
   * read/readSync/dataSync, or that a second tensor holds (cpu's slice, splitV, stridedSlice and unpack return
   * views of their input's buffer).
   */
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly owned = new WeakSet<ArrayBuffer>();
  /** Owned arrays already stored as one tensor's values: a second store of the same memory shares it. */
  private readonly stored = new WeakSet<Float32Array>();
  private readonly escaped = new WeakSet<ArrayBuffer>();
  poolEnabled = process.env.FER_NATIVE_POOL !== '0';

  constructor(readonly addon: NativeAddon) {
    super();
    skipFirstUseBanner(this);
  }

  /** A float32 output buffer of length n; its contents are undefined (the kernel overwrites all of it). */
  take(n: number): Float32Array {
    if (!this.poolEnabled) return new Float32Array(n);
    const reused = this.pool.get(n)?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      this.stored.delete(reused);
      return reused;
    }
    const a = new Float32Array(n);
    this.owned.add(a.buffer);
    return a;
  }

  override write(values: Parameters<MathBackendCPU['write']>[0], shape: number[], dtype: Parameters<MathBackendCPU['write']>[2]): object {
    if (ArrayBuffer.isView(values) && this.owned.has(values.buffer as ArrayBuffer)) {
      // The array take() returned, stored once, stays poolable; a view of it, or a second store, shares it.
      const whole = values instanceof Float32Array && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
      if (!whole || this.stored.has(values as Float32Array)) this.escaped.add(values.buffer as ArrayBuffer);
      else this.stored.add(values as Float32Array);
    }
    return super.write(values, shape, dtype);
  }

  override readSync(dataId: object) {
    const v = super.readSync(dataId);
    if (ArrayBuffer.isView(v)) this.escaped.add(v.buffer as ArrayBuffer);
    return v;
  }

  override async read(dataId: object) {
    const v = await super.read(dataId);
    if (ArrayBuffer.isView(v)) this.escaped.add(v.buffer as ArrayBuffer);
    return v;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (
      disposed &&
      values instanceof Float32Array &&
      this.owned.has(values.buffer as ArrayBuffer) &&
      !this.escaped.has(values.buffer as ArrayBuffer) &&
      values.byteLength === values.buffer.byteLength &&
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
