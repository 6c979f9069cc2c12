/**
 * One converter per tfjs layer class: each emits its layer's ONNX ops through the graph writer and returns
 * the tensor its consumers read. `convertToOnnx` is the loop over the model's layers that calls them.
 */
import { tf } from '../engine/tf.js';
import { ModelError } from '../errors.js';
import type { FerMetadata } from '../model/types.js';
import { activationQuantPoints, depthwiseKey } from '../quantize/activations.js';
import { foldableBatchNorm, layerConfig, pair, type Layer } from '../model/graph.js';
import * as ops from '../onnx/ops/index.js';
import { convKernelToOihw, depthwiseKernelToOihw, flushDenormals, foldBatchNorm, padsFor, type BatchNormParams } from '../onnx/layout.js';
import type { GraphWriter } from '../onnx/writer.js';
import type { ConvertOptions } from './options.js';

const cfg = layerConfig;
/** A layer's weight `i`, its denormals flushed before any arithmetic reads them (onnx/layout.ts flushDenormals). */
const values = (l: Layer, i: number) => flushDenormals(l.getWeights()[i].dataSync() as Float32Array);
const shapeOf = (l: Layer) => l.getWeights()[0].shape as number[];

function inputHw(l: Layer): [number, number] {
  const s = (l.input as tf.SymbolicTensor).shape;
  return [s[1] as number, s[2] as number];
}

export function bnParams(bn: Layer): BatchNormParams {
  const c = cfg(bn);
  const ws = bn.weights.map((w) => [w.originalName.split('/').pop()!, flushDenormals(w.read().dataSync() as Float32Array)] as const);
  const get = (n: string) => ws.find(([k]) => k === n)?.[1] ?? null;
  return {
    gamma: get('gamma'),
    beta: get('beta'),
    mean: get('moving_mean')!,
    variance: get('moving_variance')!,
    epsilon: c.epsilon as number,
  };
}

/** What a converter uses besides the writer: activation Q/DQ, fused activations, convs with BN folded. */
export interface LayerEnv {
  writer: GraphWriter;
  /** Layers whose BatchNormalization a conv folded (their output tensor is the conv's). */
  folded: Set<string>;
  qdq(tensor: string, key: string): string;
  activation(l: Layer, out: string): string;
  emitConv(
    l: Layer,
    part: string,
    input: string,
    output: string,
    weight: Float32Array,
    dims: [number, number, number, number],
    bias: Float32Array | undefined,
    strides: [number, number],
    dilations: [number, number],
    group: number,
    pads: [number, number, number, number],
    fold: boolean,
  ): string;
}

export function makeLayerEnv(model: tf.LayersModel, meta: FerMetadata, o: ConvertOptions, writer: GraphWriter): LayerEnv {
  const { ctx, actScales, qdqZero, fullInt8 } = writer;
  const folded = new Set<string>();
  // Activation Q/DQ after a tensor where the shared rule (quantize/activations.ts) puts one; returns the
  // name consumers read.
  const points = fullInt8
    ? activationQuantPoints(model, o.activationRanges ?? meta.quantization?.activations ?? {})
    : new Map<string, number>();
  const qdq = (tensor: string, key: string): string => {
    const s = points.get(key);
    if (s === undefined) return tensor;
    const scale = ctx.constant(`${tensor}.act_scale`, Float32Array.of(s), []);
    actScales.set(`${tensor}.dq`, s);
    ops.QuantizeLinear.emit(ctx, { input: tensor, output: `${tensor}.dq`, scaleName: scale, zeroPointName: qdqZero });
    return `${tensor}.dq`;
  };

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
  const emitConv: LayerEnv['emitConv'] = (l, part, input, output, weight, dims, bias, strides, dilations, group, pads, fold) => {
    let w = weight,
      b = bias,
      out = output;
    const bn = fold ? foldableBatchNorm(l) : null;
    if (bn) {
      ({ weight: w, bias: b } = foldBatchNorm(weight, bias, dims[0], bnParams(bn)));
      folded.add(bn.name);
      out = bn.name;
    }
    ops.Conv.emit(ctx, { name: `${l.name}${part}`, input, output: out, weight: w, dims, bias: b, strides, dilations, group, pads });
    return out;
  };

  return { writer, folded, qdq, activation, emitConv };
}

export type LayerConverter = (l: Layer, ins: string[], env: LayerEnv) => string;

const pool =
  (op: typeof ops.MaxPool | typeof ops.AveragePool): LayerConverter =>
  (l, ins, { writer: { ctx } }) => {
    const c = cfg(l);
    const k = pair(c.poolSize),
      s = pair(c.strides ?? c.poolSize);
    op.emit(ctx, { input: ins[0], output: l.name, kernel: k, strides: s, pads: padsFor(c.padding as string, inputHw(l), k, s) });
    return l.name;
  };

/** Depthwise conv, or a separable conv as its depthwise half then its pointwise half (BN folded into the last). */
const depthwise: LayerConverter = (l, ins, { qdq, activation, emitConv }) => {
  const c = cfg(l);
  const dshape = shapeOf(l);
  const [kh, kw, ch, mult] = dshape;
  const sep = l.getClassName() === 'SeparableConv2D',
    st = pair(c.strides),
    dil = pair(c.dilationRate);
  const pads = padsFor(c.padding as string, inputHw(l), [kh, kw], st, dil);
  const dwBias = !sep && c.useBias ? values(l, 1) : undefined;
  let out = emitConv(
    l,
    sep ? '.depthwise' : '',
    ins[0],
    sep ? `${l.name}.depthwise` : l.name,
    depthwiseKernelToOihw(values(l, 0), dshape),
    [ch * mult, 1, kh, kw],
    dwBias,
    st,
    dil,
    ch,
    pads,
    !sep,
  );
  if (sep) {
    out = qdq(out, depthwiseKey(l.name));
    const pshape = l.getWeights()[1].shape as number[];
    out = emitConv(
      l,
      '.pointwise',
      out,
      l.name,
      convKernelToOihw(values(l, 1), pshape),
      [pshape[3], pshape[2], 1, 1],
      c.useBias ? values(l, 2) : undefined,
      [1, 1],
      [1, 1],
      1,
      [0, 0, 0, 0],
      true,
    );
  }
  return out === l.name ? activation(l, out) : out;
};

/** The converters, by tfjs layer class (InputLayer is the graph input, handled by convertToOnnx). */
export const LAYER_CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: (l, ins, { activation, emitConv }) => {
    const c = cfg(l);
    const shape = shapeOf(l);
    const k: [number, number] = [shape[0], shape[1]],
      st = pair(c.strides),
      dil = pair(c.dilationRate);
    const out = emitConv(
      l,
      '',
      ins[0],
      l.name,
      convKernelToOihw(values(l, 0), shape),
      [shape[3], shape[2], shape[0], shape[1]],
      c.useBias ? values(l, 1) : undefined,
      st,
      dil,
      1,
      padsFor(c.padding as string, inputHw(l), k, st, dil),
      true,
    );
    return out === l.name ? activation(l, out) : out;
  },
  DepthwiseConv2D: depthwise,
  SeparableConv2D: depthwise,
  BatchNormalization: (l, ins, { writer: { ctx } }) => {
    const p = bnParams(l);
    const n = p.mean.length;
    ops.BatchNormalization.emit(ctx, {
      name: l.name,
      input: ins[0],
      output: l.name,
      scale: p.gamma ?? new Float32Array(n).fill(1),
      bias: p.beta ?? new Float32Array(n),
      mean: p.mean,
      variance: p.variance,
      epsilon: p.epsilon,
    });
    return l.name;
  },
  Activation: (l, ins, { activation }) => activation(l, ins[0]),
  ReLU: (l, ins, { writer: { ctx } }) => {
    ops.Relu.emit(ctx, { input: ins[0], output: l.name });
    return l.name;
  },
  Softmax: (l, ins, { writer: { ctx } }) => {
    ops.Softmax.emit(ctx, { input: ins[0], output: l.name });
    return l.name;
  },
  MaxPooling2D: pool(ops.MaxPool),
  AveragePooling2D: pool(ops.AveragePool),
  Add: (l, ins, { writer: { ctx } }) => {
    ops.Add.emit(ctx, { inputs: ins, output: l.name });
    return l.name;
  },
  GlobalAveragePooling2D: (l, ins, { writer: { ctx } }) => {
    ops.GlobalAveragePool.emit(ctx, { input: ins[0], output: l.name });
    return l.name;
  },
  Flatten: (l, ins, { writer: { ctx } }) => {
    const rank = ((l.input as tf.SymbolicTensor).shape as number[]).length;
    let src = ins[0];
    if (rank === 4) {
      ops.Transpose.emit(ctx, { input: src, output: `${l.name}.nhwc`, perm: [0, 2, 3, 1] });
      src = `${l.name}.nhwc`;
    }
    ops.Flatten.emit(ctx, { input: src, output: l.name });
    return l.name;
  },
  Dense: (l, ins, { writer: { ctx }, activation }) => {
    const shape = shapeOf(l) as [number, number];
    ops.Gemm.emit(ctx, {
      name: l.name,
      input: ins[0],
      output: l.name,
      weight: values(l, 0),
      dims: shape,
      bias: cfg(l).useBias ? values(l, 1) : undefined,
    });
    return activation(l, l.name);
  },
  Dropout: (_l, ins) => ins[0], // identity at inference
};
