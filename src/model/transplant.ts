/**
 * Copies a trained model's weights into a network of another architecture wherever their shapes agree, in
 * the order the two networks list their weights (the layer order of `buildModel`). A mini-xception's weights
 * load whole into its stride-2 variants (same shapes); a head of another size is left as initialised.
 */
import { tf } from '../engine/tf.js';

export interface TransplantReport {
  copied: number;
  /** Target weights left as initialised (shape differs or the source has no weight at that position). */
  skipped: string[];
}

export function transplantWeights(source: tf.LayersModel, target: tf.LayersModel): TransplantReport {
  const from = source.weights, to = target.weights;
  const skipped: string[] = [];
  let copied = 0;
  to.forEach((w, i) => {
    const s = from[i];
    if (s && s.shape.length === w.shape.length && s.shape.every((d, k) => d === w.shape[k])) {
      w.write(s.read());
      copied++;
    } else {
      skipped.push(w.name);
    }
  });
  return { copied, skipped };
}
