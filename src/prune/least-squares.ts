/**
 * The least-squares pieces of layer-wise reconstruction (prune/reconstruct.ts): im2col rows of a conv's input,
 * normal equations accumulated over them in float64, and their masked solution per output channel.
 */
import { ModelError } from '../errors.js';

export interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
}

/** Row-major M×K rows of a layer's input: im2col patches of a conv, or a dense layer's input vectors. */
export interface Rows {
  data: Float32Array;
  m: number;
  k: number;
}

/** A conv's output height and width on an h×w input (tfjs's 'same' and 'valid'). */
export function outputSize(h: number, w: number, g: ConvGeometry): [number, number] {
  const [sh, sw] = g.strides;
  if (g.padding === 'same') return [Math.ceil(h / sh), Math.ceil(w / sw)];
  return [Math.floor((h - g.kernel[0]) / sh) + 1, Math.floor((w - g.kernel[1]) / sw) + 1];
}

/**
 * im2col of an NHWC tensor's values: one row per output position (n, y, x), columns ordered (kh, kw, c) as
 * tfjs flattens a conv kernel [kh, kw, cin, cout], with tfjs's 'same' padding (the extra row/column at the
 * bottom/right); `ones` appends a constant-1 column for a bias.
 */
export function im2col(x: ArrayLike<number>, shape: readonly number[], g: ConvGeometry, ones = false): Rows {
  const [n, h, w, c] = shape;
  const [kh, kw] = g.kernel,
    [sh, sw] = g.strides;
  const [ho, wo] = outputSize(h, w, g);
  const top = g.padding === 'same' ? Math.floor(Math.max((ho - 1) * sh + kh - h, 0) / 2) : 0,
    left = g.padding === 'same' ? Math.floor(Math.max((wo - 1) * sw + kw - w, 0) / 2) : 0;
  const k = kh * kw * c + (ones ? 1 : 0),
    m = n * ho * wo;
  const data = new Float32Array(m * k);
  let r = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++, r++) {
        const row = r * k;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw + j - left;
            if (xx < 0 || xx >= w) continue;
            const src = ((b * h + y) * w + xx) * c,
              dst = row + (i * kw + j) * c;
            for (let q = 0; q < c; q++) data[dst + q] = x[src + q];
          }
        }
        if (ones) data[row + k - 1] = 1;
      }
  return { data, m, k };
}

/** Solves A x = b for a symmetric positive-definite A (n×n, row-major float64) by Cholesky (A is left as it was). */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/**
 * The normal equations of one layer, accumulated over calibration rows: G = X_pᵀX_p (K×K), R = X_pᵀY
 * (K×O) and ‖y_o‖² per output, where Y = X_d W is what the dense layer (weights W, K×O) outputs on the
 * dense network's rows. That is all a masked least-squares fit of each output needs.
 */
export class NormalEquations {
  readonly g: Float64Array;
  readonly r: Float64Array;
  readonly yy: Float64Array;
  m = 0;
  constructor(
    readonly k: number,
    readonly o: number,
  ) {
    this.g = new Float64Array(k * k);
    this.r = new Float64Array(k * o);
    this.yy = new Float64Array(o);
  }

  /** Adds rows: xp, xd M×K; w the dense weights K×O (row-major: input i, output j at i·O + j). */
  add(xp: Rows, xd: Rows, w: ArrayLike<number>): void {
    const { k, o, g, r, yy } = this;
    const y = new Float64Array(o);
    for (let row = 0; row < xp.m; row++) {
      const base = row * k;
      y.fill(0);
      for (let i = 0; i < k; i++) {
        const z = xd.data[base + i];
        if (z !== 0) for (let j = 0; j < o; j++) y[j] += z * w[i * o + j];
      }
      for (let i = 0; i < k; i++) {
        const a = xp.data[base + i];
        if (a === 0) continue;
        const gi = i * k;
        for (let j = i; j < k; j++) g[gi + j] += a * xp.data[base + j];
        const ri = i * o;
        for (let j = 0; j < o; j++) r[ri + j] += a * y[j];
      }
      for (let j = 0; j < o; j++) yy[j] += y[j] * y[j];
    }
    this.m += xp.m;
  }

  /** G's lower triangle from its upper one (add accumulates the upper only). */
  symmetrize(): void {
    const { k, g } = this;
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i];
  }

  /** ‖X_p v − y_o‖² summed over the rows. */
  error(v: ArrayLike<number>, out: number): number {
    const { k, o, g, r } = this;
    let q = this.yy[out];
    for (let i = 0; i < k; i++) {
      if (v[i] === 0) continue;
      let gi = 0;
      for (let j = 0; j < k; j++) gi += g[i * k + j] * v[j];
      q += v[i] * gi - 2 * v[i] * r[i * o + out];
    }
    return Math.max(q, 0);
  }

  /**
   * The weights of output `out` that minimise ‖X_p ŵ − y‖² + λ‖ŵ − w‖² over the kept inputs (ŵ_i = 0 where
   * `keep(i)` is false), λ = `damping` × the mean diagonal of G. The ridge pulls toward the dense weights
   * `w` (column `out` of K×O), not toward zero: with nothing pruned and X_p = X_d the fit is w itself.
   */
  fit(out: number, w: ArrayLike<number>, keep: (i: number) => boolean, damping: number): Float64Array {
    const { k, o, g, r } = this;
    let diag = 0;
    for (let i = 0; i < k; i++) diag += g[i * k + i];
    const lambda = (damping * diag) / k || 1e-12;
    const s: number[] = [];
    for (let i = 0; i < k; i++) if (keep(i)) s.push(i);
    const res = new Float64Array(k);
    if (s.length === 0) return res;
    const n = s.length;
    const a = new Float64Array(n * n),
      b = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      const i = s[p];
      for (let q = 0; q < n; q++) a[p * n + q] = g[i * k + s[q]];
      a[p * n + p] += lambda;
      b[p] = r[i * o + out] + lambda * w[i * o + out];
    }
    const x = solveSpd(a, b, n);
    s.forEach((i, p) => (res[i] = x[p]));
    return res;
  }
}

/** The lower Cholesky factor L of a symmetric positive-definite A (n×n, row-major): A = L Lᵀ; A is left as it was. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) throw new ModelError('reconstruct: the Gram matrix is not positive definite (raise the damping)');
    const s = Math.sqrt(d);
    l[j * n + j] = s;
    for (let i = j + 1; i < n; i++) {
      let v = a[i * n + j];
      for (let k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = v / s;
    }
  }
  return l;
}

/** A⁻¹ from A's lower Cholesky factor L (A = L Lᵀ): A⁻¹ = L⁻ᵀ L⁻¹. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // M = L⁻¹ (lower), by forward substitution column by column.
  const m = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    m[c * n + c] = 1 / l[c * n + c];
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s += l[i * n + k] * m[k * n + c];
      m[i * n + c] = -s / l[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += m[k * n + i] * m[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  return inv;
}

/**
 * One output's quadratic after a dense refit: the layer error of weights v is (v − w*)ᵀ H (v − w*) + const, H the
 * damped Gram matrix G + λI and w* = H⁻¹(R + λw) its unconstrained minimiser. What optimal-brain-surgeon
 * pruning needs of it: w*, and U, the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU, as SparseGPT factors it).
 */
export interface ObsQuadratic {
  /** w*, this output's K weights. */
  wStar: Float64Array;
  /** H⁻¹ (K×K). */
  hInv: Float64Array;
  /** U (K×K, upper): row j holds the OBS update of the inputs j.. when input j is removed with 0..j−1 frozen. */
  u: Float64Array;
}

/**
 * The OBS quadratics of the outputs `outs` of `eq` (they share H: a conv's or dense layer's outputs see the same
 * inputs), damped as NormalEquations.fit damps (λ = damping × the mean diagonal of G, pulling toward `w`, K×O).
 */
export function obsQuadratics(
  eq: NormalEquations,
  w: ArrayLike<number>,
  damping: number,
): { hInv: Float64Array; u: Float64Array; wStar: Float64Array[] } {
  const { k, o, g, r } = eq;
  let diag = 0;
  for (let i = 0; i < k; i++) diag += g[i * k + i];
  const lambda = (damping * diag) / k || 1e-12;
  const h = Float64Array.from(g);
  for (let i = 0; i < k; i++) h[i * k + i] += lambda;
  const hInv = inverseFromCholesky(cholesky(h, k), k);
  const lower = cholesky(hInv, k);
  const u = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) u[j * k + i] = lower[i * k + j];
  const wStar: Float64Array[] = [];
  for (let j = 0; j < o; j++) {
    const b = Float64Array.from({ length: k }, (_, i) => r[i * o + j] + lambda * w[i * o + j]);
    const x = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += hInv[i * k + q] * b[q];
      x[i] = s;
    }
    wStar.push(x);
  }
  return { hInv, u, wStar };
}

export type ObsSelection = 'obs' | 'sparsegpt';

/**
 * Which weights of a layer to prune, chosen with second-order information (issue 36), `zeros` of them among the
 * inputs `eligible` says may be pruned (not a bias). Each output o has its quadratic (`q(o)`: shared by a conv's
 * outputs, one per channel for a depthwise kernel); a weight's saliency is the error its removal adds.
 *
 * - 'obs': one shot, saliency w*ᵢ² / [H⁻¹]ᵢᵢ (optimal brain surgeon, each weight alone), the `zeros` lowest over the
 *   whole layer, as one threshold per layer (the magnitude masks are one threshold per kernel too).
 * - 'sparsegpt': SparseGPT's sequential selection: inputs taken in order in blocks of `block`; in a block the
 *   weights with the lowest w_j² / U_jj² over all outputs are pruned (the block's share of `zeros`), and each
 *   pruned weight's error is compensated on the inputs after it by the OBS update w_{j..} −= (w_j / U_jj) U_{j,j..},
 *   so later blocks are chosen on weights that have already absorbed the earlier removals.
 *
 * Returns the mask (K×O row-major, input i of output o at i·O + o; 1 keep) and, for 'sparsegpt', the weights the
 * sequential updates leave (the caller refits the kept weights exactly anyway: NormalEquations.fit).
 */
export function obsSelect(
  k: number,
  o: number,
  q: (out: number) => ObsQuadratic,
  zeros: number,
  eligible: (i: number) => boolean,
  method: ObsSelection,
  block = 32,
): { mask: Uint8Array; weights: Float64Array } {
  const mask = new Uint8Array(k * o).fill(1);
  const cols = [...Array(k).keys()].filter(eligible);
  const weights = new Float64Array(k * o);
  for (let j = 0; j < o; j++) {
    const ws = q(j).wStar;
    for (let i = 0; i < k; i++) weights[i * o + j] = ws[i];
  }
  if (zeros <= 0 || cols.length === 0) return { mask, weights };
  /** Prunes the `count` cells of lowest score among `cells` ([input, output] pairs). */
  const pruneLowest = (cells: [number, number][], score: (i: number, j: number) => number, count: number) => {
    const s = cells.map(([i, j]) => score(i, j));
    const order = [...cells.keys()].sort((a, b) => s[a] - s[b] || a - b);
    for (let t = 0; t < Math.min(count, order.length); t++) {
      const [i, j] = cells[order[t]];
      mask[i * o + j] = 0;
    }
  };
  if (method === 'obs') {
    const cells = cols.flatMap((i) => Array.from({ length: o }, (_, j) => [i, j] as [number, number]));
    pruneLowest(cells, (i, j) => weights[i * o + j] ** 2 / q(j).hInv[i * k + i], zeros);
    for (let i = 0; i < k * o; i++) if (!mask[i]) weights[i] = 0;
    return { mask, weights };
  }
  let done = 0;
  for (let b = 0; b < cols.length; b += block) {
    const inBlock = cols.slice(b, b + block);
    const count = Math.round((zeros * (b + inBlock.length)) / cols.length) - done;
    done += count;
    const cells = inBlock.flatMap((i) => Array.from({ length: o }, (_, j) => [i, j] as [number, number]));
    pruneLowest(cells, (i, j) => weights[i * o + j] ** 2 / q(j).u[i * k + i] ** 2, count);
    // The OBS update of every pruned weight of the block, input by input, onto the inputs after it (frozen before).
    const last = inBlock[inBlock.length - 1];
    for (let i = inBlock[0]; i <= last; i++)
      for (let j = 0; j < o; j++) {
        if (mask[i * o + j]) continue;
        const u = q(j).u;
        const e = weights[i * o + j] / u[i * k + i];
        for (let t = i + 1; t < k; t++) weights[t * o + j] -= e * u[i * k + t];
        weights[i * o + j] = 0;
      }
  }
  return { mask, weights };
}
