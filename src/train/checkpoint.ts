/**
 * Checkpoints: model, optimizer slots and loop state in one directory, replaced atomically (filled under
 * a temporary name, then renamed), so an interrupted write never leaves a broken checkpoint.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile, replaceDir } from '../io/files.js';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { adamPowers } from '../engine/tfjs-internals.js';
import { loadModel, saveModel, type FerMetadata } from '../model/io.js';
import { ModelError } from '../errors.js';
import type { ScheduleState } from './schedule.js';
import { trainOptionsSchema, type TrainOptions } from './options.js';
import { CSV_USAGES } from '../data/dataset.js';
import { makeDirs } from '../io/make-dirs.js';

export interface LoopState {
  /** Next epoch to run, and the next batch within it (0 at an epoch boundary). */
  epoch: number;
  batch: number;
  step: number;
  schedule: ScheduleState;
  bestValAcc: number;
  bestEpoch: number;
  /** Running sums of the epoch in progress (an interrupt mid-epoch resumes them). */
  partial: { loss: number; correct: number; seen: number; seconds: number };
  options: TrainOptions;
  /** Pruning masks state etc. */
  extra?: Record<string, unknown>;
}

/** Raw float32 arrays kept beside the model in a checkpoint (e.g. `ema`: the EMA of every weight, concatenated). */
export type CheckpointArrays = Record<string, Float32Array>;

export async function writeCheckpoint(
  dir: string,
  model: tf.LayersModel,
  meta: FerMetadata,
  optimizer: tf.Optimizer,
  state: LoopState,
  arrays: CheckpointArrays = {},
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  makeDirs(tmp);
  await saveModel(model, path.join(tmp, 'model'), meta);
  const slots = await optimizer.getWeights();
  const manifest = slots.map((s) => ({ name: s.name, shape: s.tensor.shape, dtype: s.tensor.dtype }));
  const data = Buffer.concat(slots.map((s) => Buffer.from((s.tensor.dataSync() as Float32Array).slice().buffer)));
  // The slots are the optimizer's own variables, except the iteration count, a scalar made for this call.
  for (const s of slots) if (!(s.tensor instanceof tf.Variable)) s.tensor.dispose();
  // Adam keeps β^t as running products; setWeights would recompute them with pow(), which rounds
  // differently, so a resumed run would drift from an uninterrupted one. Store them as they are.
  const acc = adamPowers(optimizer);
  const powers = acc.accBeta1 && acc.accBeta2 ? [acc.accBeta1.dataSync()[0], acc.accBeta2.dataSync()[0]] : null;
  writeFileSync(path.join(tmp, 'optimizer.json'), JSON.stringify({ slots: manifest, powers }));
  writeFileSync(path.join(tmp, 'optimizer.bin'), data);
  for (const [name, a] of Object.entries(arrays))
    writeFileSync(path.join(tmp, `${name}.f32`), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  writeFileSync(path.join(tmp, CHECKPOINT_LAST_FILE), JSON.stringify(state, null, 1));
  replaceDir(tmp, dir);
}

const count = z.number().int().nonnegative();
const finite = z.number().finite();

/** state.json as fer writes it; a hand-edited value outside it is a bad run (exit 3), never trained on. */
export const loopStateSchema = z
  .object({
    epoch: count,
    batch: count,
    step: count,
    schedule: z.object({ lr: finite.nonnegative(), best: z.number().nullable(), wait: count }).passthrough(),
    bestValAcc: z.number().min(-1).max(1),
    bestEpoch: z.number().int().min(-1),
    partial: z.object({ loss: finite, correct: count, seen: count, seconds: finite.nonnegative() }),
    options: trainOptionsSchema,
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.epoch > s.options.epochs) ctx.addIssue({ code: 'custom', path: ['epoch'], message: `past the run's ${s.options.epochs} epochs` });
    if (s.bestEpoch > s.epoch) ctx.addIssue({ code: 'custom', path: ['bestEpoch'], message: 'after the current epoch' });
    if (s.partial.correct > s.partial.seen) ctx.addIssue({ code: 'custom', path: ['partial', 'correct'], message: 'more than seen' });
  });

/** optimizer.json: the slots' names and shapes (their bytes in optimizer.bin, in order) and Adam's powers. */
const optimizerSchema = z.object({
  slots: z.array(z.object({ name: z.string(), shape: z.array(count.max(2 ** 31)), dtype: z.enum(['float32', 'int32']) })),
  powers: z.tuple([finite, finite]).nullable(),
});

/** A file of a run that zod rejected, as one line naming the file and the field (exit 3). */
export function badRunFile(file: string, e: z.ZodError): ModelError {
  const i = e.issues[0];
  const field = i.path.length ? i.path.join('.') : '(the whole file)';
  return new ModelError(`train: ${file}: ${field}: ${i.message}`, {
    hint: 'a run file was edited or damaged; start a new run, e.g. with --init RUN/last',
  });
}

/** Reads a run's JSON file and checks it against its schema (exit 3 naming the file and field). */
export function readRunFile<T extends z.ZodTypeAny>(file: string, schema: T): z.infer<T> {
  const r = schema.safeParse(readJsonFile(file, 'checkpoint'));
  if (!r.success) throw badRunFile(file, r.error);
  return r.data;
}

/** What `fer train --resume` reads back from run.json (a value of another type: a damaged run, exit 3). */
export const resumeRunSchema = z
  .object({
    data: z.string().optional(),
    val: z.string().optional(),
    usage: z.enum(CSV_USAGES).optional(),
    valUsage: z.enum(CSV_USAGES).optional(),
    detect: z.string().optional(),
    multiFace: z.string().optional(),
    /** The folder the run started in: its relative paths are relative to it. */
    cwd: z.string().optional(),
    options: z.record(z.string(), z.unknown()),
  })
  .passthrough();

/** Written last into a checkpoint: a temporary checkpoint with it is complete (io/files.ts recoverDir). */
export const CHECKPOINT_LAST_FILE = 'state.json';

export async function readCheckpoint(dir: string): Promise<{
  model: tf.LayersModel;
  meta: FerMetadata;
  slots: { name: string; tensor: tf.Tensor }[];
  powers: [number, number] | null;
  state: LoopState;
  arrays: CheckpointArrays;
}> {
  const stateFile = path.join(dir, 'state.json');
  if (!existsSync(stateFile)) throw new ModelError(`train: no checkpoint in ${dir} (missing state.json)`);
  const state = readRunFile(stateFile, loopStateSchema) as LoopState;
  const optimizerFile = path.join(dir, 'optimizer.json');
  const { slots: manifest, powers } = readRunFile(optimizerFile, optimizerSchema);
  // optimizer.bin's size against the slots' shapes, before it is read.
  const binFile = path.join(dir, 'optimizer.bin');
  const expected = manifest.reduce((a, m) => a + m.shape.reduce((p, d) => p * d, 4), 0);
  const size = existsSync(binFile) ? statSync(binFile).size : -1;
  if (size !== expected) {
    throw new ModelError(
      `train: ${binFile} holds ${size < 0 ? 'nothing (missing)' : `${size} bytes`}; ${optimizerFile} describes ${expected}`,
    );
  }
  const { model, meta } = await loadModel(path.join(dir, 'model'));
  const bin = readFileSync(binFile);
  let off = 0;
  const slots = manifest.map((m) => {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(bin.buffer.slice(bin.byteOffset + off, bin.byteOffset + off + n * 4));
    off += n * 4;
    return { name: m.name, tensor: tf.tensor(values, m.shape, m.dtype) };
  });
  const arrays: CheckpointArrays = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.f32'))) {
    const b = readFileSync(path.join(dir, f));
    arrays[f.slice(0, -4)] = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  return { model, meta, slots, powers, state, arrays };
}

/** Restores optimizer slots and Adam's running β powers exactly. Frees `slots` (the optimizer keeps its own references). */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  slots: { name: string; tensor: tf.Tensor }[],
  powers: [number, number] | null,
): Promise<void> {
  if (slots.length === 0) return;
  await optimizer.setWeights(slots);
  for (const s of slots) s.tensor.dispose();
  const { accBeta1, accBeta2 } = adamPowers(optimizer);
  if (powers && accBeta1 && accBeta2) {
    tf.tidy(() => {
      accBeta1.assign(tf.scalar(powers[0]));
      accBeta2.assign(tf.scalar(powers[1]));
    });
  }
}
