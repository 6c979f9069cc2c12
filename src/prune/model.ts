/** Magnitude pruning of a whole model (one shot, and the masks the training hook re-applies). */
import type { tf } from '../engine/tf.js';
import { kernelWeights, readValues, writeValues, type KernelWeight } from './weights.js';
import { applyMask, erkMasks, globalMasks, lampMasks, magnitudeMask, sparsityReport, twoFourMask } from './prune.js';

export type { PruneSettings } from './prune.js';
import type { PruneSettings } from './prune.js';

/** Masks for all kernels at one sparsity (2:4 ignores `sparsity`: it is 50% by construction). */
export function computeMasks(weights: KernelWeight[], sparsity: number, s: PruneSettings): (Uint8Array | null)[] {
  const values = weights.map(readValues);
  if (s.pattern === '2:4') return weights.map((w, i) => twoFourMask(values[i], w.inputChannels, w.channels));
  if (s.scope === 'global') return globalMasks(values, sparsity);
  if (s.scope === 'lamp') return lampMasks(values, sparsity);
  if (s.scope === 'erk')
    return erkMasks(
      values,
      weights.map((w) => w.shape),
      sparsity,
    );
  return values.map((v) => magnitudeMask(v, sparsity));
}

/** One-shot pruning of a model in place; returns the masks. */
export function pruneModel(model: tf.LayersModel, s: PruneSettings): (Uint8Array | null)[] {
  const weights = kernelWeights(model);
  const masks = computeMasks(weights, s.target, s);
  weights.forEach((w, i) => masks[i] && writeValues(w, applyMask(readValues(w), masks[i]!)));
  return masks;
}

export function modelSparsity(model: tf.LayersModel) {
  return sparsityReport(kernelWeights(model).map((w) => ({ name: w.name, values: readValues(w) })));
}
