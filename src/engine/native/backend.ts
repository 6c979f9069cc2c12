/**
 * `fer-native`: the tfjs `cpu` backend with its hot kernels replaced by native, multithreaded ones
 * (oneDNN convolutions, OpenMP element-wise ops). It inherits every kernel it does not override, and the
 * native kernels read and write the cpu backend's own TypedArrays in place: no copies.
 */
import { tf } from '../tf.js';
import type { KernelConfig } from '../tf.js';
import { loadNativeAddon, type NativeAddon as NativeAddonType } from './addon.js';
import { NATIVE_BACKEND, NativeBackend, type NativeKernel } from './native-backend.js';
import { convKernels } from './kernels/conv.js';
import { poolKernels } from './kernels/pool.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { reduceKernels } from './kernels/reduce.js';
import { batchNormKernels } from './kernels/batch-norm.js';
import { layoutKernels } from './kernels/layout.js';
import { optimizerKernels } from './kernels/optimizer.js';
import { trainFusedKernels } from './kernels/train-fused.js';
import { registerBatchNormTrainKernels } from '../kernels/batch-norm-train.js';
import { registerFusedGradients } from '../fused-grads.js';

export { NATIVE_BACKEND, NativeBackend, type NativeKernel };

/** Every native kernel, by tfjs kernel name: the one list of them. */
const overrides: Record<string, NativeKernel> = {
  ...convKernels,
  ...poolKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...batchNormKernels,
  ...layoutKernels,
};

let registered = false;

/** Registers `fer-native` (once) when the addon loads; returns whether it is available. */
export function registerNativeBackend(threads?: number): boolean {
  const addon = loadNativeAddon();
  if (!addon) return false;
  if (threads) addon.setThreads(threads);
  if (registered) return true;
  registerBatchNormTrainKernels();
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    const native = overrides[k.kernelName];
    const config: KernelConfig = { ...k, backendName: NATIVE_BACKEND };
    if (native) {
      const fallback = k.kernelFunc;
      config.kernelFunc = (args) => native(args as Parameters<NativeKernel>[0]) ?? fallback(args);
    }
    tf.registerKernel(config);
  }
  // The fused optimizer kernels only with an addon that has them (an older build, e.g. through FER_NATIVE_ADDON,
  // leaves engine/optimizer.ts on tfjs's own update).
  if (addon.adamUpdate && addon.momentumUpdate)
    for (const [kernelName, native] of Object.entries(optimizerKernels))
      tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: (args) => native(args as Parameters<NativeKernel>[0])! });
  if (addon.l2Penalty && addon.l2PenaltyGrad && addon.reluGrad) {
    registerFusedGradients();
    for (const [kernelName, native] of Object.entries(trainFusedKernels))
      tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: (args) => native(args as Parameters<NativeKernel>[0])! });
  }
  registered = true;
  return true;
}

/**
 * fer-native's convolutions (forward and both gradients) in bf16: inputs rounded to bf16, f32 accumulation,
 * outputs and weights; about twice the arithmetic rate on CPUs with AVX-512 BF16 or AMX. Returns whether it
 * took effect (false without the addon, or on a CPU oneDNN has no bf16 convolution for).
 */
export function setNativeConvBf16(on: boolean): boolean {
  return loadNativeAddon()?.setConvBf16(on) ?? false;
}

/**
 * The allocator setting training wants (native/src/addon.cc keepFreedMemory: glibc keeps freed tensor-sized
 * blocks mapped instead of returning them to the kernel, 3.8–4.6× faster steps of a wide net). Process-wide, so
 * it is applied when a training run starts, never on loading the addon. Returns whether it took effect (false
 * without the addon, or off glibc).
 */
export function tuneAllocatorForTraining(): boolean {
  return loadNativeAddon()?.keepFreedMemory?.() ?? false;
}

/**
 * The addon's augmentation warp (native/src/augment.cc: data/augment.ts's warp in C++, the same floats bit for bit,
 * the batch's images on OpenMP's threads), or null without an addon that has it.
 */
export function nativeWarpBatch(): NonNullable<NativeAddonType['warpBatch']> | null {
  const addon = loadNativeAddon();
  return addon?.warpBatch ? addon.warpBatch.bind(addon) : null;
}
