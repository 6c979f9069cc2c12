/**
 * fer-native's buffer pool (src/engine/native/native-backend.ts): a disposed kernel output's buffer serves the
 * next output of its size, small or large, but never while another tensor or the caller can still see it.
 */
import { describe, it, expect, afterAll, beforeAll, vi } from 'vitest';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/engine/tf.js';
import { registerNativeBackend, NATIVE_BACKEND } from '../../src/engine/native/backend.js';
import { NativeBackend } from '../../src/engine/native/native-backend.js';
import { randomArray } from '../helpers.js';

const hasNative = registerNativeBackend(1);

describe.skipIf(!hasNative)('fer-native buffer pool', () => {
  let backend: NativeBackend;
  beforeAll(async () => {
    await tf.setBackend(NATIVE_BACKEND);
    backend = tf.backend() as NativeBackend;
  });
  afterAll(() => void tf.setBackend('cpu'));

  /** A kernel output of n floats, shaped [4, n/4], its inputs disposed. */
  const sum = (n: number, seed: number) =>
    tf.tidy(() => tf.add(tf.tensor(randomArray(n, seed), [4, n / 4]), tf.tensor(randomArray(n, seed + 1), [4, n / 4])));

  it.each([8, 20_000])('reuses a disposed output of %i floats for the next output of that size', (n) => {
    const a = sum(n, 1);
    const buffer = backend.f32(a);
    a.dispose();
    const b = sum(n, 3);
    expect(backend.f32(b)).toBe(buffer);
    b.dispose();
  });

  it.each([
    ['unstack (cpu Unpack)', (x: tf.Tensor) => tf.unstack(x)],
    ['split (cpu SplitV)', (x: tf.Tensor) => tf.split(x, 2)],
    ['stridedSlice', (x: tf.Tensor) => [tf.stridedSlice(x, [1, 0], [3, x.shape[1]!], [1, 1])]],
  ] as const)('keeps the buffer of a tensor that %s returned views of', (_name, views) => {
    for (const n of [8, 20_000]) {
      const x = sum(n, 5);
      const buffer = backend.f32(x);
      const parts = views(x);
      const before = parts.map((p) => Array.from(p.dataSync()));
      x.dispose();
      const y = sum(n, 7); // would land in x's buffer, overwriting the views, if it were pooled
      expect(backend.f32(y)).not.toBe(buffer);
      expect(parts.map((p) => Array.from(p.dataSync()))).toEqual(before);
      tf.dispose([y, ...parts]);
    }
  });

  it('keeps the buffer of values read with dataSync', () => {
    const x = sum(20_000, 9);
    const values = x.dataSync();
    const copy = Array.from(values);
    x.dispose();
    const y = sum(20_000, 11);
    expect(Array.from(values)).toEqual(copy);
    y.dispose();
  });

  it('writes no tfjs "install tfjs-node" banner on its first tensor (tfjs\'s own cpu backend does)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const prod = tf.env().getBool('PROD');
    tf.env().set('PROD', false);
    try {
      new MathBackendCPU().write(new Float32Array(4), [4], 'float32');
      expect(warn).toHaveBeenCalledTimes(1); // the control: the banner is there to be missed
      new NativeBackend(backend.addon).write(new Float32Array(4), [4], 'float32');
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      tf.env().set('PROD', prod);
      warn.mockRestore();
    }
  });
});
