/**
 * face-api's TinyFaceDetector and 68-point landmark net rewritten as ONNX graphs from the weights face-api
 * loaded (with fer's own writer), and run by onnxruntime. On tfjs these small nets spend most of their time
 * outside arithmetic: a fresh tensor per op, element-wise ops one kernel each; onnxruntime plans memory once
 * and fuses bias, activations and padding into its convolutions.
 *
 * The graphs follow face-api's forward passes op for op (src/tinyYolov2/TinyYolov2Base.ts runMobilenet,
 * src/faceFeatureExtractor/denseBlock.ts, FaceLandmark68Net), NHWC float input of 0–255 pixels; a test
 * checks both against face-api's own tfjs forward.
 */
import type { tf } from '../engine/tf.js';
import { DataType, encodeModel, makeGraph, makeModel, makeValueInfo } from '../onnx/builder.js';
import { convKernelToOihw, depthwiseKernelToOihw, padsFor } from '../onnx/layout.js';
import { finishOutput, makeGraphWriter, type GraphWriter } from '../onnx/writer.js';
import { ONNX_OPSET } from '../onnx/opset.js';
import * as ops from '../onnx/ops/index.js';

export interface ConvParams {
  filters: tf.Tensor4D;
  bias: tf.Tensor1D;
}
interface SeparableParams {
  depthwise_filter: tf.Tensor4D;
  pointwise_filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}
export type Pads = [number, number, number, number];

/** A tensor being built: its name and spatial size. */
export interface T {
  name: string;
  hw: [number, number];
}

/** Output size of a conv or pooling window of side k over `hw` with pads [top, left, bottom, right]. */
function outHw(hw: [number, number], [kh, kw]: [number, number], stride: number, pads: Pads): [number, number] {
  const out = (size: number, k: number, a: number, b: number) => Math.floor((size + a + b - k) / stride) + 1;
  return [out(hw[0], kh, pads[0], pads[2]), out(hw[1], kw, pads[1], pads[3])];
}

/**
 * The face nets' layer vocabulary over fer's one graph writer (onnx/writer.ts) and its op emitters:
 * the same weight storage (denormals flushed), the same output post-pass (no trailing Identity), the same opset.
 * SSD-MobileNetV1 extends it (detect/onnx-ssd.ts).
 */
export class NetWriter {
  readonly w: GraphWriter = makeGraphWriter('fp32', {});
  private n = 0;

  protected fresh(type: string): string {
    return `${type}_${this.n++}`;
  }

  /** NHWC 0–255 input → NCHW, (x − mean) / 255. */
  normalize(input: string, mean: number[]): string {
    const { ctx } = this.w;
    const x = this.fresh('Transpose');
    ops.Transpose.emit(ctx, { input, output: x, perm: [0, 3, 1, 2] });
    const centered = this.fresh('Sub'),
      scaled = this.fresh('Mul');
    ctx.node('Sub', [x, ctx.constant(`${centered}.mean`, Float32Array.from(mean), [1, 3, 1, 1])], [centered]);
    ctx.node('Mul', [centered, ctx.constant(`${scaled}.scale`, Float32Array.of(1 / 255), [])], [scaled]);
    return scaled;
  }

  protected convNode(
    x: T,
    weight: Float32Array,
    dims: [number, number, number, number],
    bias: Float32Array | null,
    stride: number,
    pads: Pads,
    group: number,
  ): T {
    const name = this.fresh('Conv');
    ops.Conv.emit(this.w.ctx, {
      name,
      input: x.name,
      output: name,
      weight,
      dims,
      bias: bias ?? undefined,
      strides: [stride, stride],
      pads,
      dilations: [1, 1],
      group,
    });
    return { name, hw: outHw(x.hw, [dims[2], dims[3]], stride, pads) };
  }

  conv(x: T, p: ConvParams, stride: number, padding: 'same' | 'valid'): T {
    const shape = p.filters.shape as [number, number, number, number];
    const pads = padsFor(padding, x.hw, [shape[0], shape[1]], [stride, stride]);
    return this.convNode(
      x,
      convKernelToOihw(p.filters.dataSync() as Float32Array, shape),
      [shape[3], shape[2], shape[0], shape[1]],
      p.bias.dataSync() as Float32Array,
      stride,
      pads,
      1,
    );
  }

  /** tf.separableConv2d + bias, with explicit pads or tfjs 'same'. */
  separable(x: T, p: SeparableParams, stride: number, padding: 'same' | Pads): T {
    const d = p.depthwise_filter.shape as [number, number, number, number];
    const pads = padding === 'same' ? padsFor('same', x.hw, [d[0], d[1]], [stride, stride]) : padding;
    const mid = this.convNode(
      x,
      depthwiseKernelToOihw(p.depthwise_filter.dataSync() as Float32Array, d),
      [d[2] * d[3], 1, d[0], d[1]],
      null,
      stride,
      pads,
      d[2],
    );
    const pw = p.pointwise_filter.shape as [number, number, number, number];
    return this.convNode(
      mid,
      convKernelToOihw(p.pointwise_filter.dataSync() as Float32Array, pw),
      [pw[3], pw[2], 1, 1],
      p.bias.dataSync() as Float32Array,
      1,
      [0, 0, 0, 0],
      1,
    );
  }

  relu(x: T): T {
    const name = this.fresh('Relu');
    ops.Relu.emit(this.w.ctx, { input: x.name, output: name });
    return { name, hw: x.hw };
  }

  leakyRelu(x: T, alpha: number): T {
    const name = this.fresh('LeakyRelu');
    this.w.ctx.node('LeakyRelu', [x.name], [name], { alpha: { float: alpha } });
    return { name, hw: x.hw };
  }

  add(...xs: T[]): T {
    return xs.reduceRight((acc, x) => {
      const name = this.fresh('Add');
      ops.Add.emit(this.w.ctx, { inputs: [x.name, acc.name], output: name });
      return { name, hw: x.hw };
    });
  }

  maxPool(x: T, k: number, stride: number): T {
    const pads = padsFor('same', x.hw, [k, k], [stride, stride]);
    const name = this.fresh('MaxPool');
    ops.MaxPool.emit(this.w.ctx, { input: x.name, output: name, kernel: [k, k], strides: [stride, stride], pads });
    return { name, hw: outHw(x.hw, [k, k], stride, pads) };
  }

  /** 'valid' average pooling, then flatten and a dense layer (Gemm, weights [in, out]). */
  poolFlattenDense(x: T, k: number, stride: number, weights: Float32Array, dims: [number, number], bias: Float32Array): string {
    const { ctx } = this.w;
    const pooled = this.fresh('AveragePool'),
      flat = this.fresh('Flatten'),
      out = this.fresh('Gemm');
    ops.AveragePool.emit(ctx, { input: x.name, output: pooled, kernel: [k, k], strides: [stride, stride], pads: [0, 0, 0, 0] });
    ops.Flatten.emit(ctx, { input: pooled, output: flat });
    ops.Gemm.emit(ctx, { name: out, input: flat, output: out, weight: weights, dims, bias });
    return out;
  }

  encode(input: [number | string, number, number, number], output: string, outShape: (number | string)[]): Uint8Array {
    finishOutput(this.w, output, 'output');
    const graph = makeGraph(
      this.w.nodes,
      'face',
      [makeValueInfo('input', DataType.FLOAT, input)],
      [makeValueInfo('output', DataType.FLOAT, outShape)],
      this.w.initializers,
    );
    return encodeModel(makeModel(graph, { opset: ONNX_OPSET, producer: 'fer', version: '0', metadata: {} }));
  }
}

export interface TinyDetectorParams {
  conv0: ConvParams;
  conv1: SeparableParams;
  conv2: SeparableParams;
  conv3: SeparableParams;
  conv4: SeparableParams;
  conv5: SeparableParams;
  conv6?: SeparableParams;
  conv7?: SeparableParams;
  conv8: ConvParams;
}

export const TINY_MEAN_RGB = [117.001, 114.697, 97.404];
export const LANDMARK_MEAN_RGB = [122.782, 117.001, 104.298];

/** TinyFaceDetector at `size`×`size` → [1, 5 anchors × (x, y, w, h, score), cells, cells]. */
export function tinyDetectorOnnx(p: TinyDetectorParams, size: number): Uint8Array {
  const g = new NetWriter();
  const leaky = (x: T) => g.leakyRelu(x, 0.10000000149011612);
  let x: T = { name: g.normalize('input', TINY_MEAN_RGB), hw: [size, size] };
  x = g.maxPool(leaky(g.conv(x, p.conv0, 1, 'valid')), 2, 2);
  // face-api pads 1 on every side, then a 'valid' separable conv.
  const sep = (t: T, q: SeparableParams) => leaky(g.separable(t, q, 1, [1, 1, 1, 1]));
  for (const q of [p.conv1, p.conv2, p.conv3, p.conv4]) x = g.maxPool(sep(x, q), 2, 2);
  x = g.maxPool(sep(x, p.conv5), 2, 1);
  if (p.conv6) x = sep(x, p.conv6);
  if (p.conv7) x = sep(x, p.conv7);
  x = g.conv(x, p.conv8, 1, 'valid');
  return g.encode([1, size, size, 3], x.name, [1, p.conv8.filters.shape[3], x.hw[0], x.hw[1]]);
}

export interface DenseBlockParams {
  conv0: ConvParams | SeparableParams;
  conv1: SeparableParams;
  conv2: SeparableParams;
  conv3: SeparableParams;
}
export interface LandmarkParams {
  extractor: { dense0: DenseBlockParams; dense1: DenseBlockParams; dense2: DenseBlockParams; dense3: DenseBlockParams };
  fc: { weights: tf.Tensor2D; bias: tf.Tensor1D };
}

export const LANDMARK_INPUT = 112;

/** FaceLandmark68Net on N×112×112 faces → [N, 136]: x, y interleaved, relative to the 112×112 input. */
export function landmarkNetOnnx(p: LandmarkParams): Uint8Array {
  const g = new NetWriter();
  const relu = (x: T) => g.relu(x);
  const block = (x: T, b: DenseBlockParams, first: boolean): T => {
    const out1 = relu(first ? g.conv(x, b.conv0 as ConvParams, 2, 'same') : g.separable(x, b.conv0 as SeparableParams, 2, 'same'));
    const out2 = g.separable(out1, b.conv1, 1, 'same');
    const out3 = g.separable(relu(g.add(out1, out2)), b.conv2, 1, 'same');
    const out4 = g.separable(relu(g.add(out1, out2, out3)), b.conv3, 1, 'same');
    return relu(g.add(out1, out2, out3, out4));
  };
  let x: T = { name: g.normalize('input', LANDMARK_MEAN_RGB), hw: [LANDMARK_INPUT, LANDMARK_INPUT] };
  const e = p.extractor;
  x = block(block(block(block(x, e.dense0, true), e.dense1, false), e.dense2, false), e.dense3, false);
  const [fin, fout] = p.fc.weights.shape;
  const out = g.poolFlattenDense(x, 7, 2, p.fc.weights.dataSync() as Float32Array, [fin, fout], p.fc.bias.dataSync() as Float32Array);
  return g.encode(['N', LANDMARK_INPUT, LANDMARK_INPUT, 3], out, ['N', fout]);
}
