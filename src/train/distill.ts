/**
 * Knowledge distillation (Hinton et al. 2015): the student also learns the teacher's softened class
 * probabilities, which say how alike the classes look for each image (a "fear" face that is half "sad"),
 * something one-hot labels cannot.
 *
 * The teacher (one model or an ensemble of several, each with test-time views) is run once over the plain
 * training images before training; its probabilities are kept in the run directory (`teacher.f32`) so that
 * a resumed run uses the same targets without the teacher. Augmented views of an image take the teacher's
 * targets for the plain image: the augmentations are small (flips, ±10° / ±10%), and it costs no teacher
 * forward pass per step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeOutput } from '../io/output.js';
import path from 'node:path';
import { resolveTeachers } from '../model/default.js';
import { loadModel } from '../model/io.js';
import type { TrainOptions } from './options.js';
import { tf } from '../engine/tf.js';
import { nativeInferenceFor, softmaxRows, type NativeInference } from '../engine/native/native-infer.js';
import { UsageError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { modelProbs } from '../eval/evaluate.js';
import type { Tta } from '../eval/probs.js';

export const TEACHER_FILE = 'teacher.f32';

/** Mean class probabilities of `models` (paths) over `ds`, each averaged over the views of `tta`. */
export async function teacherProbs(
  models: string[],
  ds: Pick<Dataset, 'images' | 'size'>,
  tta: Tta,
  classes: number,
): Promise<Float32Array> {
  const sum = new Float32Array(ds.size * classes);
  for (const m of models) {
    const p = await modelProbs(m, ds, tta);
    if (p.length !== sum.length)
      throw new UsageError(`train: --teacher ${m} outputs ${p.length / ds.size} classes, the training data has ${classes}`);
    for (let i = 0; i < sum.length; i++) sum[i] += p[i] / models.length;
  }
  return sum;
}

/** Each row of `probs` raised to 1/T and renormalized: softmax(log p / T), the teacher's soft targets. */
export function softenProbs(probs: Float32Array, temperature: number, classes: number): Float32Array {
  const out = new Float32Array(probs.length);
  for (let r = 0; r < probs.length; r += classes) {
    let s = 0;
    for (let c = 0; c < classes; c++) s += out[r + c] = Math.pow(Math.max(probs[r + c], 1e-12), 1 / temperature);
    for (let c = 0; c < classes; c++) out[r + c] /= s;
  }
  return out;
}

/**
 * Online distillation: the `teachers` (e.g. the dense model a pruned copy was made from, or an ensemble) in
 * inference mode on the batch `x` the student trains on (augmented, mixed), their mean probabilities softened as
 * softenProbs does: softmax(log p / T). Costs one forward pass per teacher per step; sees exactly the student's
 * images.
 */
export function onlineSoftTargets(teachers: tf.LayersModel[], x: tf.Tensor, temperature: number): tf.Tensor {
  return tf.tidy(() => {
    const ps = teachers.map((t) => t.apply(x, { training: false }) as tf.Tensor);
    const p = ps.length === 1 ? ps[0] : tf.div(tf.addN(ps), ps.length);
    return tf.softmax(tf.div(tf.log(tf.clipByValue(p, 1e-12, 1)), temperature));
  });
}

/**
 * onlineSoftTargets for a batch of n preprocessed images `xs`, with each teacher's forward pass as one addon call
 * (engine/native/native-infer.ts: tested equal to predict; teachers are frozen, so their weights are read once);
 * null where a teacher has none (another backend, a layer the compiler does not know): then tfjs's runs.
 */
export function nativeSoftTargets(teachers: tf.LayersModel[], xs: Float32Array, n: number, temperature: number): Float32Array | null {
  const nets = teachers.map((t) => nativeInferenceFor(t));
  if (nets.length === 0 || !nets.every((x): x is NativeInference => x !== null)) return null;
  const p = nets[0].probs(xs, n);
  for (const net of nets.slice(1)) {
    const q = net.probs(xs, n);
    for (let i = 0; i < p.length; i++) p[i] += q[i];
  }
  for (let i = 0; i < p.length; i++) p[i] = Math.log(Math.min(Math.max(p[i] / nets.length, 1e-12), 1)) / temperature;
  return softmaxRows(p, p.length / n);
}

/** The models a run's online distillation runs on each batch: a fine-tune's teacher, and --teacher-mode online's. */
export async function loadOnlineTeachers(
  options: Pick<TrainOptions, 'onlineTeacher' | 'teacherMode' | 'teacher'>,
): Promise<tf.LayersModel[]> {
  const paths = [...(options.onlineTeacher ?? []), ...(options.teacherMode === 'online' ? resolveTeachers(options.teacher) : [])];
  const models: tf.LayersModel[] = [];
  for (const p of paths) models.push((await loadModel(p)).model);
  return models;
}

/**
 * The teacher's probabilities for `trainSet`, from `<out>/teacher.f32` when it holds them for a dataset of
 * this size (a resumed run), else computed and written there (atomically).
 */
export async function loadOrComputeTeacher(out: string, teachers: string[], trainSet: Dataset, tta: Tta): Promise<Float32Array> {
  const file = path.join(out, TEACHER_FILE);
  const classes = trainSet.classes.length;
  const expected = trainSet.size * classes;
  if (existsSync(file)) {
    const buf = readFileSync(file);
    if (buf.byteLength === expected * 4) return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    throw new UsageError(`train: ${file} holds ${buf.byteLength / 4 / classes} rows, the training data ${trainSet.size}`, {
      hint: "it belongs to another dataset; delete it to recompute the teacher's targets",
    });
  }
  // A committed teacher by name (models/teachers/NAME) or a path.
  const probs = await teacherProbs(resolveTeachers(teachers), trainSet, tta, classes);
  writeOutput(file, Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength)); // atomic (io/output.ts)
  return probs;
}

/**
 * The training loss on a batch of softmax outputs `p` [n × classes]: cross-entropy against `labels` (one-hot,
 * possibly smoothed, optionally class-weighted), and with `soft` targets (the teacher's, softened at T)
 * (1 − α)·that + α·T²·CE(soft, softmax(log p / T)). T² keeps the soft term's gradients at the scale of the
 * hard one's as T changes (Hinton et al.).
 */
export function trainingLoss(
  labels: tf.Tensor,
  p: tf.Tensor,
  opts: { weights?: tf.Tensor | null; soft?: tf.Tensor | null; alpha?: number; temperature?: number } = {},
): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.log(tf.clipByValue(p, 1e-7, 1));
    const hard = opts.weights
      ? tf.losses.softmaxCrossEntropy(labels, logP, tf.gather(opts.weights, tf.argMax(labels, 1)))
      : tf.losses.softmaxCrossEntropy(labels, logP);
    if (!opts.soft) return hard as tf.Scalar;
    const a = opts.alpha ?? 0.5,
      t = opts.temperature ?? 1;
    const softLoss = tf.losses.softmaxCrossEntropy(opts.soft, tf.div(logP, t));
    return tf.add(tf.mul(hard, 1 - a), tf.mul(softLoss, a * t * t)) as tf.Scalar;
  });
}
