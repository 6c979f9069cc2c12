/**
 * Checkpoints: model, optimizer slots and loop state in one directory, replaced atomically (filled under
 * a temporary name, then renamed), so an interrupted write never leaves a broken checkpoint.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readJsonFile, replaceDir } from '../io/files.js';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { adamPowers } from '../engine/tfjs-internals.js';
import { loadModel, saveModel, type FerMetadata } from '../model/io.js';
import { ModelError } from '../errors.js';
import type { ScheduleState } from './schedule.js';
import type { TrainOptions } from './options.js';

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
  mkdirSync(tmp, { recursive: true });
  await saveModel(model, path.join(tmp, 'model'), meta);
  const slots = await optimizer.getWeights();
  const manifest = slots.map((s) => ({ name: s.name, shape: s.tensor.shape, dtype: s.tensor.dtype }));
  const data = Buffer.concat(slots.map((s) => Buffer.from((s.tensor.dataSync() as Float32Array).slice().buffer)));
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
  const state = readJsonFile(stateFile, 'checkpoint') as LoopState;
  const { model, meta } = await loadModel(path.join(dir, 'model'));
  const { slots: manifest, powers } = readJsonFile(path.join(dir, 'optimizer.json'), 'checkpoint') as {
    slots: { name: string; shape: number[]; dtype: 'float32' }[];
    powers: [number, number] | null;
  };
  const bin = readFileSync(path.join(dir, 'optimizer.bin'));
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

/** Restores optimizer slots and Adam's running β powers exactly. */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  slots: { name: string; tensor: tf.Tensor }[],
  powers: [number, number] | null,
): Promise<void> {
  if (slots.length === 0) return;
  await optimizer.setWeights(slots);
  const acc = adamPowers(optimizer);
  if (powers && acc.accBeta1 && acc.accBeta2) {
    acc.accBeta1.assign(tf.scalar(powers[0]));
    acc.accBeta2.assign(tf.scalar(powers[1]));
  }
}
