/**
 * Structured pruning of a mini-Xception (`fer prune --structured`): whole channels removed, giving a smaller
 * dense network that tfjs trains and the ONNX writer exports like any other. Channels are pruned in coupled
 * groups, so the network stays well formed:
 *   - stem1, stem2: each stem conv's filters (with its batch norm; stem2's feed module 1's depthwise conv and
 *     residual conv);
 *   - mK_inner: module K's first separable conv's filters (with its batch norm, and the second separable
 *     conv's depthwise channels and pointwise inputs);
 *   - mK_out: module K's output, shared by the residual add's two branches (the second separable conv's
 *     filters and the residual 1×1 conv's, each with its batch norm), read by the next module (or the head):
 *     one channel set for both branches, so the add never mixes channels.
 * The head (one filter per class) is never pruned. Importance of a channel: the magnitude of its batch-norm
 * scale |γ| (Liu et al.'s network slimming; summed over the add's two branches), or the L1 norm of its
 * filter(s). The kept channels keep their order.
 */
import { tf } from '../engine/tf.js';
import { UsageError } from '../errors.js';
import { miniXceptionWithRoles, type ArchOptions, type MiniXceptionChannels } from '../model/mini-xception.js';
import { outputClasses } from '../model/io.js';
import { layerMacs } from '../model/macs.js';

export const STRUCTURED_CRITERIA = ['bn', 'l1'] as const;
export type StructuredCriterion = (typeof STRUCTURED_CRITERIA)[number];

export interface StructuredOptions {
  /** Share of each group's channels removed (0..0.9). */
  ratio: number;
  criterion?: StructuredCriterion;
  /** Round each kept count up to a multiple of this (onnxruntime's CPU kernels pad channels to blocks of 8/16). */
  multiple?: number;
  /** The source's architecture options (stride-2 stem variants keep their strides). */
  arch?: ArchOptions;
}

export interface StructuredResult {
  model: tf.LayersModel;
  channels: MiniXceptionChannels;
  /** Kept channel indices of each group, in the source's numbering. */
  kept: Record<string, number[]>;
}

/** Group of the channels a layer's weight runs over: [input group | null, output group | null]. */
export function groupsOf(role: string): [string | null, string | null] {
  const prevOut = (k: number) => (k === 1 ? 'stem2' : `m${k - 1}_out`);
  if (role === 'stem1' || role === 'stem1_bn') return [null, 'stem1'];
  if (role === 'stem2' || role === 'stem2_bn') return ['stem1', 'stem2'];
  if (role === 'head') return ['m4_out', null];
  const m = /^m(\d)_(res|sep1|sep2)(_bn)?$/.exec(role);
  if (!m) throw new Error(`structured: unknown layer role ${role}`);
  const k = Number(m[1]);
  if (m[2] === 'res') return [prevOut(k), `m${k}_out`];
  if (m[2] === 'sep1') return [prevOut(k), `m${k}_inner`];
  return [`m${k}_inner`, `m${k}_out`];
}

/** Roles of a mini-Xception's weights, by position (a loaded model lists its weights as buildModel does). */
export function weightRoles(
  source: tf.LayersModel,
  arch: ArchOptions,
  channels?: MiniXceptionChannels,
): { ref: tf.LayersModel; roles: string[] } {
  const { model: ref, roles } = miniXceptionWithRoles({ ...arch, numClasses: outputClasses(source), channels, l2: 0 });
  if (ref.weights.length !== source.weights.length) {
    ref.dispose();
    throw new UsageError('prune --structured: the model is not a mini-Xception (its weights do not match the architecture)');
  }
  return { ref, roles: ref.weights.map((w) => roles.get(w.name.split('/')[0]) ?? '') };
}

export const kind = (name: string) => name.slice(name.lastIndexOf('/') + 1).replace(/_\d+$/, '');

/** Per-channel importance of every group. */
export function importance(source: tf.LayersModel, roles: string[], criterion: StructuredCriterion): Map<string, Float64Array> {
  const imp = new Map<string, Float64Array>();
  const add = (group: string, values: ArrayLike<number>) => {
    const cur = imp.get(group) ?? new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) cur[i] += values[i];
    imp.set(group, cur);
  };
  source.weights.forEach((w, i) => {
    const [, out] = groupsOf(roles[i]);
    if (!out) return;
    const k = kind(w.name),
      v = w.read().dataSync();
    if (criterion === 'bn' && k === 'gamma') add(out, Array.from(v, Math.abs));
    if (criterion === 'l1' && (k === 'kernel' || k === 'pointwise_kernel')) {
      const c = w.shape[w.shape.length - 1]!;
      const s = new Float64Array(c);
      for (let j = 0; j < v.length; j++) s[j % c] += Math.abs(v[j]);
      add(out, s);
    }
  });
  return imp;
}

/** The `keep` largest entries' indices, in ascending index order (ties: the lower index). */
function topIndices(values: Float64Array, keep: number): number[] {
  return [...values.keys()]
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, keep)
    .sort((a, b) => a - b);
}

/** Slices `values` (shape `shape`) to the kept indices along the axes given. */
function slice(values: Float32Array, shape: number[], axes: [number, number[]][]): { data: Float32Array; shape: number[] } {
  let data = values,
    dims = [...shape];
  for (const [axis, keep] of axes) {
    const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1),
      inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const out = new Float32Array(outer * keep.length * inner);
    for (let o = 0; o < outer; o++) {
      keep.forEach((c, j) =>
        out.set(data.subarray((o * dims[axis] + c) * inner, (o * dims[axis] + c + 1) * inner), (o * keep.length + j) * inner),
      );
    }
    data = out;
    dims = dims.map((d, i) => (i === axis ? keep.length : d));
  }
  return { data, shape: dims };
}

export function structuredPrune(source: tf.LayersModel, o: StructuredOptions): StructuredResult {
  if (!(o.ratio >= 0 && o.ratio <= 0.9)) throw new UsageError(`prune --structured: --ratio ${o.ratio} must be in 0..0.9`);
  const arch = o.arch ?? {};
  const { ref, roles } = weightRoles(source, arch);
  ref.dispose();
  const imp = importance(source, roles, o.criterion ?? 'bn');
  const multiple = Math.max(1, o.multiple ?? 1);
  const kept: Record<string, number[]> = {};
  for (const [group, values] of imp) {
    const n = values.length;
    const keep = Math.min(n, Math.max(1, Math.ceil(Math.round((1 - o.ratio) * n) / multiple) * multiple));
    kept[group] = topIndices(values, keep);
  }
  const channels: MiniXceptionChannels = {
    stem: [kept.stem1.length, kept.stem2.length],
    inner: [1, 2, 3, 4].map((k) => kept[`m${k}_inner`].length),
    out: [1, 2, 3, 4].map((k) => kept[`m${k}_out`].length),
  };
  const { ref: target, roles: targetRoles } = weightRoles(source, arch, channels);
  target.weights.forEach((w, i) => {
    const src = source.weights[i];
    const [inG, outG] = groupsOf(targetRoles[i]);
    const k = kind(src.name),
      shape = src.shape as number[];
    const axes: [number, number[]][] = [];
    if (shape.length === 1) {
      if (outG) axes.push([0, kept[outG]]); // batch-norm vectors (the head's bias has no group)
    } else {
      if (inG) axes.push([2, kept[inG]]);
      if (outG && k !== 'depthwise_kernel') axes.push([3, kept[outG]]);
    }
    const s = slice(src.read().dataSync() as Float32Array, shape, axes);
    const t = tf.tensor(s.data, s.shape);
    w.write(t);
    t.dispose();
  });
  return { model: target, channels, kept };
}

export interface StructuredRow {
  role: string;
  macsBefore: number;
  macsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
}

/** Multiply-adds and parameters of each conv before and after, by role (the same architecture lists its layers alike). */
export function structuredReport(before: tf.LayersModel, after: tf.LayersModel, arch: ArchOptions = {}): StructuredRow[] {
  const { model: ref, roles } = miniXceptionWithRoles({ ...arch, numClasses: outputClasses(before), l2: 0 });
  const roleAt = ref.layers.map((l) => roles.get(l.name));
  ref.dispose();
  const macs = (m: tf.LayersModel) => new Map(layerMacs(m).map((r) => [r.name, r.macs]));
  const mb = macs(before),
    ma = macs(after);
  const rows: StructuredRow[] = [];
  before.layers.forEach((l, i) => {
    const role = roleAt[i];
    if (!role || role.endsWith('_bn') || !mb.has(l.name)) return;
    const a = after.layers[i];
    rows.push({
      role,
      macsBefore: mb.get(l.name)!,
      macsAfter: ma.get(a.name)!,
      paramsBefore: l.countParams(),
      paramsAfter: a.countParams(),
    });
  });
  return rows;
}
