/**
 * Multiply-adds per image of an ONNX classifier, read off its graph (the counterpart of model/macs.ts for
 * tfjs models, so that `fer bench` can put any variant on one accuracy/cost table): Conv
 * out_h·out_w·C_out·(C_in/group)·k_h·k_w, Gemm and MatMul K·N. The spatial size of every tensor is
 * followed from the input through Conv and MaxPool/AveragePool (pads, strides, auto_pad) and
 * GlobalAveragePool; every other op keeps its first input's size. A weight may sit behind a chain of
 * Cast, Mul or DequantizeLinear (fer's int8 and fp16 graphs): the chain is followed to its initializer.
 */
import type { OnnxTypes } from './proto.js';

type Model = OnnxTypes.ModelProto;
type Node = OnnxTypes.INodeProto;

const num = (v: unknown): number => Number(v);

function attr(n: Node, name: string): OnnxTypes.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}
const ints = (n: Node, name: string): number[] | undefined => attr(n, name)?.ints?.map(num);

/** Output size of a sliding window (Conv, pooling) along one axis. */
function windowOut(n: Node, inSize: number, k: number, axis: 0 | 1): number {
  const stride = ints(n, 'strides')?.[axis] ?? 1;
  const dilation = ints(n, 'dilations')?.[axis] ?? 1;
  const autoPad = new TextDecoder().decode(attr(n, 'auto_pad')?.s ?? new Uint8Array());
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(inSize / stride);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : (ints(n, 'pads') ?? [0, 0, 0, 0]);
  const span = dilation * (k - 1) + 1;
  const ceil = attr(n, 'ceil_mode')?.i != null && num(attr(n, 'ceil_mode')!.i) === 1;
  const q = (inSize + pads[axis] + pads[axis + 2] - span) / stride;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}

/** The dims of the initializer behind `name`, through Cast / Mul / DequantizeLinear / Identity chains. */
function weightDims(name: string, inits: Map<string, number[]>, producers: Map<string, Node>): number[] | null {
  for (let depth = 0; depth < 8; depth++) {
    const dims = inits.get(name);
    if (dims) return dims;
    const p = producers.get(name);
    if (!p || !['Cast', 'Mul', 'DequantizeLinear', 'Identity', 'QuantizeLinear'].includes(p.opType ?? '')) return null;
    name = p.input![0];
  }
  return null;
}

/** Multiply-adds per image; `inputHW` is the spatial size of the graph's first input. */
export function onnxMacs(model: Model, inputHW: [number, number]): number {
  const g = model.graph ?? {};
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(num)]));
  const producers = new Map<string, Node>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producers.set(o, n);
  const hw = new Map<string, [number, number]>([[g.input?.[0]?.name ?? '', inputHW]]);
  let macs = 0;
  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    const inHW = (n.input ?? []).map((i) => hw.get(i)).find(Boolean);
    let out = inHW;
    if (op === 'Conv' && inHW) {
      const w = weightDims(n.input![1], inits, producers);
      if (w && w.length === 4) {
        out = [windowOut(n, inHW[0], w[2], 0), windowOut(n, inHW[1], w[3], 1)];
        macs += out[0] * out[1] * w[0] * w[1] * w[2] * w[3];
      }
    } else if ((op === 'MaxPool' || op === 'AveragePool') && inHW) {
      const k = ints(n, 'kernel_shape') ?? [1, 1];
      out = [windowOut(n, inHW[0], k[0], 0), windowOut(n, inHW[1], k[1], 1)];
    } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') {
      out = [1, 1];
    } else if (op === 'Gemm' || op === 'MatMul') {
      const w = weightDims(n.input![1], inits, producers);
      if (w && w.length === 2) macs += w[0] * w[1];
    }
    if (out) for (const o of n.output ?? []) hw.set(o, out);
  }
  return macs;
}
