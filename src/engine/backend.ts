/**
 * Backend choice: `auto` takes tfjs-node when it is installed and loads, else fer-native when its
 * addon was built, else wasm (saying why, once). `FER_BACKEND` sets the default.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { loadWasmBackend, tf } from './tf.js';
import { UsageError } from '../errors.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native/backend.js';
import { nativeAddonError, loadNativeAddon } from './native/addon.js';
import { registerBatchNormTrainKernels } from './kernels/batch-norm-train.js';
import { registerWasmTrainingKernels } from './wasm/register.js';

export const BACKENDS = ['auto', 'native', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendInfo {
  /** tfjs backend name actually in use. */
  name: string;
  threads: number;
  /** Why `auto` did not pick a faster one (printed once). */
  note?: string;
}

function tryTfjsNode(): boolean {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return tf.findBackend('tensorflow') != null;
  } catch {
    return false;
  }
}

/** Selects and initializes a backend; safe to call more than once. */
export async function useBackend(choice: BackendChoice = 'auto', threads?: number): Promise<BackendInfo> {
  if (!BACKENDS.includes(choice)) {
    throw new UsageError(`engine: unknown backend "${choice}" (expected: ${BACKENDS.join(', ')})`);
  }
  tf.env().set('PROD', true);
  registerBatchNormTrainKernels();
  const nThreads = threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  let name: string;
  let note: string | undefined;
  if (choice === 'node') {
    if (!tryTfjsNode()) throw new UsageError('engine: --backend node needs @tensorflow/tfjs-node, which is not installed here');
    name = 'tensorflow';
  } else if (choice === 'native') {
    if (!registerNativeBackend(nThreads)) {
      throw new UsageError(`engine: --backend native is unavailable: addon ${nativeAddonError()}`, {
        hint: 'install libdnnl-dev (Debian/Ubuntu) or onednn (Homebrew), then npm rebuild',
      });
    }
    name = NATIVE_BACKEND;
  } else if (choice === 'auto') {
    if (tryTfjsNode()) name = 'tensorflow';
    else if (registerNativeBackend(nThreads)) name = NATIVE_BACKEND;
    else {
      name = 'wasm';
      note = `fer-native unavailable (addon ${nativeAddonError()}); using wasm. Install libdnnl-dev and run npm rebuild for full speed.`;
    }
  } else {
    name = choice;
  }
  if (name === 'wasm') {
    await loadWasmBackend();
    registerWasmTrainingKernels();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new UsageError(`engine: backend ${name} failed to initialize`);
  await tf.ready();
  const used = name === NATIVE_BACKEND ? loadNativeAddon()!.getThreads() : name === 'wasm' ? 1 : name === 'cpu' ? 1 : nThreads;
  return { name, threads: used, note };
}

/**
 * fer's engine (`useBackend('auto')`) for a library call that needs tfjs, unless a backend is in use already (set by
 * an earlier call, by `useBackend`, or by the program's own `tf.setBackend`, which is kept).
 */
export async function ensureEngine(): Promise<void> {
  if (!(tf.engine() as { backendName?: string }).backendName) await useBackend('auto');
}
