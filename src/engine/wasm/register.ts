/**
 * Training on `wasm`: tfjs-backend-wasm 4.22 has no convolution gradients, a MaxPoolGrad that routes
 * gradients wrongly when a window's max is ≤ 0, a copying Identity, and no fer batch-norm kernels. This
 * registers, for `wasm`, fer's gradient kernels (gradients.ts: WebAssembly SIMD from native/wasm when it
 * loads, JavaScript otherwise), a sharing Identity, and AvgPoolGrad (unused by the mini-Xception) from the
 * cpu backend through a read/compute/write bridge.
 */
import { tf } from '../tf.js';
import { makeF32, readF32 } from '../kernel-io.js';
import { cpuBackendBridge, incRef } from '../tfjs-internals.js';
import { conv2DBackpropFilter, depthwiseBackpropFilter, maxPoolGrad } from './gradients.js';
import { conv2DBackpropInput, depthwiseBackpropInput } from './input-gradients.js';

const BRIDGED = ['AvgPoolGrad'];
/** Built from wasm's own kernels (gradients.ts): bridged, these were 95% of a training step. */
const NATIVE_TO_WASM = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  MaxPoolGrad: maxPoolGrad,
};

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  const cpuBackend = cpuBackendBridge(tf.findBackend('cpu'));
  for (const name of [...BRIDGED, ...Object.keys(NATIVE_TO_WASM)]) {
    // wasm's own MaxPoolGrad exists but is wrong; everything else in the list is missing.
    try {
      tf.unregisterKernel(name, 'wasm');
    } catch {
      // not registered: fine
    }
  }
  // wasm's Identity copies its input (every gradient of an Add and a Reshape passes through it: ~6% of a
  // training step); sharing the data with a reference count, as cpu does, is what Identity means.
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x!;
      incRef(backend, x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  for (const [name, kernelFunc] of Object.entries(NATIVE_TO_WASM)) {
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as never });
  }
  for (const name of BRIDGED) {
    const cpu = cpuKernels.get(name);
    if (!cpu) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpuInputs: Record<string, tf.TensorInfo> = {};
        for (const [k, info] of Object.entries(inputs) as [string, tf.TensorInfo][]) {
          cpuInputs[k] = cpuBackend.makeTensorInfo(info.shape, 'float32', readF32(backend, info).slice());
        }
        const out = cpu.kernelFunc({ inputs: cpuInputs, attrs, backend: cpuBackend as never }) as tf.TensorInfo;
        const result = makeF32(backend, out.shape);
        result.values.set(cpuBackend.readSync(out.dataId));
        for (const info of [...Object.values(cpuInputs), out]) cpuBackend.disposeIntermediateTensorInfo(info);
        return result.info;
      },
    });
  }
}
