/**
 * Whether a run's steps go through the native whole-step executor (engine/native/native-step.ts, issue 38) or
 * tfjs's step, and why: the executor takes the fer-native engine, the layers step-plan.ts knows, Adam or SGD,
 * L2, any target distribution (label smoothing, mixup, cutmix) and EMA; pruning and quantization hooks,
 * distillation, class weights and a frozen body stay on tfjs's step. FER_TRAIN_STEP=tfjs forces tfjs's step.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { NATIVE_BACKEND } from '../engine/native/native-backend.js';
import { NativeTrainStep } from '../engine/native/native-step.js';
import { parseOrNull, writeFileAtomic } from '../io/files.js';
import type { TrainOptions } from './options.js';
import type { StepHook } from './types.js';

export interface StepChoice {
  native: NativeTrainStep | null;
  /** One line: which step runs, and for tfjs's why not the native one. */
  message: string;
}

/** Why the native step cannot take this run (null: it may, if the model compiles). */
function refusal(options: TrainOptions, hooks: StepHook[]): string | null {
  if (process.env.FER_TRAIN_STEP === 'tfjs') return 'FER_TRAIN_STEP=tfjs';
  if (tf.getBackend() !== NATIVE_BACKEND) return `the ${tf.getBackend()} engine`;
  if (hooks.length) return `training hooks (${hooks.map((h) => h.name).join(', ')})`;
  if (options.teacher.length) return 'distillation';
  if (options.classWeights) return 'class weights';
  if (options.freezeEpochs > 0) return 'a frozen body (--freeze-epochs)';
  return null;
}

export function chooseTrainStep(model: tf.LayersModel, optimizer: tf.Optimizer, options: TrainOptions, hooks: StepHook[]): StepChoice {
  const why = refusal(options, hooks);
  const made = why ? { unsupported: why } : NativeTrainStep.create(model, optimizer, options.batchSize);
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
