/**
 * Quantization-aware training: before each step the kernels are replaced by their fake-quantized values
 * (eqs. 2–4), the gradient is taken there, and the float master weights are restored before the optimizer
 * applies it: the straight-through estimator (dL/dw ≈ dL/dŵ).
 */
import type { tf } from '../../engine/tf.js';
import type { StepHook } from '../types.js';
import type { TrainOptions } from '../options.js';
import { kernelWeights, readValues, writeValues, type KernelWeight } from '../../prune/weights.js';
import { fakeQuantizeKernel } from '../../quantize/model.js';

export function quantizeHook(o: TrainOptions): StepHook | null {
  if (!o.quantizeBits) return null;
  let weights: KernelWeight[] = [];
  let master: Float32Array[] = [];
  return {
    name: 'quantize',
    init(m: tf.LayersModel) {
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
