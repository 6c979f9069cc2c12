/**
 * Sensitivity-aware sparsity allocation (issue 36): each kernel alone is pruned by |w| to a few levels and the
 * network's output on plain images is compared with the dense one's (mean KL divergence); the zeros then go where
 * they cost least, by a greedy walk along each kernel's lower convex hull of cost against zeros. On the shipped
 * mini-Xception the one-kernel drops differ far more than LAMP's scale-free scores say: the shortcut 1×1 convs and
 * the classifier barely notice 90% zeros, the depthwise and the middle pointwise kernels lose 10–40 points at 75%
 * (BENCHMARKS.md, issue 36, h36s).
 */
import { tf } from '../engine/tf.js';
import { applyMask, magnitudeMask } from './prune.js';
import { readValues, writeValues, type KernelWeight } from './weights.js';

/** The sparsity levels each kernel is tried at (0 is the dense kernel, cost 0). */
export const SENSITIVITY_LEVELS = [0.25, 0.5, 0.75, 0.9, 0.97] as const;

/**
 * Zeros per tensor summing to exactly `zeros` (≤ the total size), cheapest first: tensor t at levels[j] (a share of
 * its `sizes[t]` weights, floor) costs `costs[t][j]`, at 0 zeros nothing. Each move takes one tensor from its current
 * level to the later level with the lowest cost per added zero (its lower convex hull); the move with the lowest
 * rate over all tensors goes first, and the last one only as far as the zeros still needed. Ties: the earlier tensor.
 */
export function allocateBySensitivity(sizes: number[], levels: readonly number[], costs: number[][], zeros: number): number[] {
  const at = (t: number, j: number) => (j < 0 ? 0 : Math.floor(levels[j] * sizes[t]));
  const cost = (t: number, j: number) => (j < 0 ? 0 : costs[t][j]);
  const level = sizes.map(() => -1);
  const out = sizes.map(() => 0);
  let left = Math.min(
    zeros,
    sizes.reduce((a, v) => a + v, 0),
  );
  while (left > 0) {
    let best: { t: number; j: number; rate: number } | null = null;
    for (let t = 0; t < sizes.length; t++) {
      for (let j = level[t] + 1; j < levels.length; j++) {
        const dz = at(t, j) - out[t];
        if (dz <= 0) continue;
        const rate = (cost(t, j) - cost(t, level[t])) / dz;
        if (!best || rate < best.rate) best = { t, j, rate };
      }
    }
    if (!best) break;
    const take = Math.min(left, at(best.t, best.j) - out[best.t]);
    out[best.t] += take;
    left -= take;
    level[best.t] = best.j;
  }
  return out;
}

/** Mean KL(p ‖ q) over rows of two [n × k] probability arrays. */
export function meanKl(p: Float32Array, q: Float32Array, k: number): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / Math.max(q[i], 1e-12));
  return s / (p.length / k);
}

/**
 * costs[t][j]: the mean KL divergence of `model`'s output on `images` from its own dense output when kernel t alone
 * keeps its largest |w| and loses SENSITIVITY_LEVELS[j] of them (batch norm as it is). The model is left as it came.
 */
export async function measureSensitivity(model: tf.LayersModel, weights: KernelWeight[], images: tf.Tensor4D): Promise<number[][]> {
  const run = () => tf.tidy(() => (model.predict(images) as tf.Tensor).dataSync() as Float32Array);
  const dense = run();
  const k = dense.length / images.shape[0];
  const costs: number[][] = [];
  for (const w of weights) {
    const values = Float32Array.from(readValues(w));
    try {
      costs.push(
        SENSITIVITY_LEVELS.map((s) => {
          writeValues(w, applyMask(values, magnitudeMask(values, s)));
          return meanKl(dense, run(), k);
        }),
      );
    } finally {
      writeValues(w, values);
    }
    // The event loop runs between kernels (a few seconds each on a loaded machine): Ctrl-C and progress stay live.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return costs;
}

/** Prunes `model` in place to `sparsity` of its kernels' weights, allocated by measureSensitivity on `images`; returns the masks. */
export async function pruneBySensitivity(
  model: tf.LayersModel,
  weights: KernelWeight[],
  images: tf.Tensor4D,
  sparsity: number,
): Promise<Uint8Array[]> {
  const costs = await measureSensitivity(model, weights, images);
  const sizes = weights.map((w) => w.variable.size);
  const zeros = allocateBySensitivity(sizes, SENSITIVITY_LEVELS, costs, Math.floor(sparsity * sizes.reduce((a, v) => a + v, 0)));
  return weights.map((w, i) => {
    const values = readValues(w);
    const mask = magnitudeMask(values, (zeros[i] + 0.5) / values.length);
    writeValues(w, applyMask(values, mask));
    return mask;
  });
}
