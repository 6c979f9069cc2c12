/**
 * MediaPipe's face mesh (468 points on a 192×192 face crop; the tfjs graph model that @vladmandic/human ships,
 * vendored in models/face-mesh/) rewritten as an ONNX graph with fer's own writer, as detect/onnx-nets.ts does
 * for face-api's nets, and run by onnxruntime in Node and the browser alike.
 *
 * The tfjs graph is read node by node: its ops are _FusedConv2D (BiasAdd, then PReLU or ReLU), depthwise
 * convs, Add, PReLU, MaxPool, a channel Pad, Sigmoid and Reshape. Weights are stored as float16 (tfjs's
 * quantization) and decoded here. No tfjs: a test checks the graph against tfjs's own executor.
 */
import { convKernelToOihw, depthwiseKernelToOihw, padsFor } from '../onnx/layout.js';
import * as ops from '../onnx/ops/index.js';
import { NetWriter, type Pads, type T } from './onnx-nets.js';
import { DataType, encodeModel, makeGraph, makeModel, makeValueInfo } from '../onnx/builder.js';
import { finishOutput } from '../onnx/writer.js';
import { ONNX_OPSET } from '../onnx/opset.js';

/** The mesh's input side. */
export const MESH_INPUT = 192;
/** Points of the mesh. */
export const MESH_POINTS = 468;

/** A tfjs graph model as stored: model.json's parsed content and its weight file(s), concatenated. */
export interface TfjsGraph {
  json: {
    modelTopology: { node: GraphNode[] };
    weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  };
  weights: Uint8Array;
}
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; list?: { i?: string[]; s?: string[] } }>;
}
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'float16' | 'uint8' | 'uint16'; scale?: number; min?: number };
}
interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The graph's weights by name, decoded as tfjs decodes them (float16, uint8/uint16 affine quantization, plain). */
export function decodeTfjsWeights(g: TfjsGraph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const view = new DataView(g.weights.buffer, g.weights.byteOffset, g.weights.byteLength);
  let at = 0;
  for (const spec of g.json.weightsManifest.flatMap((m) => m.weights)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    let data: Float32Array | Int32Array;
    if (q?.dtype === 'float16') {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(at + 2 * i, true));
      at += 2 * n;
    } else if (q) {
      const bytes = q.dtype === 'uint8' ? 1 : 2;
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = (bytes === 1 ? view.getUint8(at + i) : view.getUint16(at + 2 * i, true)) * q.scale! + q.min!;
      data = spec.dtype === 'int32' ? Int32Array.from(v, Math.round) : v;
      at += bytes * n;
    } else {
      data = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = spec.dtype === 'int32' ? view.getInt32(at + 4 * i, true) : view.getFloat32(at + 4 * i, true);
      at += 4 * n;
    }
    out.set(spec.name, { data, shape: spec.shape });
  }
  if (at !== g.weights.byteLength) throw new Error(`tfjs weights: read ${at} bytes of ${g.weights.byteLength}`);
  return out;
}

const text = (b64?: string) => (b64 ? atob(b64) : '');
const ints = (v?: { list?: { i?: string[] } }) => (v?.list?.i ?? []).map(Number);

class MeshWriter extends NetWriter {
  /** NHWC 0–255 → NCHW 0–1 (human feeds the mesh its crop divided by 255). */
  unit(input: string): string {
    const { ctx } = this.w;
    const x = this.fresh('Transpose'),
      scaled = this.fresh('Mul');
    ops.Transpose.emit(ctx, { input, output: x, perm: [0, 3, 1, 2] });
    ctx.node('Mul', [x, ctx.constant(`${scaled}.scale`, Float32Array.of(1 / 255), [])], [scaled]);
    return scaled;
  }

  convT(x: T, k: Tensor, bias: Tensor | null, strides: number[], padding: string, depthwise: boolean): T {
    const [kh, kw, cin, m] = k.shape;
    const stride = strides[1];
    const pads: Pads = padsFor(padding.toLowerCase(), x.hw, [kh, kw], [stride, stride]);
    if (depthwise)
      return this.convNode(
        x,
        depthwiseKernelToOihw(k.data as Float32Array, [kh, kw, cin, m]),
        [cin * m, 1, kh, kw],
        bias?.data as Float32Array,
        stride,
        pads,
        cin,
      );
    return this.convNode(
      x,
      convKernelToOihw(k.data as Float32Array, [kh, kw, cin, m]),
      [m, cin, kh, kw],
      (bias?.data as Float32Array) ?? null,
      stride,
      pads,
      1,
    );
  }

  prelu(x: T, alpha: Tensor): T {
    const name = this.fresh('PRelu');
    const c = alpha.data.length;
    this.w.ctx.node('PRelu', [x.name, this.w.ctx.constant(`${name}.slope`, alpha.data as Float32Array, [c, 1, 1])], [name]);
    return { name, hw: x.hw };
  }

  unary(op: 'Relu' | 'Sigmoid', x: T): T {
    const name = this.fresh(op);
    this.w.ctx.node(op, [x.name], [name]);
    return { name, hw: x.hw };
  }

  /** tf.pad of an NHWC tensor with constant zeros. */
  pad(x: T, paddings: Int32Array | Float32Array): T {
    const p = Array.from(paddings); // [[n0, n1], [h0, h1], [w0, w1], [c0, c1]]
    const name = this.fresh('Pad');
    const onnxPads = [p[0], p[6], p[2], p[4], p[1], p[7], p[3], p[5]]; // N C H W begins, then ends
    this.w.ctx.node('Pad', [x.name, this.w.ctx.int64(`${name}.pads`, onnxPads)], [name]);
    return { name, hw: [x.hw[0] + p[2] + p[3], x.hw[1] + p[4] + p[5]] };
  }

  maxPoolT(x: T, ksize: number[], strides: number[], padding: string): T {
    const pads = padsFor(padding.toLowerCase(), x.hw, [ksize[1], ksize[2]], [strides[1], strides[2]]);
    const name = this.fresh('MaxPool');
    ops.MaxPool.emit(this.w.ctx, { input: x.name, output: name, kernel: [ksize[1], ksize[2]], strides: [strides[1], strides[2]], pads });
    const out = (s: number, k: number, a: number, b: number, st: number) => Math.floor((s + a + b - k) / st) + 1;
    return { name, hw: [out(x.hw[0], ksize[1], pads[0], pads[2], strides[1]), out(x.hw[1], ksize[2], pads[1], pads[3], strides[2])] };
  }

  /** An NCHW map of 1×1 (or any) spatial size → [N, values] in NHWC order, as tfjs's Reshape of its NHWC tensor. */
  flatten(x: T): string {
    const { ctx } = this.w;
    const nhwc = this.fresh('Transpose'),
      flat = this.fresh('Reshape');
    ops.Transpose.emit(ctx, { input: x.name, output: nhwc, perm: [0, 2, 3, 1] });
    ops.Reshape.emit(ctx, { name: flat, input: nhwc, output: flat, shape: [0, -1] });
    return flat;
  }

  concat(inputs: string[]): string {
    const name = this.fresh('Concat');
    this.w.ctx.node('Concat', inputs, [name], { axis: { int: 1 } });
    return name;
  }

  encodeOne(output: string, width: number): Uint8Array {
    finishOutput(this.w, output, 'output');
    const graph = makeGraph(
      this.w.nodes,
      'face-mesh',
      [makeValueInfo('input', DataType.FLOAT, ['N', MESH_INPUT, MESH_INPUT, 3])],
      [makeValueInfo('output', DataType.FLOAT, ['N', width])],
      this.w.initializers,
    );
    return encodeModel(makeModel(graph, { opset: ONNX_OPSET, producer: 'fer', version: '0', metadata: {} }));
  }
}

/**
 * The face mesh as ONNX: NHWC 0–255 crops [N, 192, 192, 3] → [N, 1405]: 468 (x, y, z) in crop pixels (x, y in
 * 0–192), then the face-presence score (0–1).
 */
export function faceMeshOnnx(g: TfjsGraph): Uint8Array {
  const weights = decodeTfjsWeights(g);
  const nodes = new Map(g.json.modelTopology.node.map((n) => [n.name, n]));
  const w = new MeshWriter();
  const built = new Map<string, T>();
  const arg = (s: string) => s.replace(/^\^/, '').replace(/:\d+$/, '');
  const weight = (s: string) => {
    const t = weights.get(arg(s));
    if (!t) throw new Error(`face mesh graph: no weight ${s}`);
    return t;
  };
  const build = (name: string): T => {
    const done = built.get(name);
    if (done) return done;
    const n = nodes.get(name);
    if (!n) throw new Error(`face mesh graph: no node ${name}`);
    const ins = n.input ?? [];
    const a = n.attr ?? {};
    let out: T;
    switch (n.op) {
      case 'Placeholder':
        out = { name: w.unit('input'), hw: [MESH_INPUT, MESH_INPUT] };
        break;
      case 'Identity':
        out = build(arg(ins[0]));
        break;
      case '_FusedConv2D':
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const fused = (a.fused_ops?.list?.s ?? []).map(text);
        const bias = fused[0] === 'BiasAdd' ? weight(ins[2]) : null;
        out = w.convT(build(arg(ins[0])), weight(ins[1]), bias, ints(a.strides), text(a.padding?.s), n.op === 'DepthwiseConv2dNative');
        if (fused[1] === 'Prelu') out = w.prelu(out, weight(ins[3]));
        else if (fused[1] === 'Relu') out = w.unary('Relu', out);
        else if (fused.length > (bias ? 1 : 0)) throw new Error(`face mesh graph: fused ops ${fused.join(', ')}`);
        break;
      }
      case 'AddV2':
      case 'Add':
        out = w.add(build(arg(ins[0])), build(arg(ins[1])));
        break;
      case 'Prelu':
        out = w.prelu(build(arg(ins[0])), weight(ins[1]));
        break;
      case 'Relu':
      case 'Sigmoid':
        out = w.unary(n.op, build(arg(ins[0])));
        break;
      case 'MaxPool':
        out = w.maxPoolT(build(arg(ins[0])), ints(a.ksize), ints(a.strides), text(a.padding?.s));
        break;
      case 'Pad':
        out = w.pad(build(arg(ins[0])), weight(ins[1]).data);
        break;
      case 'Reshape':
        out = { name: w.flatten(build(arg(ins[0]))), hw: [1, 1] };
        break;
      default:
        throw new Error(`face mesh graph: op ${n.op} (${name}) is not supported`);
    }
    built.set(name, out);
    return out;
  };
  // human's facemesh.json: Identity_2 is the mesh [N, 1404], Identity_1 the face flag [N, 1].
  const mesh = build('Identity_2'),
    flag = build('Identity_1');
  return w.encodeOne(w.concat([mesh.name, flag.name]), MESH_POINTS * 3 + 1);
}
