/**
 * The one import site of TensorFlow.js. Everything else imports `tf` from here, so that the backends
 * registered below are there whatever entry point runs first.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

/** Whether the active backend has a kernel registered under `name` (fer's fused kernels exist on fer-native alone). */
export const activeBackendHas = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;
export type { Tensor, Tensor4D, Tensor2D, Tensor1D, Rank, TensorInfo, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
