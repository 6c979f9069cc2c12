/**
 * face-api's SSD-MobileNetV1 face detector rewritten as an ONNX graph from the weights face-api loaded (with
 * fer's own writer, as detect/onnx-nets.ts does for the tiny detector), and run by onnxruntime: on tfjs it
 * takes 100–300 ms per image.
 *
 * The graph follows face-api's forward pass op for op (src/ssdMobilenetv1/: SsdMobilenetv1.ts forwardInput,
 * mobileNetV1.ts, predictionLayer.ts, boxPredictionLayer.ts, pointwiseConvLayer.ts) from the NHWC float
 * input of 0–255 pixels, 512×512, to the raw predictions of every anchor; the box decoding against the
 * anchors, the score sigmoid and the NMS of outputLayer.ts and nonMaxSuppression.ts are plain arithmetic,
 * done in JS (decodeSsd in detect/geometry.ts, shared with the browser).
 */
import type { tf } from '../engine/tf.js';
import { depthwiseKernelToOihw, foldBatchNorm, padsFor } from '../onnx/layout.js';
import * as ops from '../onnx/ops/index.js';
import { NetWriter, type ConvParams, type T } from './onnx-nets.js';

/** face-api's input side for SSD: every image is padded to a square (bottom and right) and resized to it. */
export const SSD_SIZE = 512;
/** Values per anchor in the graph's output: the box encoding (ty, tx, th, tw), then 3 class logits. */
export const SSD_VALUES = 7;

interface PointwiseParams {
  filters: tf.Tensor4D;
  batch_norm_offset: tf.Tensor1D;
}
interface DepthwiseParams {
  filters: tf.Tensor4D;
  batch_norm_scale: tf.Tensor1D;
  batch_norm_offset: tf.Tensor1D;
  batch_norm_mean: tf.Tensor1D;
  batch_norm_variance: tf.Tensor1D;
}
interface ConvPair {
  depthwise_conv: DepthwiseParams;
  pointwise_conv: PointwiseParams;
}
interface BoxPredictorParams {
  box_encoding_predictor: ConvParams;
  class_predictor: ConvParams;
}

/** face-api's SsdMobilenetv1 params (src/ssdMobilenetv1/types.ts): conv_0 … conv_13, conv_0 … conv_7 and box_predictor_0 … 5. */
export interface SsdParams {
  mobilenetv1: Record<string, PointwiseParams | ConvPair>;
  prediction_layer: Record<string, PointwiseParams | BoxPredictorParams>;
  /** The anchors: [1, anchors, 4] of (ymin, xmin, ymax, xmax), relative to the input. */
  output_layer: { extra_dim: tf.Tensor3D };
}

/** face-api's batch-norm epsilon in mobileNetV1.ts. */
const BN_EPSILON = 0.0010000000474974513;

const data = (t: tf.Tensor) => t.dataSync() as Float32Array;

class SsdWriter extends NetWriter {
  /** NHWC 0–255 input → NCHW, x / 127.5 − 1 (face-api's order of ops). */
  signed(input: string): string {
    const { ctx } = this.w;
    const x = this.fresh('Transpose'),
      scaled = this.fresh('Div'),
      shifted = this.fresh('Sub');
    ops.Transpose.emit(ctx, { input, output: x, perm: [0, 3, 1, 2] });
    ctx.node('Div', [x, ctx.constant(`${scaled}.divisor`, Float32Array.of(127.5), [])], [scaled]);
    ctx.node('Sub', [scaled, ctx.constant(`${shifted}.one`, Float32Array.of(1), [])], [shifted]);
    return shifted;
  }

  /** tf.clipByValue(x, 0, 6): a Clip with constant bounds, which onnxruntime fuses into the conv before it. */
  relu6(x: T): T {
    const { ctx } = this.w;
    const name = this.fresh('Clip');
    ctx.node(
      'Clip',
      [x.name, ctx.constant(`${name}.min`, Float32Array.of(0), []), ctx.constant(`${name}.max`, Float32Array.of(6), [])],
      [name],
    );
    return { name, hw: x.hw };
  }

  /** pointwiseConvLayer: conv2d 'same' (1×1 or 3×3) + batch_norm_offset, clipped to 0..6. */
  pointwise(x: T, p: PointwiseParams, stride: number): T {
    return this.relu6(this.conv(x, { filters: p.filters, bias: p.batch_norm_offset }, stride, 'same'));
  }

  /** depthwiseConvLayer: depthwiseConv2d 'same', batch norm (folded into the conv's weights), clipped to 0..6. */
  depthwise(x: T, p: DepthwiseParams, stride: number): T {
    const d = p.filters.shape as [number, number, number, number];
    const channels = d[2] * d[3];
    const { weight, bias } = foldBatchNorm(depthwiseKernelToOihw(data(p.filters), d), undefined, channels, {
      gamma: data(p.batch_norm_scale),
      beta: data(p.batch_norm_offset),
      mean: data(p.batch_norm_mean),
      variance: data(p.batch_norm_variance),
      epsilon: BN_EPSILON,
    });
    const pads = padsFor('same', x.hw, [d[0], d[1]], [stride, stride]);
    return this.relu6(this.convNode(x, weight, [channels, 1, d[0], d[1]], bias, stride, pads, d[2]));
  }

  /**
   * boxPredictionLayer's half: conv2d 'same' + bias, then reshaped as tfjs reshapes its NHWC output, to
   * [1, rows · cols · anchors, k] (anchor fastest, then column, then row).
   */
  predict(x: T, p: ConvParams, k: number): { name: string; anchors: number } {
    const { ctx } = this.w;
    const out = this.conv(x, p, 1, 'same');
    const nhwc = this.fresh('Transpose'),
      flat = this.fresh('Reshape');
    ops.Transpose.emit(ctx, { input: out.name, output: nhwc, perm: [0, 2, 3, 1] });
    ops.Reshape.emit(ctx, { name: flat, input: nhwc, output: flat, shape: [1, -1, k] });
    return { name: flat, anchors: (x.hw[0] * x.hw[1] * p.filters.shape[3]) / k };
  }

  concat(inputs: string[], axis: number): string {
    const name = this.fresh('Concat');
    this.w.ctx.node('Concat', inputs, [name], { axis: { int: axis } });
    return name;
  }
}

/**
 * SSD-MobileNetV1 on a 512×512 image → [1, anchors, SSD_VALUES]: each anchor's raw box encoding and class
 * logits, anchors in face-api's order (box predictor 0 on conv 11's 32×32 map, then 1–5 on 16×16 … 1×1).
 */
export function ssdDetectorOnnx(p: SsdParams): Uint8Array {
  const g = new SsdWriter();
  const m = p.mobilenetv1,
    q = p.prediction_layer;
  // mobileNetV1: conv 0 (3×3, stride 2), then 13 depthwise + pointwise pairs, stride 2 at pairs 2, 4, 6 and 12.
  let x = g.pointwise({ name: g.signed('input'), hw: [SSD_SIZE, SSD_SIZE] }, m.conv_0 as PointwiseParams, 2);
  let conv11: T = x;
  for (let i = 1; i <= 13; i++) {
    const pair = m[`conv_${i}`] as ConvPair;
    x = g.pointwise(g.depthwise(x, pair.depthwise_conv, [2, 4, 6, 12].includes(i) ? 2 : 1), pair.pointwise_conv, 1);
    if (i === 11) conv11 = x;
  }
  // predictionLayer: four more feature maps, each a 1×1 conv and a 3×3 stride-2 conv.
  const maps: T[] = [conv11, x];
  let y = x;
  for (let i = 0; i < 8; i += 2) {
    y = g.pointwise(g.pointwise(y, q[`conv_${i}`] as PointwiseParams, 1), q[`conv_${i + 1}`] as PointwiseParams, 2);
    maps.push(y);
  }
  const boxes: string[] = [],
    classes: string[] = [];
  let anchors = 0;
  maps.forEach((map, i) => {
    const bp = q[`box_predictor_${i}`] as BoxPredictorParams;
    const b = g.predict(map, bp.box_encoding_predictor, 4);
    classes.push(g.predict(map, bp.class_predictor, 3).name);
    boxes.push(b.name);
    anchors += b.anchors;
  });
  const expected = p.output_layer.extra_dim.shape[1];
  if (anchors !== expected) throw new Error(`SSD graph: ${anchors} anchors, face-api has ${expected}`);
  const out = g.concat([g.concat(boxes, 1), g.concat(classes, 1)], 2);
  return g.encode([1, SSD_SIZE, SSD_SIZE, 3], out, [1, anchors, SSD_VALUES]);
}
