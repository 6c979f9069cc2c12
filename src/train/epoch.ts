/**
 * One epoch of the training loop (fit.ts holds the run around it): the batches, each augmented and mixed
 * from seeds derived per (seed, epoch, batch), one optimizer step each with the hooks around it and the EMA
 * after it; then the epoch's end: validation, metrics.jsonl, best/ and last/.
 */
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { applyGradients } from '../engine/optimizer.js';
import type { Dataset } from '../data/dataset.js';
import { makeBatch, PREPROCESS, warpBatch, type BatchWarper } from '../data/augment.js';
import { NATIVE_BACKEND, nativeWarpBatch } from '../engine/native/backend.js';
import { IMAGE_SIZE } from '../data/classes.js';
import { saveModel, type FerMetadata } from '../model/io.js';
import { faultPoint } from '../io/files.js';
import { appendOutput } from '../io/output.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { predictProbs } from '../eval/probs.js';
import { top1Accuracy } from '../eval/metrics.js';
import type { EpochMetrics, StepHook, TrainEvent } from './types.js';
import type { LoopState } from './checkpoint.js';
import { lrForStep, updateSchedule } from './schedule.js';
import { setLearningRate } from '../engine/tfjs-internals.js';
import type { TrainOptions } from './options.js';
import { swapWeights, updateEma } from './setup.js';
import { eraseBatch, emaDecay, mixBatch } from './recipe.js';
import { nativeSoftTargets, onlineSoftTargets, trainingLoss } from './distill.js';
import type { NativeTrainStep } from '../engine/native/native-step.js';
import { nativeStepWithHooks } from './native-step.js';
import { RecentRate } from '../util/recent-rate.js';

/**
 * The augmentation's warp: the addon's when training runs on fer-native (the same floats as JavaScript's, on the
 * threads --threads gave it), else JavaScript's.
 */
let nativeWarper: BatchWarper | null | undefined;
function batchWarper(): BatchWarper {
  if (tf.getBackend() !== NATIVE_BACKEND) return warpBatch;
  if (nativeWarper === undefined) {
    const native = nativeWarpBatch();
    nativeWarper = native && ((images, idx, affines, out) => native(images, idx, affines, out, PREPROCESS.scale, PREPROCESS.offset));
  }
  return nativeWarper ?? warpBatch;
}

/**
 * Batch b of an epoch as the network trains on it: the augmented images, the (smoothed) one-hot labels and
 * the teacher's soft targets, then random erasing and mixup/cutmix, each seeded from (seed, epoch, b).
 */
function trainingBatch(
  trainSet: Dataset,
  idx: number[],
  options: TrainOptions,
  epoch: number,
  b: number,
  teacher: Float32Array | null,
): { xs: Float32Array; ys: Float32Array; softs: Float32Array | null } {
  const nc = trainSet.classes.length,
    s = options.labelSmoothing;
  const aug = { flip: options.flip, rotation: options.rotation, zoom: options.zoom, shift: options.shift, crop: options.cropScale };
  const xs = makeBatch(trainSet.images, idx, aug, new Rng(deriveSeed(options.seed, epoch, 2, b)), undefined, batchWarper());
  const ys = new Float32Array(idx.length * nc);
  idx.forEach((k, i) => {
    for (let c = 0; c < nc; c++) ys[i * nc + c] = s / nc;
    ys[i * nc + trainSet.labels[k]] += 1 - s;
  });
  let softs: Float32Array | null = null;
  if (teacher) {
    softs = new Float32Array(idx.length * nc);
    idx.forEach((k, i) => softs!.set(teacher.subarray(k * nc, (k + 1) * nc), i * nc));
  }
  const recipeRng = new Rng(deriveSeed(options.seed, epoch, 3, b));
  eraseBatch(xs, idx.length, options.erasing, recipeRng);
  mixBatch(xs, softs ? [ys, softs] : [ys], idx.length, { mixup: options.mixup, cutmix: options.cutmix, prob: options.mixProb }, recipeRng);
  return { xs, ys, softs };
}

/** One optimizer step on a batch; returns its loss and how many top-1 predictions matched the (mixed) labels' argmax. */
/** `loss` plus the model's own penalty terms (its kernels' L2): the scalar a training step minimizes. */
export function withPenalties(model: tf.LayersModel, loss: tf.Tensor): tf.Scalar {
  let l = loss;
  for (const r of model.calculateLosses()) l = tf.add(l, r);
  return l as tf.Scalar;
}

function optimizerStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  trained: tf.Variable[],
  batch: { xs: Float32Array; ys: Float32Array; softs: Float32Array | null; n: number; nc: number },
  loss: EpochLoop['lossOptions'],
  beforeApply: () => void,
): [number, number] {
  return tf.tidy(() => {
    const { n, nc } = batch;
    const x = tf.tensor4d(batch.xs, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const y = tf.tensor2d(batch.ys, [n, nc]);
    const soft = batch.softs
      ? tf.tensor2d(batch.softs, [n, nc])
      : loss.online?.length
        ? onlineSoftTargets(loss.online, x, loss.temperature)
        : null;
    let predicted: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      predicted = tf.keep(p);
      return withPenalties(model, trainingLoss(y, p, { weights: loss.weights, soft, alpha: loss.alpha, temperature: loss.temperature }));
    }, trained);
    beforeApply();
    // tfjs's optimizers keep their slots by a gradient's position in the map: with a frozen body every
    // variable still gets one (zeros), in the same order, so the slots line up when the body thaws.
    const full = trained === vars ? grads : Object.fromEntries(vars.map((v) => [v.name, grads[v.name] ?? tf.zerosLike(v)]));
    applyGradients(optimizer, full);
    const c = tf.sum(tf.cast(tf.equal(tf.argMax(predicted!, 1), tf.argMax(y, 1)), 'float32'));
    predicted!.dispose();
    return [value.dataSync()[0], c.dataSync()[0]];
  });
}

/** The online teachers' soft targets for a batch (null without them), for the native step (tfjs's step makes its own). */
function onlineSofts(loss: EpochLoop['lossOptions'], batch: { xs: Float32Array; n: number }): Float32Array | null {
  if (!loss.online?.length) return null;
  const native = nativeSoftTargets(loss.online, batch.xs, batch.n, loss.temperature);
  if (native) return native;
  return tf.tidy(
    () =>
      onlineSoftTargets(
        loss.online!,
        tf.tensor4d(batch.xs, [batch.n, IMAGE_SIZE, IMAGE_SIZE, 1]),
        loss.temperature,
      ).dataSync() as Float32Array,
  );
}

/** tfjs's step with the hooks around it: beforeStep, the gradient, beforeApply, the update, afterStep. */
function tfjsStep(l: EpochLoop, trained: tf.Variable[], batch: Parameters<typeof optimizerStep>[4], step: number): [number, number] {
  for (const h of l.hooks) h.beforeStep?.(step);
  const r = optimizerStep(l.model, l.optimizer, l.vars, trained, batch, l.lossOptions, () => {
    for (const h of l.hooks) h.beforeApply?.(step);
  });
  for (const h of l.hooks) h.afterStep?.(step);
  return r;
}

/** What an epoch's batches need from the run (fit.ts builds it once). */
export interface EpochLoop {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** Every trainable variable, and those that take gradients (the head's alone while the body is frozen). */
  vars: tf.Variable[];
  headVars: tf.Variable[];
  trainSet: Dataset;
  options: TrainOptions;
  state: LoopState;
  hooks: StepHook[];
  teacher: Float32Array | null;
  ema: Float32Array | null;
  /** `online`: teachers run on each (augmented) batch, whose softened mean probabilities are the soft targets. */
  lossOptions: { weights: tf.Tensor | null; alpha: number; temperature: number; online?: tf.LayersModel[] };
  batches: number;
  emit: (e: Extract<TrainEvent, { type: 'batch' }>) => void;
  shouldStop?: () => boolean;
  /**
   * The native whole-step executor (train/native-step.ts chose it), or null for tfjs's step. Its arena holds the
   * weights while an epoch's batches run: read from tfjs as they start, written back before runBatches returns.
   */
  native?: NativeTrainStep | null;
}

/**
 * The rest of epoch `epoch`'s batches (from state.batch, so a resumed epoch continues where it stopped).
 * Returns null at the epoch's end, 'nan' when the loss stops being finite, 'interrupted' when `shouldStop`
 * answers true before the last batch (the caller then saves the checkpoint).
 */
export async function runBatches(
  l: EpochLoop,
  epoch: number,
): Promise<{ stop: 'nan' | 'interrupted'; batch: number; loss?: number } | null> {
  const { options, trainSet } = l;
  const order = new Rng(deriveSeed(options.seed, epoch, 1)).shuffle([...Array(trainSet.size).keys()]);
  // Transfer with a frozen body: only the head's weights take gradients for the first freezeEpochs.
  const trained = epoch < options.freezeEpochs ? l.headVars : l.vars;
  const native = l.native ?? null;
  native?.train(trained === l.vars ? null : trained);
  native?.pull();
  try {
    return await batchLoop(l, epoch, order, trained, native);
  } finally {
    native?.push();
  }
}

async function batchLoop(
  l: EpochLoop,
  epoch: number,
  order: number[],
  trained: tf.Variable[],
  native: NativeTrainStep | null,
): Promise<{ stop: 'nan' | 'interrupted'; batch: number; loss?: number } | null> {
  const { options, state, hooks, trainSet, batches } = l;
  const bs = options.batchSize,
    nc = trainSet.classes.length;
  let t0 = performance.now();
  const recent = new RecentRate();
  for (let b = state.batch; b < batches; b++) {
    const idx = order.slice(b * bs, (b + 1) * bs);
    const batch = { ...trainingBatch(trainSet, idx, options, epoch, b, l.teacher), n: idx.length, nc };
    const step = state.step;
    if (options.lrPerStep) setLearningRate(l.optimizer, lrForStep(options, state.schedule, epoch, b, batches));
    const [lossValue, correct] = native
      ? nativeStepWithHooks(native, { ...batch, softs: batch.softs ?? onlineSofts(l.lossOptions, batch) }, hooks, step)
      : tfjsStep(l, trained, batch, step);
    if (l.ema) updateEma(l.ema, l.model, emaDecay(options.ema, step), native?.weightViews());
    if (!Number.isFinite(lossValue)) return { stop: 'nan', batch: b, loss: lossValue };
    const now = performance.now();
    const p = state.partial;
    const seconds = (now - t0) / 1000;
    p.seconds += seconds;
    recent.add(idx.length, seconds);
    t0 = now;
    p.loss += lossValue * idx.length;
    p.correct += correct;
    p.seen += idx.length;
    state.step++;
    state.batch = b + 1;
    // the progress line's rate (and ETA) from recent steps: one suspended step does not skew the rest of the epoch;
    // the epoch's metrics keep its wall time (endEpoch)
    const rate = recent.perSecond();
    l.emit({ type: 'batch', epoch, batch: b + 1, batches, loss: p.loss / p.seen, acc: p.correct / p.seen, imagesPerSecond: rate });
    // Let the event loop run (signal handlers: Ctrl-C must answer within a batch, not at the epoch's end).
    await new Promise((resolve) => setImmediate(resolve));
    if (l.shouldStop?.() && b + 1 < batches) return { stop: 'interrupted', batch: b };
  }
  return null;
}

/**
 * An epoch's end: validation (of the EMA weights with --ema), its metrics line, best/ and last/ saved, and
 * the loop state advanced to the next epoch (the caller then writes the checkpoint).
 */
export async function endEpoch(
  model: tf.LayersModel,
  valSet: Dataset | null,
  state: LoopState,
  options: TrainOptions,
  o: { out: string; lr: number; ema: Float32Array | null; hooks: StepHook[]; meta: () => FerMetadata },
): Promise<{ metrics: EpochMetrics; best: boolean }> {
  const p = state.partial;
  let valLoss: number | null = null,
    valAcc: number | null = null;
  // With --ema, the averaged weights are what is validated and saved (the raw ones keep training).
  const raw = o.ema ? swapWeights(model, o.ema) : null;
  if (valSet) ({ loss: valLoss, acc: valAcc } = evaluateLossAcc(model, valSet));
  const metrics: EpochMetrics = {
    epoch: state.epoch + 1,
    loss: p.loss / p.seen,
    acc: p.correct / p.seen,
    valLoss,
    valAcc,
    lr: o.lr,
    seconds: p.seconds,
    imagesPerSecond: p.seen / p.seconds,
    ...Object.assign({}, ...o.hooks.map((h) => h.metrics?.() ?? {})),
  };
  appendOutput(path.join(o.out, 'metrics.jsonl'), JSON.stringify(metrics) + '\n'); // atomic, never through a link
  faultPoint('epoch:metrics');
  const monitored = valAcc ?? metrics.acc;
  const best = monitored > state.bestValAcc;
  if (best) {
    state.bestValAcc = monitored;
    state.bestEpoch = state.epoch + 1;
    await saveModel(model, path.join(o.out, 'best'), o.meta());
  }
  await saveModel(model, path.join(o.out, 'last'), o.meta());
  if (raw) swapWeights(model, raw);
  state.schedule = updateSchedule(options, state.schedule, monitored);
  state.epoch += 1;
  state.batch = 0;
  state.partial = { loss: 0, correct: 0, seen: 0, seconds: 0 };
  return { metrics, best };
}

/** Mean cross-entropy and accuracy of a model on a dataset (inference mode). */
export function evaluateLossAcc(model: tf.LayersModel, ds: Dataset): { loss: number; acc: number } {
  const probs = predictProbs(model, ds.images, ds.size);
  let loss = 0;
  const nc = probs.length / ds.size;
  for (let i = 0; i < ds.size; i++) loss -= Math.log(Math.max(probs[i * nc + ds.labels[i]], 1e-7));
  return { loss: loss / ds.size, acc: top1Accuracy(probs, ds.labels, nc) };
}
