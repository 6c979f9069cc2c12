/**
 * The tensor-leak checker: how many tfjs tensors a call leaves behind (`tf.memory().numTensors` after minus
 * before). Every tfjs backend counts its tensors in the one engine, so this sees fer-native's, wasm's and cpu's.
 */
import { tf } from '../src/engine/tf.js';

export async function tensorsLeftBy(fn: () => unknown): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}
