/**
 * The one import site of TensorFlow.js. Everything else imports `tf` from here. The wasm backend is imported only
 * when it is chosen (`loadWasmBackend`): imported at start-up it registered itself as tfjs's first choice before
 * anything had set it up, so that in a program importing fer, tfjs calls made before `useBackend` (fer's own
 * `loadModel`, or the program's own tfjs code) failed with "backend 'wasm' has not yet been initialized".
 */
import * as tf from '@tensorflow/tfjs';

export { tf };

/** Registers tfjs-backend-wasm (once; its kernels register on import). */
export async function loadWasmBackend(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
}

/** Whether the active backend has a kernel registered under `name` (fer's fused kernels exist on fer-native alone). */
export const activeBackendHas = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;
export type { Tensor, Tensor4D, Tensor2D, Tensor1D, Rank, TensorInfo, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
