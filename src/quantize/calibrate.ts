/**
 * Activation ranges for int8 export: the input, every layer's output and every SeparableConv2D's depthwise
 * result over N images, as max |x| and as the 99.99th percentile of |x| (robust to outliers). Keyed as
 * quantize/activations.ts names tensors (tfjs layer names), which the ONNX writer reuses.
 */
import { tf } from '../engine/tf.js';
import { makeBatch } from '../data/augment.js';
import { producers } from '../model/graph.js';
import { depthwiseHalf, depthwiseKey } from './activations.js';
import { IMAGE_SIZE } from '../data/classes.js';

export type { Calibration } from './quantize.js';
import type { Calibration } from './quantize.js';

export function calibrate(model: tf.LayersModel, images: Uint8Array, n: number, batchSize = 128): Calibration {
  const layers = model.layers.slice(1);
  const separable = layers.filter((l) => l.getClassName() === 'SeparableConv2D');
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  // Where each SeparableConv2D reads its input: 0 = the image, i + 1 = layers[i]'s output.
  const sources = separable.map((l) => layers.indexOf(producers(l)[0]) + 1);
  const keys = [...layers.map((l) => l.name), ...separable.map((l) => depthwiseKey(l.name))];
  const maxAbs: Record<string, number> = {};
  const samples: Record<string, number[]> = {};
  const observe = (name: string, v: Float32Array) => {
    let m = maxAbs[name] ?? 0;
    const s = (samples[name] ??= []);
    const stride = Math.max(1, Math.floor(v.length / 20000));
    for (let k = 0; k < v.length; k++) {
      const a = Math.abs(v[k]);
      if (a > m) m = a;
      if (k % stride === 0) s.push(a);
    }
    maxAbs[name] = m;
  };
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const x = tf.tensor4d(makeBatch(images, idx), [idx.length, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const outs = tf.tidy(() => {
      const t = [x, ...(probe.predict(x) as tf.Tensor[])];
      return [...t, ...separable.map((l, j) => depthwiseHalf(l, t[sources[j]]))];
    });
    [model.layers[0].name, ...keys].forEach((k, i) => observe(k, outs[i].dataSync() as Float32Array));
    tf.dispose([x, ...outs]);
  }
  const percentile = Object.fromEntries(
    Object.entries(samples).map(([k, s]) => {
      s.sort((a, b) => a - b);
      return [k, s[Math.min(s.length - 1, Math.floor(0.9999 * s.length))] || maxAbs[k]];
    }),
  );
  return { images: n, maxAbs, percentile };
}
