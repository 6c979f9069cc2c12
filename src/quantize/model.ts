/** A model's kernels quantized in place (eqs. 2–4, or the fp16 round trip): what eval, export and predict run. */
import type { tf } from '../engine/tf.js';
import type { FerMetadata } from '../model/types.js';
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
