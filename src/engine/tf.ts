/**
 * The one import site of TensorFlow.js. Everything else imports `tf` from here, so that the backends
 * registered below are there whatever entry point runs first.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export type { Tensor, Tensor4D, Tensor2D, Tensor1D, Rank, TensorInfo, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
