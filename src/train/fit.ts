/**
 * The training loop: Adam on softmax cross-entropy (+ the layers' L2 terms), seeded shuffles and
 * augmentations derived per (seed, epoch, batch) so that a resumed run replays exactly what an
 * uninterrupted one would, validation each epoch, best/last models, metrics.jsonl, and a checkpoint at
 * every epoch end (and on interrupt). Hooks let pruning and quantization act around each step.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { acquireLock, faultPoint, parseOrNull, recoverDir, writeFileAtomic } from '../io/files.js';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { setLearningRate, variableOf } from '../engine/tfjs-internals.js';
import { UsageError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { makeBatch } from '../data/augment.js';
import { buildModel } from '../model/mini-xception.js';
import { headLayer, type TransplantReport } from '../model/transplant.js';
import { defaultMetadata, saveModel, type FerMetadata } from '../model/io.js';
import { Rng, deriveSeed } from '../util/rng.js';
import type { EpochMetrics, StepHook } from './types.js';
import { IMAGE_SIZE } from '../data/classes.js';
import { CHECKPOINT_LAST_FILE, readCheckpoint, restoreOptimizer, writeCheckpoint, type CheckpointArrays, type LoopState } from './checkpoint.js';
import { initialSchedule, lrForEpoch, updateSchedule } from './schedule.js';
import { trainOptionsSchema, type TrainOptions } from './options.js';
import { checkClasses, concatWeights, initModel, makeOptimizer, swapWeights, updateEma } from './setup.js';
import { eraseBatch, emaDecay, mixBatch } from './recipe.js';
import { predictProbs } from '../eval/predict.js';
import { writeCurves } from './curves.js';
import { top1Accuracy } from '../eval/metrics.js';
import { loadOrComputeTeacher, softenProbs, trainingLoss } from './distill.js';
import type { RevivedLayer } from './revive.js';

export type { EpochMetrics, StepHook } from './types.js';
export { concatWeights, makeOptimizer, swapWeights } from './setup.js';

export type TrainEvent =
  | { type: 'start'; epochs: number; startEpoch: number; batches: number; resumed: boolean; revived?: RevivedLayer[]; transplanted?: TransplantReport }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; acc: number; imagesPerSecond: number }
  | { type: 'epoch'; metrics: EpochMetrics; best: boolean }
  | { type: 'stop'; reason: 'done' | 'early-stopping' | 'interrupted' | 'nan'; epoch: number; message: string }
  | { type: 'note'; message: string };

export interface TrainRunOptions {
  out: string;
  resume?: boolean;
  hooks?: StepHook[];
  onEvent?: (e: TrainEvent) => void;
  /** Written as run.json (with the options) when a new run starts: what `fer train --resume` reads. */
  runJson?: Record<string, unknown>;
  /** Polled between batches; true stops after writing a checkpoint. */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  history: EpochMetrics[];
  bestValAcc: number;
  bestEpoch: number;
  stopReason: 'done' | 'early-stopping' | 'interrupted' | 'nan';
  outDir: string;
}

export function classWeightsFor(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c > 0 ? total / (counts.length * c) : 0));
}

/**
 * Trains in a run directory that this process holds locked for the whole run (io/files.ts acquireLock: a
 * second run on the same directory is refused, a dead one's lock taken over). Before anything else, the
 * directories an interrupted write may have left half-swapped (checkpoint/, best/, last/) are recovered.
 */
export async function train(
  trainSet: Dataset, valSet: Dataset | null, options: TrainOptions, run: TrainRunOptions,
): Promise<TrainResult> {
  mkdirSync(run.out, { recursive: true });
  const lock = acquireLock(run.out);
  const emit = run.onEvent ?? (() => {});
  try {
    if (lock.note) emit({ type: 'note', message: lock.note });
    for (const [dir, last] of [['checkpoint', CHECKPOINT_LAST_FILE], ['best', 'model.json'], ['last', 'model.json']]) {
      const note = recoverDir(path.join(run.out, dir), last);
      if (note) emit({ type: 'note', message: note });
    }
    return await trainLocked(trainSet, valSet, options, run);
  } finally {
    lock.release();
  }
}

/** metrics.jsonl as of a checkpoint: one line per finished epoch (a line written after it is dropped). */
function truncateMetrics(file: string, epochs: number): void {
  if (!existsSync(file)) return;
  const byEpoch = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = parseOrNull(line) as { epoch?: number } | null; // null: a torn last line of a killed run
    if (typeof m?.epoch === 'number' && m.epoch <= epochs) byEpoch.set(m.epoch, line);
  }
  writeFileAtomic(file, [...byEpoch.keys()].sort((a, b) => a - b).map((e) => byEpoch.get(e)! + '\n').join(''));
}

/** What a run starts from: a checkpoint (resumed), or the --init model or a fresh network (new). */
interface RunStart {
  model: tf.LayersModel;
  meta: FerMetadata;
  state: LoopState;
  options: TrainOptions;
  resumed: boolean;
  revived?: RevivedLayer[];
  transplanted?: TransplantReport;
  arrays: CheckpointArrays;
  slots?: { slots: { name: string; tensor: tf.Tensor }[]; powers: [number, number] | null };
}

async function startRun(trainSet: Dataset, options: TrainOptions, run: TrainRunOptions, emit: (e: TrainEvent) => void): Promise<RunStart> {
  const out = run.out, ckptDir = path.join(out, 'checkpoint');
  // A run killed before its first checkpoint resumes from the beginning (its options are in run.json).
  const resumed = !!run.resume && existsSync(ckptDir);
  if (run.resume && !resumed) emit({ type: 'note', message: `no checkpoint in ${out} yet: starting its first epoch again` });
  if (resumed) {
    const ck = await readCheckpoint(ckptDir);
    // Options stored before a recipe option existed take its default (off).
    const stored = trainOptionsSchema.parse(ck.state.options);
    ck.state.options = stored;
    truncateMetrics(path.join(out, 'metrics.jsonl'), ck.state.epoch);
    return { model: ck.model, meta: ck.meta, state: ck.state, options: stored, resumed, arrays: ck.arrays, slots: { slots: ck.slots, powers: ck.powers } };
  }
  if (existsSync(ckptDir)) throw new UsageError(`train: ${out} already holds a run`, { hint: 'use --resume to continue it, or another --out' });
  let model: tf.LayersModel, meta: FerMetadata, revived: RevivedLayer[] | undefined, transplanted: TransplantReport | undefined;
  if (options.init) {
    ({ model, meta, transplanted, revived } = await initModel(options, trainSet.classes));
  } else {
    const arch = options.arch ?? 'mini-xception';
    model = buildModel(arch, { seed: options.seed, l2: options.l2, numClasses: trainSet.classes.length });
    meta = defaultMetadata(arch, trainSet.classes);
  }
  const state: LoopState = {
    epoch: 0, batch: 0, step: 0, schedule: initialSchedule(options), bestValAcc: -1, bestEpoch: -1,
    partial: { loss: 0, correct: 0, seen: 0, seconds: 0 }, options,
  };
  writeFileSync(path.join(out, 'metrics.jsonl'), '');
  if (run.runJson && !run.resume) writeFileAtomic(path.join(out, 'run.json'), JSON.stringify({ ...run.runJson, options }, null, 1));
  return { model, meta, state, options, resumed, revived, transplanted, arrays: {} };
}

/**
 * Batch b of an epoch as the network trains on it: the augmented images, the (smoothed) one-hot labels and
 * the teacher's soft targets, then random erasing and mixup/cutmix, each seeded from (seed, epoch, b).
 */
function trainingBatch(
  trainSet: Dataset, idx: number[], options: TrainOptions, epoch: number, b: number, teacher: Float32Array | null,
): { xs: Float32Array; ys: Float32Array; softs: Float32Array | null } {
  const nc = trainSet.classes.length, s = options.labelSmoothing;
  const aug = { flip: options.flip, rotation: options.rotation, zoom: options.zoom, shift: options.shift };
  const xs = makeBatch(trainSet.images, idx, aug, new Rng(deriveSeed(options.seed, epoch, 2, b)));
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
function optimizerStep(
  model: tf.LayersModel, optimizer: tf.Optimizer, vars: tf.Variable[], trained: tf.Variable[],
  batch: { xs: Float32Array; ys: Float32Array; softs: Float32Array | null; n: number; nc: number },
  loss: { weights: tf.Tensor | null; alpha: number; temperature: number }, beforeApply: () => void,
): [number, number] {
  return tf.tidy(() => {
    const { n, nc } = batch;
    const x = tf.tensor4d(batch.xs, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const y = tf.tensor2d(batch.ys, [n, nc]);
    const soft = batch.softs ? tf.tensor2d(batch.softs, [n, nc]) : null;
    let predicted: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      predicted = tf.keep(p);
      let l: tf.Tensor = trainingLoss(y, p, { weights: loss.weights, soft, alpha: loss.alpha, temperature: loss.temperature });
      for (const r of model.calculateLosses()) l = tf.add(l, r);
      return l as tf.Scalar;
    }, trained);
    beforeApply();
    // tfjs's optimizers keep their slots by a gradient's position in the map: with a frozen body every
    // variable still gets one (zeros), in the same order, so the slots line up when the body thaws.
    const full = trained === vars ? grads : Object.fromEntries(vars.map((v) => [v.name, grads[v.name] ?? tf.zerosLike(v)]));
    optimizer.applyGradients(full as never);
    const c = tf.sum(tf.cast(tf.equal(tf.argMax(predicted!, 1), tf.argMax(y, 1)), 'float32'));
    predicted!.dispose();
    return [value.dataSync()[0], c.dataSync()[0]];
  });
}

async function trainLocked(
  trainSet: Dataset, valSet: Dataset | null, requested: TrainOptions, run: TrainRunOptions,
): Promise<TrainResult> {
  const out = run.out;
  const ckptDir = path.join(out, 'checkpoint');
  const hooks = run.hooks ?? [];
  const emit = run.onEvent ?? (() => {});
  const { model, meta, state, options, resumed, revived, transplanted, arrays, slots } = await startRun(trainSet, requested, run, emit);
  const optimizer = makeOptimizer(options);
  if (slots) await restoreOptimizer(optimizer, slots.slots, slots.powers);
  const nc = trainSet.classes.length;
  const classNote = checkClasses(model, meta, trainSet, valSet);
  if (classNote && !resumed) emit({ type: 'note', message: classNote });
  const bs = options.batchSize;
  // The last partial batch is dropped (a different one each epoch, as the order is reshuffled): every
  // step then has the same shape, so BN statistics never come from a handful of images.
  const batches = Math.max(1, Math.floor(trainSet.size / bs));
  for (const h of hooks) h.init?.(model, batches * options.epochs, state.extra?.[h.name]);
  const vars = model.trainableWeights.map(variableOf);
  const headVars = headLayer(model).trainableWeights.map(variableOf);
  const cw = options.classWeights ? tf.tensor1d(classWeightsFor(trainSet.counts)) : null;
  const teacher = options.teacher.length
    ? softenProbs(await loadOrComputeTeacher(out, options.teacher, trainSet, options.teacherTta), options.temperature, nc)
    : null;
  // EMA of every weight (batch-norm statistics included), concatenated; validated and saved in their place.
  const ema = options.ema > 0 ? (arrays.ema ?? concatWeights(model)) : null;
  if (ema && ema.length !== model.weights.reduce((a, w) => a + w.read().size, 0)) throw new UsageError(`train: the checkpoint's EMA does not match the model`);
  const history: EpochMetrics[] = [];
  emit({ type: 'start', epochs: options.epochs, startEpoch: state.epoch, batches, resumed, revived, transplanted });

  const metaWithHooks = (): FerMetadata =>
    hooks.reduce<FerMetadata>((m, h) => h.metadata?.(m) ?? m, { ...meta, trainedWith: { ...options } });
  const saveCheckpoint = () => {
    state.extra = Object.fromEntries(hooks.filter((h) => h.state).map((h) => [h.name, h.state!()]));
    return writeCheckpoint(ckptDir, model, metaWithHooks(), optimizer, state, ema ? { ema } : {});
  };
  const lossOptions = { weights: cw, alpha: options.distillAlpha, temperature: options.temperature };

  let stopReason: TrainResult['stopReason'] = 'done';
  outer: while (state.epoch < options.epochs) {
    const epoch = state.epoch;
    const lr = lrForEpoch(options, state.schedule, epoch);
    setLearningRate(optimizer, lr);
    const order = new Rng(deriveSeed(options.seed, epoch, 1)).shuffle([...Array(trainSet.size).keys()]);
    // Transfer with a frozen body: only the head's weights take gradients for the first freezeEpochs.
    const trained = epoch < options.freezeEpochs ? headVars : vars;
    let t0 = performance.now();
    for (let b = state.batch; b < batches; b++) {
      const idx = order.slice(b * bs, (b + 1) * bs);
      const batch = { ...trainingBatch(trainSet, idx, options, epoch, b, teacher), n: idx.length, nc };
      const step = state.step;
      for (const h of hooks) h.beforeStep?.(step);
      const [lossValue, correct] = optimizerStep(model, optimizer, vars, trained, batch, lossOptions, () => {
        for (const h of hooks) h.beforeApply?.(step);
      });
      for (const h of hooks) h.afterStep?.(step);
      if (ema) updateEma(ema, model, emaDecay(options.ema, step));
      if (!Number.isFinite(lossValue)) {
        stopReason = 'nan';
        emit({ type: 'stop', reason: 'nan', epoch, message: `loss became ${lossValue} at epoch ${epoch + 1} batch ${b + 1}; the last good checkpoint is kept` });
        break outer;
      }
      const now = performance.now();
      const p = state.partial;
      p.seconds += (now - t0) / 1000;
      t0 = now;
      p.loss += lossValue * idx.length;
      p.correct += correct;
      p.seen += idx.length;
      state.step++;
      state.batch = b + 1;
      emit({ type: 'batch', epoch, batch: b + 1, batches, loss: p.loss / p.seen, acc: p.correct / p.seen, imagesPerSecond: p.seen / p.seconds });
      // Let the event loop run (signal handlers: Ctrl-C must answer within a batch, not at the epoch's end).
      await new Promise((resolve) => setImmediate(resolve));
      if (run.shouldStop?.() && b + 1 < batches) {
        await saveCheckpoint();
        stopReason = 'interrupted';
        emit({ type: 'stop', reason: 'interrupted', epoch, message: `interrupted at epoch ${epoch + 1}, batch ${b + 1}/${batches}; checkpoint saved, continue with --resume` });
        break outer;
      }
    }
    const { metrics, best } = await endEpoch(model, valSet, state, options, { out, lr, ema, hooks, meta: metaWithHooks });
    history.push(metrics);
    await saveCheckpoint();
    faultPoint('epoch:checkpoint');
    await writeCurves(out).catch(() => undefined);
    emit({ type: 'epoch', metrics, best });
    if (options.patience > 0 && state.epoch - state.bestEpoch >= options.patience) {
      stopReason = 'early-stopping';
      emit({ type: 'stop', reason: 'early-stopping', epoch, message: `no val-accuracy gain for ${options.patience} epochs; best ${(state.bestValAcc * 100).toFixed(2)}% at epoch ${state.bestEpoch}` });
      break;
    }
    if (run.shouldStop?.()) {
      stopReason = 'interrupted';
      emit({ type: 'stop', reason: 'interrupted', epoch, message: `interrupted after epoch ${epoch + 1}; checkpoint saved, continue with --resume` });
      break;
    }
  }
  if (stopReason === 'done') emit({ type: 'stop', reason: 'done', epoch: state.epoch, message: `done: best ${valSet ? "val" : "train (no --val)"} accuracy ${(state.bestValAcc * 100).toFixed(2)}% at epoch ${state.bestEpoch}` });
  cw?.dispose();
  model.dispose();
  optimizer.dispose();
  return { history, bestValAcc: state.bestValAcc, bestEpoch: state.bestEpoch, stopReason, outDir: out };
}

/**
 * An epoch's end: validation (of the EMA weights with --ema), its metrics line, best/ and last/ saved, and
 * the loop state advanced to the next epoch (the caller then writes the checkpoint).
 */
async function endEpoch(
  model: tf.LayersModel, valSet: Dataset | null, state: LoopState, options: TrainOptions,
  o: { out: string; lr: number; ema: Float32Array | null; hooks: StepHook[]; meta: () => FerMetadata },
): Promise<{ metrics: EpochMetrics; best: boolean }> {
  const p = state.partial;
  let valLoss: number | null = null, valAcc: number | null = null;
  // With --ema, the averaged weights are what is validated and saved (the raw ones keep training).
  const raw = o.ema ? swapWeights(model, o.ema) : null;
  if (valSet) ({ loss: valLoss, acc: valAcc } = evaluateLossAcc(model, valSet));
  const metrics: EpochMetrics = {
    epoch: state.epoch + 1, loss: p.loss / p.seen, acc: p.correct / p.seen,
    valLoss, valAcc, lr: o.lr, seconds: p.seconds, imagesPerSecond: p.seen / p.seconds,
    ...Object.assign({}, ...o.hooks.map((h) => h.metrics?.() ?? {})),
  };
  appendFileSync(path.join(o.out, 'metrics.jsonl'), JSON.stringify(metrics) + '\n');
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
