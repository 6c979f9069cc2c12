/**
 * Reading inputs and making outputs inside a kernel, the same way for the backends that fer registers
 * JavaScript kernels on: `cpu` and `fer-native` keep TypedArrays in a data map, `wasm` keeps them on
 * its heap. Kernels written against these two functions run on all three.
 */
import type { TensorInfo } from './tf.js';

interface CpuLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
}
interface WasmLike {
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

function isWasm(backend: unknown): backend is WasmLike {
  return typeof (backend as WasmLike).typedArrayFromHeap === 'function';
}

/** The float32 values of a kernel input, without copying. */
export function readF32(backend: unknown, info: TensorInfo): Float32Array {
  if (isWasm(backend)) return backend.typedArrayFromHeap(info);
  const values = (backend as CpuLike).data.get(info.dataId).values;
  if (!(values instanceof Float32Array)) throw new Error(`expected float32 data, got ${info.dtype}`);
  return values;
}

/** A new float32 output and a writable view of its values. */
export function makeF32(backend: unknown, shape: number[]): { info: TensorInfo; values: Float32Array } {
  if (isWasm(backend)) {
    const info = backend.makeOutput(shape, 'float32');
    return { info, values: backend.typedArrayFromHeap(info) };
  }
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  return { info: (backend as CpuLike).makeTensorInfo(shape, 'float32', values), values };
}
