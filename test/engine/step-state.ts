/**
 * A training run's end state (losses, weights, optimizer slots) and the comparison the native-step tests hold it to
 * against tfjs's step on `cpu` (test/engine/native-step*.test.ts).
 */
import { expect } from 'vitest';
import type { tf } from '../../src/engine/tf.js';

export const TOL = 1e-4;

export type State = { losses: number[]; weights: Float32Array[]; slots: Float32Array[] };

export async function snapshot(model: tf.LayersModel, opt: tf.Optimizer, losses: number[]): Promise<State> {
  return {
    losses,
    weights: model.weights.map((w) => w.read().dataSync() as Float32Array),
    slots: (await opt.getWeights()).map((w) => w.tensor.dataSync() as Float32Array),
  };
}

const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** max |a − b| / max(max |b|, floor) */
function relErr(a: Float32Array, b: Float32Array, floor = 0): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), floor, 1e-30);
}

/**
 * `adamLr`: the learning rate when the optimizer is Adam (its weights' extra tolerance: a weight whose gradient is
 * rounding noise moves by up to lr in either engine). Optimizer slots are held relative to their tensor's scale,
 * floored at 1e-3 of the largest slot of their kind (m, v or momentum): a β whose channel's gradients sum to zero in
 * exact arithmetic (a BN whose output feeds another BN through a 1×1 conv) has only rounding noise for a gradient,
 * in both engines.
 */
export function expectStateClose(native: State, ref: State, adamLr = 0): void {
  expect(native.losses.length).toBe(ref.losses.length);
  native.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i]), `loss ${i}`).toBeLessThan(1e-5 * Math.abs(ref.losses[i])));
  expect(native.weights.length).toBe(ref.weights.length);
  native.weights.forEach((w, i) => {
    const scale = maxAbs(ref.weights[i]);
    expect(relErr(w, ref.weights[i]) * scale, `weight ${i}`).toBeLessThan(TOL * scale + 0.02 * adamLr);
  });
  expect(native.slots.length).toBe(ref.slots.length);
  expect(native.slots[0]).toEqual(ref.slots[0]); // iterations
  const kinds = adamLr ? 2 : 1,
    per = (ref.slots.length - 1) / kinds;
  for (let k = 0; k < kinds; k++) {
    const group = ref.slots.slice(1 + k * per, 1 + (k + 1) * per);
    const floor = 1e-3 * Math.max(...group.map(maxAbs));
    group.forEach((r, i) =>
      expect(relErr(native.slots[1 + k * per + i], r, floor), `optimizer weight ${1 + k * per + i}`).toBeLessThan(TOL),
    );
  }
}
