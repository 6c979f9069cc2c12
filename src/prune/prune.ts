/**
 * Magnitude pruning: masks that zero the smallest |w| (per layer, or with one global threshold), the
 * 2:4 pattern (two zeros in every four consecutive input-channel weights, what TensorRT's sparse kernels
 * use), the polynomial sparsity schedule, and the paper's eq. (1) compression ratio.
 */

/** k-th smallest |value| such that a fraction `sparsity` of the values falls at or below it. */
function threshold(absValues: Float32Array, sparsity: number): number {
  const k = Math.floor(sparsity * absValues.length);
  if (k <= 0) return -1;
  const sorted = Float32Array.from(absValues).sort();
  return sorted[k - 1];
}

/** Mask (1 keep, 0 prune) zeroing exactly floor(sparsity·n) smallest-magnitude values (ties by index). */
export function magnitudeMask(values: Float32Array, sparsity: number): Uint8Array {
  const n = values.length,
    k = Math.floor(sparsity * n);
  const mask = new Uint8Array(n).fill(1);
  if (k <= 0) return mask;
  const order = [...Array(n).keys()].sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
  for (let i = 0; i < k; i++) mask[order[i]] = 0;
  return mask;
}

/** One threshold over several tensors: returns a mask per tensor. */
export function globalMasks(tensors: Float32Array[], sparsity: number): Uint8Array[] {
  const all = new Float32Array(tensors.reduce((a, t) => a + t.length, 0));
  let off = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.length; i++) all[off + i] = Math.abs(t[i]);
    off += t.length;
  }
  const th = threshold(all, sparsity);
  return tensors.map((t) => Uint8Array.from(t, (v) => (Math.abs(v) > th ? 1 : 0)));
}

/**
 * LAMP scores (Lee et al. 2021, "Layer-adaptive sparsity for the magnitude-based pruning"): within a tensor
 * sorted by ascending |w| (ties by index), score(u) = w_u² / Σ_{v ≥ u} w_v², the share of the tensor's remaining
 * squared norm that u carries. Scale-free per tensor, so one threshold across tensors (below) prunes layers as
 * far as they tolerate: a conv followed by batch norm can have kernels of any scale, which a global |w|
 * threshold misreads. The largest weight of every tensor scores 1 and is never pruned.
 */
export function lampScores(values: Float32Array): Float64Array {
  const order = [...values.keys()].sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
  const scores = new Float64Array(values.length);
  let tail = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    const sq = values[order[i]] ** 2;
    tail += sq;
    scores[order[i]] = tail > 0 ? sq / tail : 0;
  }
  return scores;
}

/** One threshold on LAMP scores over several tensors: exactly floor(sparsity·n) weights pruned (ties by tensor, index). */
export function lampMasks(tensors: Float32Array[], sparsity: number): Uint8Array[] {
  const scores = tensors.map(lampScores);
  const n = tensors.reduce((a, t) => a + t.length, 0),
    k = Math.floor(sparsity * n);
  const flat: [number, number, number][] = [];
  scores.forEach((s, t) => s.forEach((v, i) => flat.push([v, t, i])));
  flat.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const masks = tensors.map((t) => new Uint8Array(t.length).fill(1));
  for (let j = 0; j < k; j++) masks[flat[j][1]][flat[j][2]] = 0;
  return masks;
}

/**
 * Erdős–Rényi-kernel densities (Evci et al. 2020, RigL): tensor t keeps a share ε·Σshape/Πshape of its weights, ε
 * chosen so that floor(sparsity·n) weights are zero over all tensors; a tensor whose share would exceed 1 stays dense
 * and ε is solved again over the rest. Returns each tensor's zero count (the smallest |w| of each go, magnitudeMask).
 */
export function erkZeros(shapes: number[][], sparsity: number): number[] {
  const sizes = shapes.map((s) => s.reduce((a, d) => a * d, 1));
  const raw = shapes.map((s, i) => s.reduce((a, d) => a + d, 0) / sizes[i]);
  const n = sizes.reduce((a, v) => a + v, 0),
    keep = n - Math.floor(sparsity * n);
  const dense = new Set<number>();
  for (;;) {
    const fixed = [...dense].reduce((a, i) => a + sizes[i], 0);
    const free = sizes.reduce((a, v, i) => a + (dense.has(i) ? 0 : raw[i] * v), 0);
    const eps = (keep - fixed) / free;
    const over = sizes.findIndex((_, i) => !dense.has(i) && eps * raw[i] > 1);
    if (over < 0) {
      const zeros = sizes.map((v, i) => (dense.has(i) ? 0 : Math.min(v, Math.round(v * (1 - eps * raw[i])))));
      // Rounding: the total is made exact on the largest tensor.
      const big = sizes.indexOf(Math.max(...sizes.filter((_, i) => !dense.has(i))));
      zeros[big] += Math.floor(sparsity * n) - zeros.reduce((a, v) => a + v, 0);
      return zeros;
    }
    dense.add(over);
  }
}

/** Masks zeroing erkZeros' count of each tensor's smallest |w|. */
export function erkMasks(tensors: Float32Array[], shapes: number[][], sparsity: number): Uint8Array[] {
  const zeros = erkZeros(shapes, sparsity);
  return tensors.map((t, i) => magnitudeMask(t, zeros[i] / t.length + 0.5 / t.length));
}

/**
 * 2:4 along input channels: for each (spatial position, output channel), consecutive groups of four
 * input channels keep their two largest |w|. Tensors whose input-channel count is not a multiple of 4
 * (depthwise kernels, the first conv) are left dense: returns null for them.
 */
export function twoFourMask(values: Float32Array, inputChannels: number, channels: number): Uint8Array | null {
  if (inputChannels % 4 !== 0) return null;
  const mask = new Uint8Array(values.length).fill(1);
  const block = inputChannels * channels;
  for (let base = 0; base < values.length; base += block) {
    for (let o = 0; o < channels; o++) {
      for (let g = 0; g < inputChannels; g += 4) {
        const idx = [0, 1, 2, 3].map((j) => base + (g + j) * channels + o);
        idx.sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
        mask[idx[0]] = 0;
        mask[idx[1]] = 0;
      }
    }
  }
  return mask;
}

export interface PolynomialSchedule {
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  endStep: number;
  frequency: number;
  power?: number;
}

/** Sparsity at a step: constant before begin and after end, s_f + (s_i − s_f)(1 − p)^3 in between. */
export function scheduledSparsity(s: PolynomialSchedule, step: number): number {
  if (step < s.beginStep) return 0;
  if (step >= s.endStep || s.endStep <= s.beginStep) return s.finalSparsity;
  const p = (step - s.beginStep) / (s.endStep - s.beginStep);
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - p) ** (s.power ?? 3);
}

/** Whether masks are recomputed at this step (every `frequency` steps inside [begin, end], and at end). */
export function isUpdateStep(s: PolynomialSchedule, step: number): boolean {
  if (step < s.beginStep || step > s.endStep) return false;
  return (step - s.beginStep) % s.frequency === 0 || step === s.endStep;
}

/** Eq. (1): R = Σ U / Σ P, all weights over non-zero weights, across layers. */
export function compressionRatio(layers: { total: number; nonzero: number }[]): number {
  const u = layers.reduce((a, l) => a + l.total, 0),
    p = layers.reduce((a, l) => a + l.nonzero, 0);
  return p === 0 ? Infinity : u / p;
}

export interface SparsityReport {
  layers: { name: string; total: number; nonzero: number; sparsity: number }[];
  total: number;
  nonzero: number;
  sparsity: number;
  compressionRatio: number;
}

export function sparsityReport(weights: { name: string; values: Float32Array }[]): SparsityReport {
  const layers = weights.map(({ name, values }) => {
    let nz = 0;
    for (const v of values) if (v !== 0) nz++;
    return { name, total: values.length, nonzero: nz, sparsity: 1 - nz / values.length };
  });
  const total = layers.reduce((a, l) => a + l.total, 0),
    nonzero = layers.reduce((a, l) => a + l.nonzero, 0);
  return { layers, total, nonzero, sparsity: total ? 1 - nonzero / total : 0, compressionRatio: compressionRatio(layers) };
}

export function applyMask(values: Float32Array, mask: Uint8Array): Float32Array {
  return Float32Array.from(values, (v, i) => (mask[i] ? v : 0));
}

/** One-shot magnitude pruning as prune/model.ts applies it: the target sparsity, the mask pattern, the scope. */
export interface PruneSettings {
  target: number;
  pattern: 'unstructured' | '2:4';
  scope: 'layer' | 'global' | 'lamp' | 'erk';
}
