/**
 * tfjs LayersModel → ONNX: walks the layers in order, folds each BatchNormalization into the conv before
 * it, emits NCHW ops (the NHWC input, when kept, is reshaped once at the top: no transpose pairs inside),
 * and writes fp32, fp16 (weights and activations), int8 or int4 weights per output channel with float compute, or
 * int8 QDQ (weights per output channel, activations per tensor from calibration; symmetric, zero point 0, as
 * TensorRT requires).
 */
import type { tf } from '../engine/tf.js';
import { ModelError, UsageError } from '../errors.js';
import type { FerMetadata } from '../model/types.js';
import { producers } from '../model/graph.js';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeValueInfo } from '../onnx/builder.js';
import type { OnnxTypes } from '../onnx/proto.js';
import * as ops from '../onnx/ops/index.js';
import { finishOutput, makeGraphWriter, type GraphWriter } from '../onnx/writer.js';
import { ONNX_OPSET } from '../onnx/opset.js';
import { INT4_OPSET } from '../onnx/precision.js';
import { compactNames } from '../onnx/compact.js';
import { LAYER_CONVERTERS, makeLayerEnv } from './layers.js';

export { INT8_TARGETS, PRECISIONS, type Int8Target, type Precision } from '../onnx/precision.js';
export { INPUT_NAME, OUTPUT_NAME, type ConvertOptions } from './options.js';
import { INPUT_NAME, OUTPUT_NAME, type ConvertOptions } from './options.js';

/** The graph's input: NHWC reshaped (or transposed) once to NCHW unless `nchw`; fp16 casts it when IO stays float32. */
function emitInput(
  model: tf.LayersModel,
  o: ConvertOptions,
  w: GraphWriter,
): { input: OnnxTypes.ValueInfoProto; tensor: string; hwc: [number, number, number] } {
  const inShape = (model.layers[0].output as tf.SymbolicTensor).shape as number[];
  if (inShape.length !== 4) throw new ModelError(`convert: expected an image input [N,H,W,C], got [${inShape}]`);
  const [, H, W, C] = inShape as [null, number, number, number];
  const { ctx, precision } = w;
  const input = makeValueInfo(
    INPUT_NAME,
    precision === 'fp16' && !(o.keepIoFloat32 ?? true) ? DataType.FLOAT16 : DataType.FLOAT,
    o.nchw ? ['N', C, H, W] : ['N', H, W, C],
  );
  let x = INPUT_NAME;
  if (precision === 'fp16' && (o.keepIoFloat32 ?? true)) {
    ctx.node('Cast', [x], ['image.fp16'], { to: { int: DataType.FLOAT16 } });
    x = 'image.fp16';
  }
  if (!o.nchw) {
    if (C === 1)
      ops.Reshape.emit(ctx, { name: 'input', input: x, output: 'image.nchw', shape: [0, 1, H, W] }); // 0 = copy N: keeps the batch symbol (with -1 onnxruntime loses it and stops fusing an Add)
    else ops.Transpose.emit(ctx, { input: x, output: 'image.nchw', perm: [0, 3, 1, 2] });
    x = 'image.nchw';
  }
  return { input, tensor: x, hwc: [H, W, C] };
}

/** The graph's output: a Cast back to float32 (fp16 with float IO), else the last tensor renamed (no Identity). */
function emitOutput(last: string, o: ConvertOptions, w: GraphWriter, numClasses: number): OnnxTypes.ValueInfoProto {
  const { ctx, precision } = w;
  const outType = precision === 'fp16' && !(o.keepIoFloat32 ?? true) ? DataType.FLOAT16 : DataType.FLOAT;
  if (precision === 'fp16' && (o.keepIoFloat32 ?? true)) {
    ctx.node('Cast', [last], [OUTPUT_NAME], { to: { int: DataType.FLOAT } });
  } else {
    finishOutput(w, last, OUTPUT_NAME);
  }
  return makeValueInfo(OUTPUT_NAME, outType, ['N', numClasses]);
}

/** The model's ONNX metadata: classes, preprocessing and layout, precision, architecture, pruning, quantization. */
function exportMetadata(meta: FerMetadata, o: ConvertOptions, w: GraphWriter, [H, W, C]: [number, number, number]): Record<string, string> {
  const { precision, fullInt8 } = w;
  const metadata: Record<string, string> = {
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify({ ...meta.preprocess, layout: o.nchw ? 'NCHW' : 'NHWC', size: [H, W], channels: C, color: 'grayscale' }),
    precision,
    arch: meta.arch ?? 'unknown',
  };
  if (meta.trainPrior) metadata.train_prior = JSON.stringify(meta.trainPrior);
  if (meta.pruning) metadata.pruning = JSON.stringify({ sparsity: meta.pruning.sparsity, pattern: meta.pruning.pattern });
  if (meta.quantization || precision === 'int8' || precision === 'int4') {
    const int8 = fullInt8
      ? 'int8 QDQ, weights per-channel symmetric, activations per-tensor symmetric (target tensorrt)'
      : 'int8 weights per-channel symmetric, float activations (target cpu)';
    const exported = { int8, int4: 'int4 weights per-channel symmetric, float activations' } as Record<string, string>;
    metadata.quantization = JSON.stringify({
      ...meta.quantization,
      activations: undefined,
      export: exported[precision] ?? precision,
    });
  }
  return metadata;
}

/**
 * The model as ONNX bytes: the input, then each layer through its converter (layers.ts) in the model's
 * order, activation Q/DQ where the int8 TensorRT target puts them, then the output and the metadata.
 */
export function convertToOnnx(model: tf.LayersModel, meta: FerMetadata, o: ConvertOptions = {}): Uint8Array {
  const w = makeGraphWriter(o.precision ?? 'fp32', o);
  const env = makeLayerEnv(model, meta, o, w);
  const { input, tensor, hwc } = emitInput(model, o, w);
  const layers = model.layers;
  const name = new Map<string, string>([[layers[0].name, env.qdq(tensor, layers[0].name)]]); // tfjs layer → the ONNX tensor its consumers read
  for (const l of layers.slice(1)) {
    const convert = LAYER_CONVERTERS[l.getClassName()];
    if (!convert) throw new ModelError(`convert: unsupported layer "${l.getClassName()}" (${l.name}); supported: ${SUPPORTED.join(', ')}`);
    // A folded BatchNormalization: the conv before wrote its output tensor; only the int8 Q/DQ remains.
    const out = env.folded.has(l.name)
      ? l.name
      : convert(
          l,
          producers(l).map((p) => name.get(p.name)!),
          env,
        );
    name.set(l.name, env.qdq(out, l.name));
  }
  const numClasses = ((layers[layers.length - 1].output as tf.SymbolicTensor).shape as number[])[1];
  const output = emitOutput(name.get(layers[layers.length - 1].name)!, o, w, numClasses);
  if (w.fullInt8) dedicateQdqPairs(w.nodes, w.initializers);
  if ((o.names ?? (w.precision === 'int4' ? 'short' : 'full')) === 'short')
    compactNames(w.nodes, w.initializers, new Set([input.name!, output.name!]));
  const graph = makeGraph(w.nodes, 'fer', [input], [output], w.initializers);
  return encodeModel(
    makeModel(graph, {
      opset: opsetFor(o),
      producer: 'fer',
      version: o.version ?? '0.0.0',
      metadata: exportMetadata(meta, o, w, hwc),
    }),
  );
}

/** The opset a graph declares: --opset, else ONNX_OPSET, raised to INT4_OPSET for int4 weights (which need it). */
export function opsetFor(o: Pick<ConvertOptions, 'opset' | 'precision'>): number {
  if (o.precision !== 'int4') return o.opset ?? ONNX_OPSET;
  if (o.opset !== undefined && o.opset < INT4_OPSET)
    throw new UsageError(`convert: int4 weights need opset ${INT4_OPSET} or later (ONNX's INT4 type), not ${o.opset}`);
  return o.opset ?? INT4_OPSET;
}

export const SUPPORTED = ['InputLayer', ...Object.keys(LAYER_CONVERTERS)];

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
      initializers.push(
        { ...init.get(q.input[1])!, name: scale } as OnnxTypes.TensorProto,
        { ...init.get(q.input[2])!, name: zp } as OnnxTypes.TensorProto,
      );
      const q2 = makeNode('QuantizeLinear', [q.input[0], scale, zp], [`${tag}.q`], `${q.name}_${j + 1}`);
      const dq2 = makeNode('DequantizeLinear', [`${tag}.q`, scale, zp], [tag], `${dq.name}_${j + 1}`);
      user.input = user.input.map((i) => (i === dq.output[0] ? tag : i));
      nodes.splice(k + 1, 0, q2, dq2);
      k += 2;
    });
  }
}
