/**
 * tfjs LayersModel → ONNX: walks the layers in order, folds each BatchNormalization into the conv before
 * it, emits NCHW ops (the NHWC input, when kept, is reshaped once at the top: no transpose pairs inside),
 * and writes fp32, fp16 (weights and activations), or int8 QDQ (weights per output channel, activations
 * per tensor from calibration; symmetric, zero point 0, as TensorRT requires).
 */
import { tf } from '../../engine/tf.js';
import { ModelError } from '../../errors.js';
import type { FerMetadata } from '../../model/io.js';
import { quantize, toFloat16 } from '../../quantize/quantize.js';
import { activationQuantPoints, depthwiseKey } from '../../quantize/activations.js';
import { foldableBatchNorm, layerConfig, pair, producers, type Layer } from '../../model/graph.js';
import type { AttrValue } from './builder.js';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './builder.js';
import type { OnnxTypes } from './proto.js';
import type { GraphContext } from './ops/types.js';
import * as ops from './ops/index.js';
import { convKernelToOihw, depthwiseKernelToOihw, foldBatchNorm, padsFor, type BatchNormParams } from './layout.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
/**
 * What an int8 export is for. `cpu`: int8 weights (per output channel) dequantized to float at load, float
 * activations: a quarter of the file, never slower than fp32 (onnxruntime's CPU int8 kernels run this net's
 * few-channel and depthwise convs slower than its float ones, BENCHMARKS.md). `tensorrt`: the full-integer
 * QDQ graph (activations quantized per tensor from calibration) that TensorRT and NPUs run in int8.
 */
export const INT8_TARGETS = ['cpu', 'tensorrt'] as const;
export type Int8Target = (typeof INT8_TARGETS)[number];

export interface ConvertOptions {
  precision?: Precision;
  /** NCHW input [N,1,48,48] instead of tfjs's NHWC [N,48,48,1]. */
  nchw?: boolean;
  /** fp16: keep float32 input and output (Cast at both ends). */
  keepIoFloat32?: boolean;
  opset?: number;
  version?: string;
  /** int8: the graph's target (default cpu: weight-only). */
  int8Target?: Int8Target;
  /** int8: activation range (max |x|) per tfjs layer output. */
  activationRanges?: Record<string, number>;
  /**
   * int8, filled by the writer: per conv output tensor (tfjs layer name: the folded BN's, else the conv's),
   * what rounding its bias to int32 added per channel, so that a simulation can add the same.
   */
  biasRounding?: Map<string, Float32Array>;
}

export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

const SUPPORTED = ['InputLayer', 'Conv2D', 'SeparableConv2D', 'DepthwiseConv2D', 'BatchNormalization', 'Activation', 'ReLU',
  'MaxPooling2D', 'AveragePooling2D', 'Add', 'GlobalAveragePooling2D', 'Dense', 'Dropout', 'Flatten', 'Softmax'];

const cfg = layerConfig;
const values = (l: Layer, i: number) => l.getWeights()[i].dataSync() as Float32Array;
const shapeOf = (l: Layer) => (l.getWeights()[0].shape as number[]);

function inputHw(l: Layer): [number, number] {
  const s = (l.input as tf.SymbolicTensor).shape;
  return [s[1] as number, s[2] as number];
}

function bnParams(bn: Layer): BatchNormParams {
  const c = cfg(bn);
  const ws = bn.weights.map((w) => [w.originalName.split('/').pop()!, w.read().dataSync() as Float32Array] as const);
  const get = (n: string) => ws.find(([k]) => k === n)?.[1] ?? null;
  return { gamma: get('gamma'), beta: get('beta'), mean: get('moving_mean')!, variance: get('moving_variance')!, epsilon: c.epsilon as number };
}

export function convertToOnnx(model: tf.LayersModel, meta: FerMetadata, o: ConvertOptions = {}): Uint8Array {
  const precision = o.precision ?? 'fp32';
  const nodes: OnnxTypes.NodeProto[] = [];
  const initializers: OnnxTypes.TensorProto[] = [];
  let nodeCount = 0;
  // int8: scales of what is quantized, so that a Conv's bias can be written as int32 (scale = x·w scale),
  // the form onnxruntime needs to fuse DQ → Conv → Q into one integer QLinearConv.
  const actScales = new Map<string, number>();
  const weightScales = new Map<string, Float32Array>();
  const qdqZero = 'qdq.zero_point';
  const fullInt8 = precision === 'int8' && (o.int8Target ?? 'cpu') === 'tensorrt';
  if (fullInt8) initializers.push(makeTensor(qdqZero, DataType.INT8, [], new Int8Array(1)));

  const ctx: GraphContext = {
    initializers,
    node(opType, inputs, outputs, attrs: Record<string, AttrValue> = {}) {
      nodes.push(makeNode(opType, inputs, outputs, `${opType}_${nodeCount++}`, attrs));
    },
    weight(name, w, dims, opts = {}) {
      const v = flushDenormals(w);
      if (precision === 'int8' && opts.quantize) {
        // Symmetric int8 per output channel (axis 0 of OIHW), eqs. (2)–(4) channel by channel.
        const per = v.length / dims[0];
        const qs = new Int8Array(v.length), scales = new Float32Array(dims[0]);
        for (let c = 0; c < dims[0]; c++) {
          const r = quantize(v.subarray(c * per, (c + 1) * per), 8);
          qs.set(r.q, c * per);
          scales[c] = 1 / r.scales[0];
        }
        initializers.push(makeTensor(`${name}.q`, DataType.INT8, dims, qs));
        if (!fullInt8) {
          // int8 storage, float compute: Cast and Mul of constants, which onnxruntime (and any runtime)
          // folds into a float weight at load, so the conv keeps its prepacked float kernel. (A
          // DequantizeLinear here stays in the graph for QDQ fusion and runs 3× slower than fp32.)
          initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, [dims[0], ...dims.slice(1).map(() => 1)], scales));
          ctx.node('Cast', [`${name}.q`], [`${name}.float`], { to: { int: DataType.FLOAT } });
          ctx.node('Mul', [`${name}.float`, `${name}.scale`], [name]);
          return name;
        }
        initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, [dims[0]], scales));
        initializers.push(makeTensor(`${name}.zero_point`, DataType.INT8, [dims[0]], new Int8Array(dims[0])));
        weightScales.set(name, scales);
        nodes.push(makeNode('DequantizeLinear', [`${name}.q`, `${name}.scale`, `${name}.zero_point`], [name], `DequantizeLinear_${nodeCount++}`, { axis: { int: 0 } }));
        return name;
      }
      return ctx.constant(name, v, dims);
    },
    bias(name, v, input, weight, output) {
      const sx = actScales.get(input), sw = weightScales.get(weight);
      if (precision !== 'int8' || sx === undefined || sw === undefined || sw.length !== v.length) return ctx.constant(name, v, [v.length]);
      const scales = sw.map((s) => s * sx);
      const q = Int32Array.from(v, (b, c) => Math.round(b / scales[c]));
      o.biasRounding?.set(output, Float32Array.from(q, (qc, c) => qc * scales[c] - v[c]));
      initializers.push(makeTensor(`${name}.q`, DataType.INT32, [v.length], q));
      initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, [v.length], scales));
      initializers.push(makeTensor(`${name}.zero_point`, DataType.INT32, [v.length], new Int32Array(v.length)));
      ctx.node('DequantizeLinear', [`${name}.q`, `${name}.scale`, `${name}.zero_point`], [name], { axis: { int: 0 } });
      return name;
    },
    constant(name, c, dims) {
      const v = flushDenormals(c);
      initializers.push(precision === 'fp16' ? makeTensor(name, DataType.FLOAT16, dims, toFloat16(v)) : makeTensor(name, DataType.FLOAT, dims, v));
      return name;
    },
    int64(name, v) {
      initializers.push(makeTensor(name, DataType.INT64, [v.length], BigInt64Array.from(v.map(BigInt))));
      return name;
    },
  };

  // Activation Q/DQ after a tensor where the shared rule (quantize/activations.ts) puts one; returns the
  // name consumers read.
  const points = fullInt8 ? activationQuantPoints(model, o.activationRanges ?? meta.quantization?.activations ?? {}) : new Map<string, number>();
  const qdq = (tensor: string, key: string): string => {
    const s = points.get(key);
    if (s === undefined) return tensor;
    const scale = ctx.constant(`${tensor}.act_scale`, Float32Array.of(s), []);
    actScales.set(`${tensor}.dq`, s);
    ops.QuantizeLinear.emit(ctx, { input: tensor, output: `${tensor}.dq`, scaleName: scale, zeroPointName: qdqZero });
    return `${tensor}.dq`;
  };

  const name = new Map<string, string>(); // tfjs layer → ONNX tensor its consumers read
  const folded = new Set<string>();
  const layers = model.layers;
  const inputLayer = layers[0];
  const inShape = (inputLayer.output as tf.SymbolicTensor).shape as number[];
  if (inShape.length !== 4) throw new ModelError(`convert: expected an image input [N,H,W,C], got [${inShape}]`);
  const [, H, W, C] = inShape as [null, number, number, number];
  const graphInput = makeValueInfo(INPUT_NAME, precision === 'fp16' && !(o.keepIoFloat32 ?? true) ? DataType.FLOAT16 : DataType.FLOAT,
    o.nchw ? ['N', C, H, W] : ['N', H, W, C]);
  let x = INPUT_NAME;
  if (precision === 'fp16' && (o.keepIoFloat32 ?? true)) {
    ctx.node('Cast', [x], ['image.fp16'], { to: { int: DataType.FLOAT16 } });
    x = 'image.fp16';
  }
  if (!o.nchw) {
    if (C === 1) ops.Reshape.emit(ctx, { name: 'input', input: x, output: 'image.nchw', shape: [0, 1, H, W] }); // 0 = copy N: keeps the batch symbol (with -1 onnxruntime loses it and stops fusing an Add)
    else ops.Transpose.emit(ctx, { input: x, output: 'image.nchw', perm: [0, 3, 1, 2] });
    x = 'image.nchw';
  }
  name.set(inputLayer.name, qdq(x, inputLayer.name));

  const activation = (l: Layer, out: string): string => {
    const act = (cfg(l).activation as string | undefined) ?? 'linear';
    if (act === 'linear') return out;
    if (act === 'relu') {
      ops.Relu.emit(ctx, { input: out, output: `${out}.relu` });
      return `${out}.relu`;
    }
    if (act === 'softmax') {
      ops.Softmax.emit(ctx, { input: out, output: `${out}.softmax` });
      return `${out}.softmax`;
    }
    throw new ModelError(`convert: unsupported activation "${act}" in layer ${l.name} (supported: linear, relu, softmax)`);
  };

  /**
   * Emits a Conv for layer `l` (or its pointwise half), folding the BatchNormalization that follows `l`
   * when it is l's only consumer. Returns the output tensor: the BN's name when folded.
   */
  const emitConv = (l: Layer, part: string, input: string, output: string, weight: Float32Array, dims: [number, number, number, number],
    bias: Float32Array | undefined, strides: [number, number], dilations: [number, number], group: number,
    pads: [number, number, number, number], fold: boolean): string => {
    let w = weight, b = bias, out = output;
    const bn = fold ? foldableBatchNorm(l) : null;
    if (bn) {
      ({ weight: w, bias: b } = foldBatchNorm(weight, bias, dims[0], bnParams(bn)));
      folded.add(bn.name);
      out = bn.name;
    }
    ops.Conv.emit(ctx, { name: `${l.name}${part}`, input, output: out, weight: w, dims, bias: b, strides, dilations, group, pads });
    return out;
  };

  for (const l of layers.slice(1)) {
    const cls = l.getClassName();
    if (!SUPPORTED.includes(cls)) throw new ModelError(`convert: unsupported layer "${cls}" (${l.name}); supported: ${SUPPORTED.join(', ')}`);
    if (folded.has(l.name)) {
      // The conv before wrote this layer's output tensor (same name); only the int8 Q/DQ remains to add.
      name.set(l.name, qdq(l.name, l.name));
      continue;
    }
    const ins = producers(l).map((p) => name.get(p.name)!);
    const c = cfg(l);
    let out: string;
    switch (cls) {
      case 'Conv2D': {
        const shape = shapeOf(l);
        const k: [number, number] = [shape[0], shape[1]], st = pair(c.strides), dil = pair(c.dilationRate);
        out = emitConv(l, '', ins[0], l.name, convKernelToOihw(values(l, 0), shape), [shape[3], shape[2], shape[0], shape[1]],
          c.useBias ? values(l, 1) : undefined, st, dil, 1, padsFor(c.padding as string, inputHw(l), k, st, dil), true);
        out = out === l.name ? activation(l, out) : out;
        break;
      }
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        const dshape = shapeOf(l);
        const [kh, kw, ch, mult] = dshape;
        const sep = cls === 'SeparableConv2D', st = pair(c.strides), dil = pair(c.dilationRate);
        const pads = padsFor(c.padding as string, inputHw(l), [kh, kw], st, dil);
        const dwBias = !sep && c.useBias ? values(l, 1) : undefined;
        out = emitConv(l, sep ? '.depthwise' : '', ins[0], sep ? `${l.name}.depthwise` : l.name,
          depthwiseKernelToOihw(values(l, 0), dshape), [ch * mult, 1, kh, kw], dwBias, st, dil, ch, pads, !sep);
        if (sep) {
          out = qdq(out, depthwiseKey(l.name));
          const pshape = l.getWeights()[1].shape as number[];
          out = emitConv(l, '.pointwise', out, l.name, convKernelToOihw(values(l, 1), pshape), [pshape[3], pshape[2], 1, 1],
            c.useBias ? values(l, 2) : undefined, [1, 1], [1, 1], 1, [0, 0, 0, 0], true);
        }
        out = out === l.name ? activation(l, out) : out;
        break;
      }
      case 'BatchNormalization': {
        const p = bnParams(l);
        const n = p.mean.length;
        ops.BatchNormalization.emit(ctx, { name: l.name, input: ins[0], output: l.name, scale: p.gamma ?? new Float32Array(n).fill(1), bias: p.beta ?? new Float32Array(n), mean: p.mean, variance: p.variance, epsilon: p.epsilon });
        out = l.name;
        break;
      }
      case 'Activation':
        out = activation(l, ins[0]);
        break;
      case 'ReLU':
        ops.Relu.emit(ctx, { input: ins[0], output: l.name });
        out = l.name;
        break;
      case 'Softmax':
        ops.Softmax.emit(ctx, { input: ins[0], output: l.name });
        out = l.name;
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const k = pair(c.poolSize), s = pair(c.strides ?? c.poolSize);
        const args = { input: ins[0], output: l.name, kernel: k, strides: s, pads: padsFor(c.padding as string, inputHw(l), k, s) };
        (cls === 'MaxPooling2D' ? ops.MaxPool : ops.AveragePool).emit(ctx, args);
        out = l.name;
        break;
      }
      case 'Add':
        ops.Add.emit(ctx, { inputs: ins, output: l.name });
        out = l.name;
        break;
      case 'GlobalAveragePooling2D':
        ops.GlobalAveragePool.emit(ctx, { input: ins[0], output: l.name });
        out = l.name;
        break;
      case 'Flatten': {
        const rank = ((l.input as tf.SymbolicTensor).shape as number[]).length;
        let src = ins[0];
        if (rank === 4) {
          ops.Transpose.emit(ctx, { input: src, output: `${l.name}.nhwc`, perm: [0, 2, 3, 1] });
          src = `${l.name}.nhwc`;
        }
        ops.Flatten.emit(ctx, { input: src, output: l.name });
        out = l.name;
        break;
      }
      case 'Dense': {
        const shape = shapeOf(l) as [number, number];
        ops.Gemm.emit(ctx, { name: l.name, input: ins[0], output: l.name, weight: values(l, 0), dims: shape, bias: c.useBias ? values(l, 1) : undefined });
        out = activation(l, l.name);
        break;
      }
      default: // Dropout: identity at inference
        out = ins[0];
    }
    name.set(l.name, qdq(out, l.name));
  }

  // Final output (Cast back to float32 for fp16 with float IO).
  let last = name.get(layers[layers.length - 1].name)!;
  const outType = precision === 'fp16' && !(o.keepIoFloat32 ?? true) ? DataType.FLOAT16 : DataType.FLOAT;
  if (precision === 'fp16' && (o.keepIoFloat32 ?? true)) {
    ctx.node('Cast', [last], [OUTPUT_NAME], { to: { int: DataType.FLOAT } });
  } else {
    // Rename the last tensor rather than add an Identity: one op less per run (batch-1 latency).
    const producer = nodes.find((n) => n.output[0] === last);
    if (producer && nodes.every((n) => !n.input.includes(last))) producer.output[0] = OUTPUT_NAME;
    else ctx.node('Identity', [last], [OUTPUT_NAME]);
  }
  last = OUTPUT_NAME;
  const numClasses = ((layers[layers.length - 1].output as tf.SymbolicTensor).shape as number[])[1];
  if (fullInt8) dedicateQdqPairs(nodes, initializers);
  const graph = makeGraph(nodes, 'fer', [graphInput], [makeValueInfo(OUTPUT_NAME, outType, ['N', numClasses])], initializers);
  const metadata: Record<string, string> = {
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify({ ...meta.preprocess, layout: o.nchw ? 'NCHW' : 'NHWC', size: [H, W], channels: C, color: 'grayscale' }),
    precision,
    arch: meta.arch ?? 'unknown',
  };
  if (meta.pruning) metadata.pruning = JSON.stringify({ sparsity: meta.pruning.sparsity, pattern: meta.pruning.pattern });
  if (meta.quantization || precision === 'int8') {
    const int8 = fullInt8 ? 'int8 QDQ, weights per-channel symmetric, activations per-tensor symmetric (target tensorrt)'
      : 'int8 weights per-channel symmetric, float activations (target cpu)';
    metadata.quantization = JSON.stringify({ ...meta.quantization, activations: undefined, export: precision === 'int8' ? int8 : precision });
  }
  return encodeModel(makeModel(graph, { opset: o.opset ?? 13, producer: 'fer', version: o.version ?? '0.0.0', metadata }));
}

/**
 * Gives every consumer of a quantized activation its own Q→DQ pair. onnxruntime converts int8 Q/DQ pairs
 * to the uint8 its x86 kernels want only when a Q feeds one DQ; a shared pair stays int8 next to converted
 * ones, the types around a Conv then differ, and it is not fused into QLinearConv.
 */
function dedicateQdqPairs(nodes: OnnxTypes.NodeProto[], initializers: OnnxTypes.TensorProto[]): void {
  const readers = new Map<string, OnnxTypes.NodeProto[]>();
  for (const n of nodes) for (const i of n.input) readers.set(i, [...(readers.get(i) ?? []), n]);
  const init = new Map(initializers.map((t) => [t.name, t]));
  for (let k = 0; k < nodes.length; k++) {
    const dq = nodes[k];
    if (dq.opType !== 'DequantizeLinear' || !dq.input[0].endsWith('.dq.q')) continue;
    const q = nodes.find((n) => n.opType === 'QuantizeLinear' && n.output[0] === dq.input[0])!;
    const users = readers.get(dq.output[0]) ?? [];
    users.slice(1).forEach((user, j) => {
      const tag = `${dq.output[0]}.${j + 1}`;
      // Own scale and zero-point initializers too: onnxruntime's common-subexpression elimination would
      // otherwise merge the identical Q nodes back into one.
      const [scale, zp] = [`${tag}.scale`, `${tag}.zero_point`];
      initializers.push({ ...init.get(q.input[1])!, name: scale } as OnnxTypes.TensorProto, { ...init.get(q.input[2])!, name: zp } as OnnxTypes.TensorProto);
      const q2 = makeNode('QuantizeLinear', [q.input[0], scale, zp], [`${tag}.q`], `${q.name}_${j + 1}`);
      const dq2 = makeNode('DequantizeLinear', [`${tag}.q`, scale, zp], [tag], `${dq.name}_${j + 1}`);
      user.input = user.input.map((i) => (i === dq.output[0] ? tag : i));
      nodes.splice(k + 1, 0, q2, dq2);
      k += 2;
    });
  }
}


/**
 * Weights below float32's smallest normal (1.2e-38; long-dead channels decay into them under L2) become
 * 0: numerically nothing, but x86 multiplies a denormal through a microcode assist, which made inference of
 * a model with 3,444 such weights 4× slower.
 */
function flushDenormals(v: Float32Array): Float32Array {
  const FLT_MIN = 1.1754944e-38;
  return v.some((x) => x !== 0 && Math.abs(x) < FLT_MIN) ? v.map((x) => (Math.abs(x) < FLT_MIN ? 0 : x)) : v;
}
