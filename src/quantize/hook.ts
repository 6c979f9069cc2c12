/**
 * Quantization-aware training: before each step the kernels are replaced by their fake-quantized values
 * (eqs. 2–4), the gradient is taken there, and the float master weights are restored before the optimizer
 * applies it: the straight-through estimator (dL/dw ≈ dL/dŵ).
 */
import type { StepHook } from '../train/types.js';
import type { TrainOptions } from '../train/options.js';
import { tf } from '../engine/tf.js';
import type { FerMetadata } from '../model/io.js';
import { kernelWeights, readValues, writeValues, type KernelWeight } from '../prune/weights.js';
import { fakeQuantize, roundTripFloat16, type Granularity } from './quantize.js';

/** Replaces a model's kernels by their quantized-dequantized values (16 = fp16 round trip). */
export function applyFakeQuant(model: tf.LayersModel, bits: number, granularity: Granularity): void {
  for (const w of kernelWeights(model)) writeValues(w, fakeQuantizeKernel(w, readValues(w), bits, granularity));
}

export function fakeQuantizeKernel(w: KernelWeight, values: Float32Array, bits: number, g: Granularity): Float32Array {
  return bits === 16 ? roundTripFloat16(values) : fakeQuantize(values, bits, g, w.channels);
}

/** For models whose metadata says they are quantized: what eval and export run is the quantized net. */
export function prepareQuantized(model: tf.LayersModel, meta: FerMetadata): void {
  if (meta.quantization) applyFakeQuant(model, meta.quantization.bits, meta.quantization.granularity);
}

export function quantizeHook(o: TrainOptions): StepHook | null {
  if (!o.quantizeBits) return null;
  let weights: KernelWeight[] = [];
  let master: Float32Array[] = [];
  return {
    name: 'quantize',
    init(m) {
      weights = kernelWeights(m);
    },
    beforeStep() {
      master = weights.map((w) => readValues(w).slice());
      weights.forEach((w, i) => writeValues(w, fakeQuantizeKernel(w, master[i], o.quantizeBits, o.granularity)));
    },
    beforeApply() {
      weights.forEach((w, i) => writeValues(w, master[i]));
    },
    metadata: (meta) => ({ ...meta, quantization: { ...meta.quantization, bits: o.quantizeBits, granularity: o.granularity } }),
  };
}
