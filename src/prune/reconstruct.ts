/**
 * Layer-wise reconstruction after one-shot pruning (issue 36): each pruned kernel's kept weights are refitted
 * by least squares so that the layer, fed what the pruned network before it now produces, gives what the
 * dense layer gave on the dense network's own inputs:
 *
 *   min over ŵ_o (zero where pruned)  ‖X_p ŵ_o − X_d w_o‖²   for every output channel o,
 *
 * X_p / X_d the layer's input patches (im2col rows) in the pruned / dense network on a few hundred plain
 * training images. This is the exact optimal-brain-surgeon update for a fixed mask (as SparseGPT and
 * "Optimal Brain Compression" use it), with the dense target taken from the dense network so that errors of
 * earlier layers are corrected, not carried. Layers are refitted in network order, each after the ones
 * before it, so a layer's inputs already include its predecessors' repairs. The normal equations
 * (X_pᵀX_p + λI) ŵ_S = X_pᵀX_d w + λ w restricted to the kept inputs S are solved per output channel in
 * float64; λ is `damping` × the mean of the Gram diagonal (as SparseGPT dampens), pulling toward the dense w. Biases (the head's) are refitted too.
 *
 * The mask is the zeros the pruned model arrives with (magnitude pruning), or, with `select`, chosen here from
 * the same normal equations, layer by layer on the layer's actual inputs (least-squares.ts obsSelect: OBS
 * saliency, or SparseGPT's sequential selection), the count per kernel given; the kept weights are then refitted
 * exactly as above.
 */
import { tf } from '../engine/tf.js';
import { Interrupted, ModelError } from '../errors.js';
import { kernelWeights, readValues, writeValues, type KernelWeight } from './weights.js';
import {
  im2col,
  NormalEquations,
  obsQuadratics,
  obsSelect,
  outputSize,
  type ConvGeometry,
  type ObsSelection,
  type Rows,
} from './least-squares.js';
import { layerConfig, pair } from '../model/graph.js';

export {
  im2col,
  NormalEquations,
  obsQuadratics,
  obsSelect,
  solveSpd,
  type ConvGeometry,
  type ObsSelection,
  type Rows,
} from './least-squares.js';

export interface ReconstructOptions {
  /** Preprocessed images, [N, H, W, C] (what `makeBatch` gives), the calibration set. */
  images: tf.Tensor4D;
  batchSize?: number;
  /** Rows (output positions × images) of a layer's input used at most: early layers have plenty in a few images. */
  maxRows?: number;
  /** Ridge term relative to the mean diagonal of XᵀX. */
  damping?: number;
  /** Before the first layer (name '', done 0) and after each refitted layer: its name and how many of `total` are done. */
  onLayer?: (name: string, done: number, total: number) => void;
  /** Polled after each layer (Ctrl-C): true ends the refit there with an Interrupted error (nothing is kept). */
  shouldStop?: () => boolean;
  /**
   * Choose the pruned weights here, layer by layer on the layer's own inputs, with second-order information
   * (least-squares.ts obsSelect), instead of taking the zeros `pruned` arrives with: `pruned` then arrives
   * unpruned and `zeros` says how many weights each kernel loses, in kernelWeights order (e.g. LAMP's allocation).
   */
  select?: { zeros: number[]; method: ObsSelection; block?: number };
}

export interface ReconstructReport {
  /** Per kernel, the mean squared error of its outputs against the dense layer's, before and after the refit. */
  layers: { name: string; before: number; after: number }[];
  seconds: number;
}

function geometry(layer: tf.layers.Layer): ConvGeometry {
  const c = layerConfig(layer);
  const dil = pair(c.dilationRate);
  if (dil[0] !== 1 || dil[1] !== 1) throw new ModelError(`reconstruct: dilated convolutions are not supported (${layer.name})`);
  return { kernel: pair(c.kernelSize), strides: pair(c.strides), padding: c.padding === 'same' ? 'same' : 'valid' };
}

/**
 * Refits the kept weights of every layer of `pruned` with a pruned kernel (zeros mark pruned weights; layers
 * without zeros are left as they are; a separable conv's two kernels are refitted together) against `dense`, the same network before pruning. Works on Conv2D,
 * SeparableConv2D (depthwise, then pointwise on the refitted depthwise output), DepthwiseConv2D and Dense
 * layers of a functional tfjs model. In place; zeros stay zeros.
 */
export async function reconstructPruned(pruned: tf.LayersModel, dense: tf.LayersModel, o: ReconstructOptions): Promise<ReconstructReport> {
  const t0 = Date.now();
  const damping = o.damping ?? 0.01,
    batchSize = o.batchSize ?? 64,
    maxRows = o.maxRows ?? 1 << 18;
  const kp = kernelWeights(pruned),
    kd = kernelWeights(dense);
  if (kp.length !== kd.length || kp.some((k, i) => k.shape.join() !== kd[i].shape.join()))
    throw new ModelError('reconstruct: the pruned and dense models have different kernels');
  const byLayer = new Map<string, number[]>();
  kp.forEach((k, i) => byLayer.set(k.layer, [...(byLayer.get(k.layer) ?? []), i]));
  const sel = o.select;
  if (sel && sel.zeros.length !== kp.length) throw new ModelError(`reconstruct: ${sel.zeros.length} zero counts for ${kp.length} kernels`);
  const zerosOf = (i: number) => sel?.zeros[i] ?? 0;
  const todo = [...byLayer.keys()].filter((l) => byLayer.get(l)!.some((i) => (sel ? zerosOf(i) > 0 : readValues(kp[i]).includes(0))));
  /** How refit and refitDepthwise choose the mask of kernel i: from its zeros (undefined) or by obsSelect. */
  const choice = (i: number): Choice | undefined => (sel ? { zeros: zerosOf(i), method: sel.method, block: sel.block ?? 32 } : undefined);
  const n = o.images.shape[0];
  const report: ReconstructReport['layers'] = [];
  let done = 0;
  o.onLayer?.('', 0, todo.length);
  for (let li = 0; li < pruned.layers.length; li++) {
    const lp = pruned.layers[li],
      ld = dense.layers[li];
    if (!todo.includes(lp.name)) continue;
    const idx = byLayer.get(lp.name)!;
    const subP = tf.model({ inputs: pruned.inputs, outputs: lp.input as tf.SymbolicTensor });
    const subD = tf.model({ inputs: dense.inputs, outputs: ld.input as tf.SymbolicTensor });
    /** The layer's inputs in both networks, batch by batch, until `maxRows` rows of `rowsOf` are seen. */
    const eachBatch = (rowsOf: (shape: number[]) => number, f: (p: Float32Array, d: Float32Array, shape: number[]) => void) => {
      let rows = 0;
      for (let s = 0; s < n && rows < maxRows; s += batchSize) {
        const [p, d, shape] = tf.tidy(() => {
          const x = o.images.slice(s, Math.min(batchSize, n - s));
          const tp = subP.predict(x) as tf.Tensor,
            td = subD.predict(x) as tf.Tensor;
          return [tp.dataSync() as Float32Array, td.dataSync() as Float32Array, tp.shape] as const;
        });
        f(p, d, shape);
        rows += rowsOf(shape);
      }
    };
    const cls = lp.getClassName();
    if (cls === 'Conv2D' || cls === 'Dense') {
      const geo = cls === 'Conv2D' ? geometry(lp) : null;
      const biasP = lp.weights.find((w) => w.originalName.endsWith('/bias')),
        biasD = ld.weights.find((w) => w.originalName.endsWith('/bias'));
      const rowsOf = (t: Float32Array, shape: number[]): Rows => {
        if (geo) return im2col(t, shape, geo, !!biasP);
        const k = shape[1] + (biasP ? 1 : 0);
        if (!biasP) return { data: t, m: shape[0], k };
        const data = new Float32Array(shape[0] * k);
        for (let r = 0; r < shape[0]; r++) {
          data.set(t.subarray(r * shape[1], (r + 1) * shape[1]), r * k);
          data[r * k + k - 1] = 1;
        }
        return { data, m: shape[0], k };
      };
      const count = (shape: number[]) => (geo ? im2colRows(shape, geo) : shape[0]);
      report.push(
        refit(kp[idx[0]], kd[idx[0]], biasP, biasD, damping, choice(idx[0]), (eq, w) =>
          eachBatch(count, (p, d, shape) => eq.add(rowsOf(p, shape), rowsOf(d, shape), w)),
        ),
      );
    } else if (cls === 'SeparableConv2D' || cls === 'DepthwiseConv2D') {
      const geo = geometry(lp);
      const dw = idx.find((i) => kp[i].kind === 'depthwise')!;
      const count = (shape: number[]) => im2colRows(shape, geo);
      report.push(
        refitDepthwise(kp[dw], kd[dw], damping, choice(dw), (f) =>
          eachBatch(count, (p, d, shape) => f(im2col(p, shape, geo), im2col(d, shape, geo))),
        ),
      );
      const pw = idx.find((i) => kp[i].kind === 'pointwise');
      if (pw !== undefined) {
        const wp = readValues(kp[dw]),
          wd = readValues(kd[dw]);
        const ch = kp[dw].channels;
        report.push(
          refit(kp[pw], kd[pw], undefined, undefined, damping, choice(pw), (eq, w) =>
            eachBatch(count, (p, d, shape) =>
              eq.add(depthwiseRows(im2col(p, shape, geo), wp, ch), depthwiseRows(im2col(d, shape, geo), wd, ch), w),
            ),
          ),
        );
      }
    } else {
      throw new ModelError(`reconstruct: layer ${lp.name} (${cls}) is not supported`);
    }
    o.onLayer?.(lp.name, ++done, todo.length);
    // A layer is up to seconds of synchronous work: let timers, signals and progress output run between layers.
    await new Promise((r) => setImmediate(r));
    if (done < todo.length && o.shouldStop?.()) throw new Interrupted(`the refit of the kept weights (layer ${done} of ${todo.length})`);
  }
  return { layers: report, seconds: (Date.now() - t0) / 1000 };
}

/** How a kernel's pruned weights are chosen when the reconstruction selects them (ReconstructOptions.select). */
interface Choice {
  zeros: number;
  method: ObsSelection;
  block: number;
}

/** Rows im2col makes of an NHWC batch of `shape`: images × output positions. */
function im2colRows(shape: number[], g: ConvGeometry): number {
  const [ho, wo] = outputSize(shape[1], shape[2], g);
  return shape[0] * ho * wo;
}

/** A depthwise conv's outputs (M×C) from its im2col rows (M × k·C) and kernel [kh, kw, C, 1]. */
function depthwiseRows(x: Rows, kernel: Float32Array, ch: number): Rows {
  const taps = x.k / ch;
  const data = new Float32Array(x.m * ch);
  for (let r = 0; r < x.m; r++)
    for (let t = 0; t < taps; t++) {
      const src = r * x.k + t * ch,
        dst = r * ch;
      for (let c = 0; c < ch; c++) data[dst + c] += x.data[src + c] * kernel[t * ch + c];
    }
  return { data, m: x.m, k: ch };
}

/**
 * A conv/dense/pointwise kernel [.., K, O] (plus a bias row when the layer has one) refitted output by output
 * from normal equations that `accumulate` fills.
 */
function refit(
  kp: KernelWeight,
  kd: KernelWeight,
  biasP: tf.LayerVariable | undefined,
  biasD: tf.LayerVariable | undefined,
  damping: number,
  choose: Choice | undefined,
  accumulate: (eq: NormalEquations, w: Float32Array) => void,
) {
  const o = kp.channels;
  const vp = readValues(kp),
    vd = readValues(kd);
  const kin = vp.length / o,
    k = kin + (biasP ? 1 : 0);
  const w = new Float32Array(k * o),
    cur = new Float32Array(k * o);
  w.set(vd);
  cur.set(vp);
  if (biasP && biasD) {
    w.set(biasD.read().dataSync() as Float32Array, kin * o);
    cur.set(biasP.read().dataSync() as Float32Array, kin * o);
  }
  const eq = new NormalEquations(k, o);
  accumulate(eq, w);
  eq.symmetrize();
  const next = new Float32Array(vp.length),
    nextBias = new Float32Array(o);
  let before = 0,
    after = 0;
  const column = (a: Float32Array, j: number) => Float64Array.from({ length: k }, (_, i) => a[i * o + j]);
  let keep = (i: number, j: number) => i === kin || vp[i * o + j] !== 0;
  if (choose) {
    const { hInv, u, wStar } = obsQuadratics(eq, w, damping);
    const { mask } = obsSelect(
      k,
      o,
      (j) => ({ hInv, u, wStar: wStar[j] }),
      choose.zeros,
      (i) => i < kin,
      choose.method,
      choose.block,
    );
    keep = (i, j) => mask[i * o + j] === 1;
  }
  for (let j = 0; j < o; j++) {
    const fit = eq.fit(j, w, (i) => keep(i, j), damping);
    before += eq.error(column(cur, j), j);
    after += eq.error(fit, j);
    for (let i = 0; i < kin; i++) next[i * o + j] = fit[i];
    nextBias[j] = fit[kin];
  }
  writeValues(kp, next);
  if (biasP)
    tf.tidy(() => {
      biasP.write(tf.tensor1d(nextBias));
    });
  return { name: kp.name, before: before / eq.m, after: after / eq.m };
}

/** A depthwise kernel [kh, kw, C, 1]: each channel's kh·kw taps refitted on that channel's own patches. */
function refitDepthwise(
  kp: KernelWeight,
  kd: KernelWeight,
  damping: number,
  choose: Choice | undefined,
  batches: (f: (xp: Rows, xd: Rows) => void) => void,
) {
  const [kh, kw, ch, mult] = kp.shape;
  if (mult !== 1) throw new ModelError(`reconstruct: depth multiplier ${mult} is not supported (${kp.name})`);
  const taps = kh * kw;
  const vp = readValues(kp),
    vd = readValues(kd);
  const eqs = Array.from({ length: ch }, () => new NormalEquations(taps, 1));
  const wc = Array.from({ length: ch }, (_, c) => Float32Array.from({ length: taps }, (_, t) => vd[t * ch + c]));
  const p = new Float64Array(taps);
  batches((xp, xd) => {
    for (let r = 0; r < xp.m; r++)
      for (let c = 0; c < ch; c++) {
        const { g, r: rc, yy } = eqs[c],
          w = wc[c];
        let y = 0;
        for (let t = 0; t < taps; t++) {
          p[t] = xp.data[r * xp.k + t * ch + c];
          y += xd.data[r * xd.k + t * ch + c] * w[t];
        }
        for (let t = 0; t < taps; t++) {
          const a = p[t];
          if (a === 0) continue;
          for (let u = t; u < taps; u++) g[t * taps + u] += a * p[u];
          rc[t] += a * y;
        }
        yy[0] += y * y;
      }
    for (const eq of eqs) eq.m += xp.m;
  });
  const next = new Float32Array(vp.length);
  let before = 0,
    after = 0,
    m = 0;
  for (const eq of eqs) eq.symmetrize();
  let keep = (t: number, c: number) => vp[t * ch + c] !== 0;
  if (choose) {
    // One quadratic per channel (each sees its own input channel); saliencies compared across the whole kernel.
    const qs = eqs.map((eq, c) => obsQuadratics(eq, wc[c], damping));
    const q = (c: number) => ({ hInv: qs[c].hInv, u: qs[c].u, wStar: qs[c].wStar[0] });
    const { mask } = obsSelect(taps, ch, q, choose.zeros, () => true, choose.method, choose.block);
    keep = (t, c) => mask[t * ch + c] === 1;
  }
  for (let c = 0; c < ch; c++) {
    const eq = eqs[c];
    const cur = Float64Array.from({ length: taps }, (_, t) => vp[t * ch + c]);
    const fit = eq.fit(0, wc[c], (t) => keep(t, c), damping);
    before += eq.error(cur, 0);
    after += eq.error(fit, 0);
    m = eq.m;
    for (let t = 0; t < taps; t++) next[t * ch + c] = fit[t];
  }
  writeValues(kp, next);
  return { name: kp.name, before: before / m, after: after / m };
}
