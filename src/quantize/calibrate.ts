/**
 * Activation ranges for int8 export: every layer's output over N images, as max |x| and as the 99.99th
 * percentile of |x| (robust to outliers). Keyed by tfjs layer name, which the ONNX writer reuses.
 */
import { tf } from '../engine/tf.js';
import { makeBatch } from '../data/augment.js';

export interface Calibration {
  images: number;
  maxAbs: Record<string, number>;
  percentile: Record<string, number>;
}

export function calibrate(model: tf.LayersModel, images: Uint8Array, n: number, batchSize = 128): Calibration {
  const layers = model.layers.slice(1);
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tf.SymbolicTensor) });
  const maxAbs: Record<string, number> = {};
  const samples: Record<string, number[]> = {};
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const x = tf.tensor4d(makeBatch(images, idx), [idx.length, 48, 48, 1]);
    const tensors = probe.predict(x) as tf.Tensor[];
    const outs = tensors.map((t) => t.dataSync() as Float32Array);
    tf.dispose([x, ...tensors]);
    outs.forEach((v, i) => {
      const name = layers[i].name;
      let m = maxAbs[name] ?? 0;
      const s = (samples[name] ??= []);
      const stride = Math.max(1, Math.floor(v.length / 20000));
      for (let k = 0; k < v.length; k++) {
        const a = Math.abs(v[k]);
        if (a > m) m = a;
        if (k % stride === 0) s.push(a);
      }
      maxAbs[name] = m;
    });
  }
  const percentile = Object.fromEntries(Object.entries(samples).map(([k, s]) => {
    s.sort((a, b) => a - b);
    return [k, s[Math.min(s.length - 1, Math.floor(0.9999 * s.length))] || maxAbs[k]];
  }));
  return { images: n, maxAbs, percentile };
}
