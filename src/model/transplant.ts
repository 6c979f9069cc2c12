/**
 * Copies a trained model's weights into a network of another architecture wherever their shapes agree, in
 * the order the two networks list their weights (the layer order of `buildModel`). A mini-xception's weights
 * load whole into its stride-2 variants (same shapes); a head of another size, and the target weights named
 * in `keep`, are left as initialised.
 */
import { tf } from '../engine/tf.js';

export type { TransplantReport } from './types.js';
import type { TransplantReport } from './types.js';

export function transplantWeights(source: tf.LayersModel, target: tf.LayersModel, keep: ReadonlySet<string> = new Set()): TransplantReport {
  const from = source.weights,
    to = target.weights;
  const skipped: string[] = [];
  let copied = 0;
  to.forEach((w, i) => {
    const s = from[i];
    if (s && !keep.has(w.name) && s.shape.length === w.shape.length && s.shape.every((d, k) => d === w.shape[k])) {
      w.write(s.read());
      copied++;
    } else {
      skipped.push(w.name);
    }
  });
  return { copied, skipped };
}

/**
 * The classifier head: the last Dense layer of a network that has one (the ResNet teachers), else the last
 * conv (mini-Xception's: one filter per class, before global pooling). A transfer to another class set
 * re-initialises it; `--freeze-epochs` trains only it.
 */
export function headLayer(model: tf.LayersModel): tf.layers.Layer {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  if (dense.length) return dense[dense.length - 1];
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
  return convs[convs.length - 1];
}

/**
 * Copies the head rows of classes that both models have (by name) from `source` into `target`, so that a
 * transfer to a subset or reordering of the source's classes keeps what it knew about them. The class is
 * the last axis of the head's kernel and its bias. Returns the names carried over.
 */
export function transplantHead(
  source: tf.LayersModel,
  sourceClasses: readonly string[],
  target: tf.LayersModel,
  targetClasses: readonly string[],
): string[] {
  const [sk, sb] = headLayer(source).getWeights(),
    [tk, tb] = headLayer(target).getWeights();
  if (!sk || !tk || sk.shape.slice(0, -1).join() !== tk.shape.slice(0, -1).join()) return [];
  const shared = targetClasses.map((c, i) => [i, sourceClasses.indexOf(c)] as const).filter(([, j]) => j >= 0);
  if (shared.length === 0) return [];
  const kernel = tk.dataSync().slice() as Float32Array,
    skv = sk.dataSync();
  const bias = tb?.dataSync().slice() as Float32Array | undefined,
    sbv = sb?.dataSync();
  const ks = sourceClasses.length,
    kt = targetClasses.length,
    rows = kernel.length / kt;
  for (const [i, j] of shared) {
    for (let r = 0; r < rows; r++) kernel[r * kt + i] = skv[r * ks + j];
    if (bias && sbv) bias[i] = sbv[j];
  }
  const values = bias ? [tf.tensor(kernel, tk.shape), tf.tensor(bias, tb!.shape)] : [tf.tensor(kernel, tk.shape)];
  headLayer(target).setWeights(values);
  tf.dispose(values);
  return shared.map(([i]) => targetClasses[i]);
}
