/**
 * What a training run is set up with: the --init model adapted to the run's architecture and classes, the
 * checks that model, metadata and data agree, the optimizer, and the whole-model weight arrays the EMA uses.
 */
import { tf } from '../engine/tf.js';
import { UsageError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { buildModel, type Arch } from '../model/mini-xception.js';
import { headLayer, transplantHead, transplantWeights, type TransplantReport } from '../model/transplant.js';
import { defaultMetadata, loadModel, outputClasses, type FerMetadata } from '../model/io.js';
import type { TrainOptions } from './options.js';
import { emaUpdate } from './recipe.js';
import { reviveDeadChannels, type RevivedLayer } from './revive.js';

/** The run's optimizer: Adam, or SGD with momentum (Nesterov's by default). */
export function makeOptimizer(o: Pick<TrainOptions, 'optimizer' | 'lr' | 'momentum' | 'nesterov'>): tf.Optimizer {
  return o.optimizer === 'sgd' ? tf.train.momentum(o.lr, o.momentum, o.nesterov) : tf.train.adam(o.lr);
}

/** Every weight of a model (trainable and batch-norm statistics) as one array, in model.weights order. */
export function concatWeights(model: tf.LayersModel): Float32Array {
  const parts = model.weights.map((w) => w.read().dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** ema ← d·ema + (1 − d)·w for every weight, in concatWeights's layout, read in place (no copy of the model per step). */
export function updateEma(ema: Float32Array, model: tf.LayersModel, d: number, values?: Float32Array[]): void {
  let off = 0;
  for (const [i, w] of model.weights.entries()) {
    // `values`: the weights as the native step's arena holds them (model.weights order), else tfjs's.
    const v = values?.[i] ?? w.read().dataSync();
    emaUpdate(ema.subarray(off, off + v.length), v, d);
    off += v.length;
  }
}

/** Writes `values` (concatWeights's layout) into the model's weights; returns the values it replaced. */
export function swapWeights(model: tf.LayersModel, values: Float32Array): Float32Array {
  const old = concatWeights(model);
  let off = 0;
  for (const w of model.weights) {
    const cur = w.read();
    const n = cur.size;
    const t = tf.tensor(values.slice(off, off + n), cur.shape);
    w.write(t);
    t.dispose();
    off += n;
  }
  return old;
}

/**
 * The --init model made ready for this run: revived when asked; rebuilt as `options.arch` and/or with a
 * head for `classes` when either differs from the init model's (its weights copied where shapes and class
 * names agree: a transfer to another class set keeps the features and starts a new head).
 */
export async function initModel(
  options: TrainOptions,
  classes: readonly string[],
): Promise<{
  model: tf.LayersModel;
  meta: FerMetadata;
  transplanted?: TransplantReport;
  revived?: RevivedLayer[];
}> {
  let { model, meta } = await loadModel(options.init!);
  const revived = options.reviveDead ? reviveDeadChannels(model) : undefined;
  const arch = options.arch ?? meta.arch ?? 'mini-xception';
  const sameClasses = meta.classes.length === classes.length && meta.classes.every((c, i) => c === classes[i]);
  if (arch === (meta.arch ?? 'mini-xception') && sameClasses) return { model, meta, revived };
  const source = model;
  model = buildModel(arch as Arch, { seed: options.seed, l2: options.l2, numClasses: classes.length });
  const head = new Set(sameClasses ? [] : headLayer(model).weights.map((w) => w.name));
  const transplanted = transplantWeights(source, model, head);
  if (!sameClasses) transplanted.headFrom = transplantHead(source, meta.classes, model, classes);
  source.dispose();
  meta = { ...defaultMetadata(arch, classes), preprocess: meta.preprocess };
  return { model, meta, transplanted, revived };
}

/**
 * The network, its metadata and the data agree on the classes (a resumed run, a teacher, a val set). A class without
 * training images is a note, or an error when `named` (--classes) asked for it by name: a misspelt name.
 */
export function checkClasses(
  model: tf.LayersModel,
  meta: FerMetadata,
  trainSet: Dataset,
  valSet: Dataset | null,
  named: readonly string[] = [],
): string | undefined {
  const names = trainSet.classes;
  if (outputClasses(model) !== names.length || meta.classes.join('\n') !== names.join('\n')) {
    throw new UsageError(`train: the model's classes (${meta.classes.join(', ')}) are not the data's (${names.join(', ')})`);
  }
  if (valSet && valSet.classes.join('\n') !== names.join('\n')) {
    throw new UsageError(`train: --val has classes ${valSet.classes.join(', ')}, the training data ${names.join(', ')}`);
  }
  const empty = names.filter((_, i) => trainSet.counts[i] === 0);
  const asked = empty.filter((c) => named.includes(c));
  if (asked.length)
    throw new UsageError(
      `train: --classes ${asked.join(', ')}: no images of ${asked.length > 1 ? 'these classes' : 'this class'} in ${trainSet.source} (misspelt?)`,
    );
  if (empty.length)
    return `no training images of ${empty.join(', ')}: the model will not learn to predict ${empty.length > 1 ? 'them' : 'it'} (--classes leaves classes out)`;
  return undefined;
}
