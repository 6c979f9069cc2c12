/** The step hooks a run's options ask for, in the order they run: train() uses these unless given its own. */
import type { StepHook } from '../types.js';
import type { TrainOptions } from '../options.js';
import { pruneHook } from './prune.js';
import { quantizeHook } from './quantize.js';
import { structuredHook } from './structured.js';

/** The step hooks a run's options ask for: unstructured or 2:4 pruning, structured pruning, quantization-aware training. */
export function trainingHooks(options: TrainOptions): StepHook[] {
  return [pruneHook(options), structuredHook(options), quantizeHook(options)].filter((h) => h !== null);
}
