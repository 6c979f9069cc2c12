/**
 * Pruning during training: masks recomputed on the polynomial schedule, re-applied after every optimizer
 * step so pruned weights stay zero. Masks are derived from the weights' zeros on resume (and are all there is with
 * pruneHold).
 */
import type { StepHook } from '../types.js';
import type { TrainOptions } from '../options.js';
import { tf } from '../../engine/tf.js';
import { kernelWeights, readValues, writeValues, type KernelWeight } from '../../prune/weights.js';
import { applyMask, isUpdateStep, scheduledSparsity, type PolynomialSchedule } from '../../prune/prune.js';
import { computeMasks, modelSparsity, type PruneSettings } from '../../prune/model.js';

export type { PruneSettings } from '../../prune/model.js';

export function pruneHook(o: TrainOptions): StepHook | null {
  if (!(o.pruneTarget > 0) && o.prunePattern !== '2:4') return null;
  const settings: PruneSettings = { target: o.pruneTarget || 0.5, pattern: o.prunePattern, scope: o.pruneScope };
  let weights: KernelWeight[] = [];
  let masks: (Uint8Array | null)[] = [];
  let schedule: PolynomialSchedule;
  let model: tf.LayersModel;
  const apply = () => weights.forEach((w, i) => masks[i] && writeValues(w, applyMask(readValues(w), masks[i]!)));
  return {
    name: 'prune',
    init(m: tf.LayersModel, totalSteps: number) {
      model = m;
      weights = kernelWeights(m);
      const at = (v: number) => (v <= 1 ? Math.round(v * totalSteps) : Math.round(v));
      schedule = {
        initialSparsity: o.pruneInitial,
        finalSparsity: settings.target,
        beginStep: at(o.pruneBegin),
        endStep: at(o.pruneEnd),
        frequency: o.pruneFrequency,
      };
      // On resume (or fine-tuning a pruned model) the zeros already there are the masks.
      masks = weights.map((w) => {
        const v = readValues(w);
        return v.some((x) => x === 0) ? Uint8Array.from(v, (x) => (x === 0 ? 0 : 1)) : null;
      });
    },
    afterStep(step) {
      // The optimizer step just moved the pruned weights off zero: the masks go back on before any recompute, so
      // new masks are chosen among the weights that are really there (a pruned weight scores 0 and stays pruned
      // while the target does not fall). Recomputing on the raw post-step values let LAMP hand the zeros of small
      // kernels back and take others elsewhere (found with layer-wise reconstruction, whose refitted kernels tip it).
      apply();
      if (!o.pruneHold && isUpdateStep(schedule, step)) {
        const s = scheduledSparsity(schedule, step);
        if (s > 0 || settings.pattern === '2:4') {
          masks = computeMasks(weights, s, settings);
          apply();
        }
      }
    },
    afterStepIn(step, values) {
      // Only the masks' re-application (no recompute this step): the same zeros, written into the arena.
      if (!o.pruneHold && isUpdateStep(schedule, step)) return false;
      weights.forEach((w, i) => {
        const m = masks[i];
        if (!m) return;
        const v = values(w.variable.name);
        if (!v) throw new Error(`prune: no values for ${w.name} in the native step`);
        for (let j = 0; j < m.length; j++) if (!m[j]) v[j] = 0;
      });
      return true;
    },
    metrics: () => ({ sparsity: modelSparsity(model).sparsity }),
    metadata(meta) {
      const r = modelSparsity(model);
      return {
        ...meta,
        pruning: {
          sparsity: r.sparsity,
          pattern: settings.pattern,
          perLayer: Object.fromEntries(r.layers.map((l) => [l.name, l.sparsity])),
        },
      };
    },
  };
}
