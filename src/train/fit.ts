/**
 * The training loop: Adam on softmax cross-entropy (+ the layers' L2 terms), seeded shuffles and
 * augmentations derived per (seed, epoch, batch) so that a resumed run replays exactly what an
 * uninterrupted one would, validation each epoch, best/last models, metrics.jsonl, and a checkpoint at
 * every epoch end (and on interrupt). Hooks let pruning and quantization act around each step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { acquireLock, faultPoint, parseOrNull, recoverDir, writeFileAtomic } from '../io/files.js';
import { checkOutputFile } from '../io/output.js';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { setLearningRate, variableOf } from '../engine/tfjs-internals.js';
import { tuneAllocatorForTraining } from '../engine/native/backend.js';
import { ModelError, UsageError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { buildModel } from '../model/mini-xception.js';
import { headLayer, type TransplantReport } from '../model/transplant.js';
import { defaultMetadata, type FerMetadata } from '../model/io.js';
import { frequencies } from '../data/prior.js';
import type { EpochMetrics, StepHook, TrainEvent } from './types.js';
import {
  CHECKPOINT_LAST_FILE,
  readCheckpoint,
  restoreOptimizer,
  writeCheckpoint,
  type CheckpointArrays,
  type LoopState,
} from './checkpoint.js';
import { initialSchedule, lrForEpoch } from './schedule.js';
import { trainOptionsSchema, type TrainOptions, type TrainOptionsInput } from './options.js';
import { trainingHooks } from './hooks/index.js';
import { checkClasses, concatWeights, initModel, makeOptimizer } from './setup.js';
import { endEpoch, runBatches, type EpochLoop } from './epoch.js';
import { writeCurves } from './curves.js';
import { loadOnlineTeachers, loadOrComputeTeacher, softenProbs } from './distill.js';
import type { RevivedLayer } from './revive.js';
import { chooseTrainStep, recordTrainStep } from './native-step.js';
import { makeDirs } from '../io/make-dirs.js';
import { parseOptions } from '../util/options.js';

export type { EpochMetrics, StepHook, TrainEvent } from './types.js';

export interface TrainRunOptions {
  out: string;
  resume?: boolean;
  /** Default: the hooks the options ask for (train/hooks/index.ts trainingHooks: pruning, QAT). */
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

/**
 * A saved model's metadata: how it was trained, and the class prior its probabilities carry (what `--prior`
 * moves them from): its training set's class frequencies, or uniform when the loss weighs each class by its
 * inverse frequency.
 */
function runMetadata(meta: FerMetadata, options: TrainOptions, trainSet: Dataset): FerMetadata {
  const trainPrior = frequencies(
    options.classWeights ? trainSet.classes.map(() => 1) : trainSet.counts,
    trainSet.classes,
    options.labelSmoothing,
  );
  return { ...meta, trainedWith: { ...options }, trainPrior };
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
  trainSet: Dataset,
  valSet: Dataset | null,
  optionsIn: TrainOptionsInput,
  run: TrainRunOptions,
): Promise<TrainResult> {
  // a library caller's partial options, at fer train's defaults; their paths absolute (a resume reads them from anywhere)
  const options = withAbsolutePaths(parseOptions(trainOptionsSchema, optionsIn, 'train'));
  makeDirs(run.out);
  const lock = acquireLock(run.out);
  const emit = run.onEvent ?? (() => {});
  // glibc keeps freed tensor-sized blocks mapped for the run (process-wide: set here, not on loading the addon).
  tuneAllocatorForTraining();
  try {
    if (lock.note) emit({ type: 'note', message: lock.note });
    for (const [dir, last] of [
      ['checkpoint', CHECKPOINT_LAST_FILE],
      ['best', 'model.json'],
      ['last', 'model.json'],
    ]) {
      const note = recoverDir(path.join(run.out, dir), last);
      if (note) emit({ type: 'note', message: note });
    }
    // The files a run writes beside its folders: never a link, nor a file fer did not write (exit 2 now,
    // not at the first epoch's end).
    for (const f of ['run.json', 'metrics.jsonl', 'curves.png', 'teacher.f32']) checkOutputFile(path.join(run.out, f), 'train:');
    return await trainLocked(trainSet, valSet, options, run);
  } finally {
    lock.release();
  }
}

/** `p` absolute when it is relative and exists from the working folder (else as it is: a name, or a path not there). */
const abs = (p: string) => (!path.isAbsolute(p) && existsSync(p) ? path.resolve(p) : p);

/**
 * The options' paths (init, classMap, teachers) made absolute where they exist from the working folder: run.json and
 * the checkpoint keep them, and `--resume` from another folder read them relative to that one. A committed teacher's
 * name, or a path that is not there, stays as it is.
 */
function withAbsolutePaths(o: TrainOptions): TrainOptions {
  return {
    ...o,
    ...(o.init ? { init: abs(o.init) } : {}),
    ...(o.classMap ? { classMap: abs(o.classMap) } : {}),
    teacher: o.teacher.map(abs),
    ...(o.onlineTeacher ? { onlineTeacher: o.onlineTeacher.map(abs) } : {}),
  };
}

/** metrics.jsonl as of a checkpoint: one line per finished epoch (a line written after it is dropped). */
function truncateMetrics(file: string, epochs: number): void {
  if (!existsSync(file)) return;
  const byEpoch = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = parseOrNull(line) as { epoch?: number } | null; // null: a torn last line of a killed run
    if (typeof m?.epoch === 'number' && m.epoch <= epochs) byEpoch.set(m.epoch, line);
  }
  writeFileAtomic(
    file,
    [...byEpoch.keys()]
      .sort((a, b) => a - b)
      .map((e) => byEpoch.get(e)! + '\n')
      .join(''),
  );
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

/** run.json's `resumed` list gets this invocation (command, engine, threads, …) and where it picked up. */
function noteResume(out: string, runJson: Record<string, unknown>, state: LoopState): void {
  const file = path.join(out, 'run.json');
  const stored = parseOrNull(existsSync(file) ? readFileSync(file, 'utf8') : '') as Record<string, unknown> | null;
  if (!stored) return;
  const { started, ...rest } = runJson;
  const entry = { ...rest, at: { epoch: state.epoch + 1, batch: state.batch }, time: started };
  const resumed = Array.isArray(stored.resumed) ? stored.resumed : [];
  writeFileAtomic(file, JSON.stringify({ ...stored, resumed: [...resumed, entry] }, null, 1));
}

async function startRun(trainSet: Dataset, options: TrainOptions, run: TrainRunOptions, emit: (e: TrainEvent) => void): Promise<RunStart> {
  const out = run.out,
    ckptDir = path.join(out, 'checkpoint');
  // A run killed before its first checkpoint resumes from the beginning (its options are in run.json).
  const resumed = !!run.resume && existsSync(ckptDir);
  if (run.resume && !resumed) emit({ type: 'note', message: `no checkpoint in ${out} yet: starting its first epoch again` });
  if (resumed) {
    const ck = await readCheckpoint(ckptDir);
    // Options stored before a recipe option existed take its default (off); readCheckpoint checked them.
    const stored = trainOptionsSchema.parse(ck.state.options);
    ck.state.options = stored;
    truncateMetrics(path.join(out, 'metrics.jsonl'), ck.state.epoch);
    if (run.runJson) noteResume(out, run.runJson, ck.state);
    return {
      model: ck.model,
      meta: ck.meta,
      state: ck.state,
      options: stored,
      resumed,
      arrays: ck.arrays,
      slots: { slots: ck.slots, powers: ck.powers },
    };
  }
  if (existsSync(ckptDir))
    throw new UsageError(`train: ${out} already holds a run`, { hint: 'use --resume to continue it, or another --out' });
  let model: tf.LayersModel, meta: FerMetadata, revived: RevivedLayer[] | undefined, transplanted: TransplantReport | undefined;
  if (options.init) {
    ({ model, meta, transplanted, revived } = await initModel(options, trainSet.classes));
  } else {
    const arch = options.arch ?? 'mini-xception';
    model = buildModel(arch, { seed: options.seed, l2: options.l2, numClasses: trainSet.classes.length });
    meta = defaultMetadata(arch, trainSet.classes);
  }
  const state: LoopState = {
    epoch: 0,
    batch: 0,
    step: 0,
    schedule: initialSchedule(options),
    bestValAcc: -1,
    bestEpoch: -1,
    partial: { loss: 0, correct: 0, seen: 0, seconds: 0 },
    options,
  };
  writeFileAtomic(path.join(out, 'metrics.jsonl'), '');
  if (run.runJson && !run.resume)
    writeFileAtomic(path.join(out, 'run.json'), JSON.stringify({ generatedBy: 'fer', ...run.runJson, options }, null, 1));
  return { model, meta, state, options, resumed, revived, transplanted, arrays: {} };
}
/** A checkpoint's batch inside the epoch (a hand-edited one past it would make a NaN epoch): else exit 3. */
function checkResumedBatch(state: LoopState, batches: number, ckptDir: string): void {
  if (state.batch <= batches) return;
  throw new ModelError(`train: ${path.join(ckptDir, 'state.json')}: batch: ${state.batch}, past the epoch's ${batches} batches`, {
    hint: 'a run file was edited or damaged; start a new run, e.g. with --init RUN/last',
  });
}

/** Runs (by their event sinks) told that their curves.png could not be drawn. */
const curvesUndrawn = new WeakSet<object>();

/** The run's curves.png redrawn. The plot is a view of metrics.jsonl: a failure is said once a run, and training goes on. */
async function drawCurves(out: string, emit: (e: TrainEvent) => void): Promise<void> {
  await writeCurves(out).catch((e: unknown) => {
    if (!curvesUndrawn.has(emit))
      emit({ type: 'note', message: `curves.png not written: ${String((e as Error).message ?? e).split('\n')[0]}` });
    curvesUndrawn.add(emit);
  });
}

async function trainLocked(trainSet: Dataset, valSet: Dataset | null, requested: TrainOptions, run: TrainRunOptions): Promise<TrainResult> {
  const out = run.out;
  const ckptDir = path.join(out, 'checkpoint');
  const emit = run.onEvent ?? (() => {});
  const { model, meta, state, options, resumed, revived, transplanted, arrays, slots } = await startRun(trainSet, requested, run, emit);
  // A resumed run's hooks (pruning, fake quantization) are its checkpoint's options', whatever a caller asked now.
  const hooks = run.hooks ?? trainingHooks(options);
  const optimizer = makeOptimizer(options);
  if (slots) await restoreOptimizer(optimizer, slots.slots, slots.powers);
  const classNote = checkClasses(model, meta, trainSet, valSet, resumed ? [] : requested.classes);
  if (classNote && !resumed) emit({ type: 'note', message: classNote });
  // The last partial batch is dropped (a different one each epoch, as the order is reshuffled): every
  // step then has the same shape, so BN statistics never come from a handful of images.
  const batches = Math.max(1, Math.floor(trainSet.size / options.batchSize));
  checkResumedBatch(state, batches, ckptDir);
  for (const h of hooks) h.init?.(model, batches * options.epochs, state.extra?.[h.name]);
  const cw = options.classWeights ? tf.tensor1d(classWeightsFor(trainSet.counts)) : null;
  const offline = options.teacherMode === 'offline' ? options.teacher : [];
  const teacher = offline.length
    ? softenProbs(await loadOrComputeTeacher(out, offline, trainSet, options.teacherTta), options.temperature, trainSet.classes.length)
    : null;
  const online = await loadOnlineTeachers(options);
  // EMA of every weight (batch-norm statistics included), concatenated; validated and saved in their place.
  const ema = options.ema > 0 ? (arrays.ema ?? concatWeights(model)) : null;
  if (ema && ema.length !== model.weights.reduce((a, w) => a + w.read().size, 0))
    throw new UsageError(`train: the checkpoint's EMA does not match the model`);
  const loop: EpochLoop = {
    model,
    optimizer,
    vars: model.trainableWeights.map(variableOf),
    headVars: headLayer(model).trainableWeights.map(variableOf),
    trainSet,
    options,
    state,
    hooks,
    teacher,
    ema,
    lossOptions: { weights: cw, alpha: options.distillAlpha, temperature: options.temperature, online },
    batches,
    emit,
    shouldStop: run.shouldStop,
  };
  // The native whole step where it takes this run (else tfjs's), said in one note and in run.json.
  // Planned for the batches it will get: data smaller than --batch-size is one batch of all of it.
  const stepOptions = { ...options, batchSize: Math.min(options.batchSize, trainSet.size) };
  const choice = chooseTrainStep(model, optimizer, stepOptions, !!teacher || online.length > 0, cw?.dataSync());
  loop.native = choice.native;
  emit({ type: 'note', message: choice.message });
  recordTrainStep(out, resumed, choice.native ? 'native' : choice.message.replace(/^train: /, ''));
  const history: EpochMetrics[] = [];
  emit({ type: 'start', epochs: options.epochs, startEpoch: state.epoch, batches, resumed, revived, transplanted });

  const metaWithHooks = (): FerMetadata => hooks.reduce<FerMetadata>((m, h) => h.metadata?.(m) ?? m, runMetadata(meta, options, trainSet));
  const saveCheckpoint = () => {
    state.extra = Object.fromEntries(hooks.filter((h) => h.state).map((h) => [h.name, h.state!()]));
    return writeCheckpoint(ckptDir, model, metaWithHooks(), optimizer, state, ema ? { ema } : {});
  };
  const stop = (reason: TrainResult['stopReason'], epoch: number, message: string): TrainResult['stopReason'] => {
    emit({ type: 'stop', reason, epoch, message });
    return reason;
  };

  let stopReason: TrainResult['stopReason'] = 'done';
  while (state.epoch < options.epochs) {
    const epoch = state.epoch;
    const lr = lrForEpoch(options, state.schedule, epoch);
    setLearningRate(optimizer, lr);
    const early = await runBatches(loop, epoch);
    if (early?.stop === 'nan') {
      stopReason = stop(
        'nan',
        epoch,
        `loss became ${early.loss} at epoch ${epoch + 1} batch ${early.batch + 1}; the last good checkpoint is kept`,
      );
      break;
    }
    if (early?.stop === 'interrupted') {
      await saveCheckpoint();
      const where = `epoch ${epoch + 1}, batch ${early.batch + 1}/${batches}`;
      stopReason = stop('interrupted', epoch, `interrupted at ${where}; checkpoint saved, continue with --resume`);
      break;
    }
    const { metrics, best } = await endEpoch(model, valSet, state, options, { out, lr, ema, hooks, meta: metaWithHooks });
    history.push(metrics);
    await saveCheckpoint();
    faultPoint('epoch:checkpoint');
    await drawCurves(out, emit);
    emit({ type: 'epoch', metrics, best });
    if (options.patience > 0 && state.epoch - state.bestEpoch >= options.patience) {
      const bestAt = `best ${(state.bestValAcc * 100).toFixed(2)}% at epoch ${state.bestEpoch}`;
      stopReason = stop('early-stopping', epoch, `no val-accuracy gain for ${options.patience} epochs; ${bestAt}`);
      break;
    }
    if (run.shouldStop?.()) {
      stopReason = stop('interrupted', epoch, `interrupted after epoch ${epoch + 1}; checkpoint saved, continue with --resume`);
      break;
    }
  }
  if (stopReason === 'done') {
    const which = valSet ? 'val' : 'train (no --val)';
    stop('done', state.epoch, `done: best ${which} accuracy ${(state.bestValAcc * 100).toFixed(2)}% at epoch ${state.bestEpoch}`);
  }
  cw?.dispose();
  for (const t of online) t.dispose();
  model.dispose();
  optimizer.dispose();
  return { history, bestValAcc: state.bestValAcc, bestEpoch: state.bestEpoch, stopReason, outDir: out };
}
