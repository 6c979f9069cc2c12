/**
 * Whether a run's steps go through the native whole-step executor (engine/native/native-step.ts, issue 38) or
 * tfjs's step, and why: the executor takes the fer-native engine, the layers step-plan.ts knows, Adam or SGD,
 * L2, any target distribution (label smoothing, mixup, cutmix), EMA and the training hooks (pruning masks, structured
 * pruning, quantization-aware training: nativeStepWithHooks), distillation (the teacher's soft targets, offline or
 * from online teachers run on tfjs each batch), class weights (a weight per row in the hard loss term) and a frozen
 * body (--freeze-epochs: the body's gradients zeroed before the update). FER_TRAIN_STEP=tfjs forces tfjs's step.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { NATIVE_BACKEND } from '../engine/native/native-backend.js';
import { NativeTrainStep } from '../engine/native/native-step.js';
import { parseOrNull, writeFileAtomic } from '../io/files.js';
import type { TrainOptions } from './options.js';
import type { StepHook } from './types.js';
import { argmaxRows } from '../util/argmax.js';

export interface StepChoice {
  native: NativeTrainStep | null;
  /** One line: which step runs, and for tfjs's why not the native one. */
  message: string;
}

/** Why the native step cannot take this run (null: it may, if the model compiles). */
function refusal(): string | null {
  if (process.env.FER_TRAIN_STEP === 'tfjs') return 'FER_TRAIN_STEP=tfjs';
  if (tf.getBackend() !== NATIVE_BACKEND) return `the ${tf.getBackend()} engine`;
  return null;
}

/**
 * `distill`: the run has a teacher's soft targets (offline or online), which the step's loss then takes;
 * `classWeights`: each class's weight in the hard loss term (with --class-weights).
 */
export function chooseTrainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  options: TrainOptions,
  distill = false,
  classWeights: ArrayLike<number> | null = null,
): StepChoice {
  const why = refusal();
  const made = why
    ? { unsupported: why }
    : NativeTrainStep.create(model, optimizer, options.batchSize, {
        distill: distill ? { alpha: options.distillAlpha, temperature: options.temperature } : undefined,
        classWeights,
      });
  if ('unsupported' in made)
    return { native: null, message: `train: tfjs training step (the native whole step does not take ${made.unsupported})` };
  const mib = ((made.plan.size * 4) / 2 ** 20).toFixed(0);
  return { native: made, message: `train: native whole training step (one addon call a batch; ${mib} MiB arena)` };
}

/** run.json records which step ran: `trainStep` for a new run, on its latest `resumed` entry for a resumed one. */
export function recordTrainStep(out: string, resumed: boolean, step: string): void {
  const file = path.join(out, 'run.json');
  const stored = parseOrNull(existsSync(file) ? readFileSync(file, 'utf8') : '') as Record<string, unknown> | null;
  if (!stored) return;
  const list = stored.resumed;
  if (resumed && Array.isArray(list) && list.length) list[list.length - 1] = { ...list[list.length - 1], trainStep: step };
  else stored.trainStep = step;
  writeFileAtomic(file, JSON.stringify(stored, null, 1));
}

/** One step through the native whole-step executor: its loss and how many argmax predictions matched the targets'. */
export function nativeOptimizerStep(
  native: NativeTrainStep,
  batch: { xs: Float32Array; ys: Float32Array; softs?: Float32Array | null; n: number; nc: number },
): [number, number] {
  const { loss, probs } = native.step(batch.xs, batch.ys, undefined, batch.softs);
  const [predicted, wanted] = [argmaxRows(probs, batch.nc), argmaxRows(batch.ys, batch.nc)];
  let correct = 0;
  for (let i = 0; i < batch.n; i++) if (predicted[i] === wanted[i]) correct++;
  return [loss, correct];
}

/**
 * The native step with the training hooks around it, as tfjs's step runs them (epoch.ts tfjsStep). The hooks work on
 * tfjs's variables, so the weights go to tfjs and back around each of them, except an afterStep the hook can do in
 * the arena (afterStepIn: the pruning masks between their recomputes). beforeApply (quantization-aware training
 * restores its float master weights there, after the gradient was taken at the fake-quantized ones) has no place
 * inside the native step: the step updates the weights it ran at, and the same update is then moved onto what
 * beforeApply left (w_master + (w_after − w_ran)): the update depends on the gradient and the optimizer's slots
 * alone, so it is the one tfjs applies to the master weights (the straight-through estimator).
 */
export function nativeStepWithHooks(
  native: NativeTrainStep,
  batch: { xs: Float32Array; ys: Float32Array; softs?: Float32Array | null; n: number; nc: number },
  hooks: StepHook[],
  step: number,
): [number, number] {
  if (!hooks.length) return nativeOptimizerStep(native, batch);
  const before = hooks.filter((h) => h.beforeStep),
    apply = hooks.filter((h) => h.beforeApply),
    after = hooks.filter((h) => h.afterStep);
  if (before.length) {
    native.pushWeights();
    for (const h of before) h.beforeStep!(step);
    native.pullWeights();
  }
  let ran: Float32Array[] | null = null,
    master: Float32Array[] | null = null;
  if (apply.length) {
    ran = native.weightViews().map((v) => v.slice());
    for (const h of apply) h.beforeApply!(step);
    native.pullWeights();
    master = native.weightViews().map((v) => v.slice());
    native.weightViews().forEach((v, i) => v.set(ran![i]));
  }
  const r = nativeOptimizerStep(native, batch);
  if (ran && master)
    native.weightViews().forEach((v, i) => {
      const m = master![i],
        a = ran![i];
      for (let j = 0; j < v.length; j++) v[j] = m[j] + (v[j] - a[j]);
    });
  // In order, in the arena while the hooks can (pruning masks re-applied); from the first that cannot, on tfjs's variables.
  let i = 0;
  if (after.some((h) => h.afterStepIn)) {
    const views = native.weightsByName();
    while (i < after.length && after[i].afterStepIn?.(step, (name) => views.get(name))) i++;
  }
  if (i < after.length) {
    native.pushWeights();
    for (const h of after.slice(i)) h.afterStep!(step);
    native.pullWeights();
  }
  return r;
}
