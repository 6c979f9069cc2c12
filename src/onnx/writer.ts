/**
 * The graph under construction for one export: its nodes and initializers, and the GraphContext the op
 * emitters write through, which stores weights as the precision asks (fp32, fp16, int8 or int4 for CPU: Cast + Mul
 * of integer constants, int4's scales and biases in float16; int8 for TensorRT: DequantizeLinear per output channel and int32 biases).
 */
import { quantize, toFloat16 } from '../quantize/quantize.js';
import type { AttrValue } from './builder.js';
import { DataType, makeInt4Tensor, makeNode, makeTensor } from './builder.js';
import type { OnnxTypes } from './proto.js';
import type { GraphContext } from './ops/types.js';
import type { Precision, WriterOptions } from './precision.js';
import { flushDenormals } from './layout.js';

export type { WriterOptions } from './precision.js';

export interface GraphWriter {
  ctx: GraphContext;
  nodes: OnnxTypes.NodeProto[];
  initializers: OnnxTypes.TensorProto[];
  /** int8 (TensorRT): the scale of each quantized activation tensor (by its DQ output name). */
  actScales: Map<string, number>;
  /** The zero-point initializer every activation Q/DQ shares (TensorRT target). */
  qdqZero: string;
  fullInt8: boolean;
  precision: Precision;
}

/**
 * Names the graph's output: the producer of `last` renamed to `output` when nothing else reads `last` (one op
 * less per run than an Identity), else an Identity. Every net fer writes ends this way.
 */
export function finishOutput(w: GraphWriter, last: string, output: string): void {
  const producer = w.nodes.find((n) => n.output[0] === last);
  if (producer && w.nodes.every((n) => !n.input.includes(last))) producer.output[0] = output;
  else w.ctx.node('Identity', [last], [output]);
}

export function makeGraphWriter(precision: Precision, o: WriterOptions): GraphWriter {
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

  /**
   * int4: a float constant stored as float16 and cast to float32 (folded at load): the scales and biases are a fifth
   * of an int4 file in float32. int4's export tolerance covers the rounding (convert/export.ts TOLERANCES).
   */
  const halfConstant = (name: string, v: Float32Array, dims: number[]) => {
    initializers.push(makeTensor(`${name}.h`, DataType.FLOAT16, dims, toFloat16(v)));
    ctx.node('Cast', [`${name}.h`], [name], { to: { int: DataType.FLOAT } });
    return name;
  };
  const ctx: GraphContext = {
    initializers,
    node(opType, inputs, outputs, attrs: Record<string, AttrValue> = {}) {
      nodes.push(makeNode(opType, inputs, outputs, `${opType}_${nodeCount++}`, attrs));
    },
    weight(name, w, dims, opts = {}) {
      const v = flushDenormals(w);
      const bits = precision === 'int4' ? 4 : precision === 'int8' ? 8 : 0;
      if (bits && opts.quantize) {
        // Symmetric per output channel (axis 0 of OIHW), eqs. (2)–(4) channel by channel.
        const per = v.length / dims[0];
        const qs = new Int8Array(v.length),
          scales = new Float32Array(dims[0]);
        for (let c = 0; c < dims[0]; c++) {
          const r = quantize(v.subarray(c * per, (c + 1) * per), bits);
          qs.set(r.q, c * per);
          scales[c] = 1 / r.scales[0];
        }
        initializers.push(bits === 4 ? makeInt4Tensor(`${name}.q`, dims, qs) : makeTensor(`${name}.q`, DataType.INT8, dims, qs));
        if (!fullInt8) {
          // Integer storage, float compute: Cast and Mul of constants, which onnxruntime (and any runtime)
          // folds into a float weight at load, so the conv keeps its prepacked float kernel. (A
          // DequantizeLinear here stays in the graph for QDQ fusion and runs 3× slower than fp32.)
          const scaleDims = [dims[0], ...dims.slice(1).map(() => 1)];
          const scale =
            bits === 4
              ? halfConstant(`${name}.scale`, scales, scaleDims)
              : (initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, scaleDims, scales)), `${name}.scale`);
          ctx.node('Cast', [`${name}.q`], [`${name}.float`], { to: { int: DataType.FLOAT } });
          ctx.node('Mul', [`${name}.float`, scale], [name]);
          return name;
        }
        initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, [dims[0]], scales));
        initializers.push(makeTensor(`${name}.zero_point`, DataType.INT8, [dims[0]], new Int8Array(dims[0])));
        weightScales.set(name, scales);
        nodes.push(
          makeNode('DequantizeLinear', [`${name}.q`, `${name}.scale`, `${name}.zero_point`], [name], `DequantizeLinear_${nodeCount++}`, {
            axis: { int: 0 },
          }),
        );
        return name;
      }
      return ctx.constant(name, v, dims);
    },
    bias(name, v, input, weight, output) {
      const sx = actScales.get(input),
        sw = weightScales.get(weight);
      if (precision === 'int4') return halfConstant(name, flushDenormals(v), [v.length]);
      if (precision !== 'int8' || sx === undefined || sw === undefined || sw.length !== v.length) return ctx.constant(name, v, [v.length]);
      const scales = sw.map((s) => s * sx);
      const q = Int32Array.from(v, (b, c) => Math.round(b / scales[c]));
      o.biasRounding?.set(
        output,
        Float32Array.from(q, (qc, c) => qc * scales[c] - v[c]),
      );
      initializers.push(makeTensor(`${name}.q`, DataType.INT32, [v.length], q));
      initializers.push(makeTensor(`${name}.scale`, DataType.FLOAT, [v.length], scales));
      initializers.push(makeTensor(`${name}.zero_point`, DataType.INT32, [v.length], new Int32Array(v.length)));
      ctx.node('DequantizeLinear', [`${name}.q`, `${name}.scale`, `${name}.zero_point`], [name], { axis: { int: 0 } });
      return name;
    },
    constant(name, c, dims) {
      const v = flushDenormals(c);
      initializers.push(
        precision === 'fp16' ? makeTensor(name, DataType.FLOAT16, dims, toFloat16(v)) : makeTensor(name, DataType.FLOAT, dims, v),
      );
      return name;
    },
    int64(name, v) {
      initializers.push(makeTensor(name, DataType.INT64, [v.length], BigInt64Array.from(v.map(BigInt))));
      return name;
    },
  };

  return { ctx, nodes, initializers, actScales, qdqZero, fullInt8, precision };
}
