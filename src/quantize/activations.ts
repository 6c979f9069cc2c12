/**
 * Where an int8 graph quantizes activations, and the tfjs model that computes what such a graph computes.
 *
 * One rule, shared by the ONNX writer and the simulation: every layer output gets a symmetric per-tensor
 * Q/DQ (scale = range / 127, zero point 0) when its calibrated range is known, except
 * - a conv's output whose BatchNormalization folds into it (the BN's output is quantized instead),
 * - the network's output, softmax outputs, global pooling and the tensor feeding it (the logits: their
 *   quantization error survives the average intact and moves the decision),
 * - pass-through layers (Dropout).
 * Two more points: the image input (key: the input layer's name) and a SeparableConv2D's depthwise
 * result (key: `<layer>.depthwise`), so that every conv reads and writes int8 and onnxruntime can run each
 * as one integer QLinearConv.
 */
import { tf } from '../engine/tf.js';
import { consumers, foldableBatchNorm, layerConfig, pair, producers, type Layer } from '../model/graph.js';

/** Tensor key (tfjs layer name, or `<layer>.depthwise`) → activation scale. */
export type QuantPoints = Map<string, number>;

export const depthwiseKey = (layerName: string) => `${layerName}.depthwise`;

const PASS_THROUGH = ['Dropout'];

export function activationQuantPoints(model: tf.LayersModel, ranges: Record<string, number>): QuantPoints {
  const points: QuantPoints = new Map();
  const add = (key: string) => {
    const r = ranges[key];
    if (r > 0) points.set(key, r / 127);
  };
  add(model.layers[0].name);
  for (const l of model.layers.slice(1)) {
    const cls = l.getClassName();
    if (cls === 'SeparableConv2D') add(depthwiseKey(l.name));
    const out = consumers(l);
    const keepFloat =
      foldableBatchNorm(l) !== null ||
      PASS_THROUGH.includes(cls) ||
      out.length === 0 ||
      cls === 'GlobalAveragePooling2D' ||
      cls === 'Softmax' ||
      layerConfig(l).activation === 'softmax' ||
      out.some((n) => n.getClassName() === 'GlobalAveragePooling2D');
    if (!keepFloat) add(l.name);
  }
  return points;
}

/** Symmetric int8 quantize-dequantize, as ONNX QuantizeLinear/DequantizeLinear compute it (round half to even). */
export function fakeQuantizeActivation(x: tf.Tensor, scale: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.clipByValue(tf.round(tf.div(x, scale)), -128, 127), scale));
}

/**
 * A predictor that runs `model` layer by layer with its activations fake-quantized at `points`: the
 * reference an int8 export is verified against (weights are expected to be fake-quantized already).
 * `biasRounding` (from the ONNX writer) adds what rounding each bias to int32 changed, before the
 * activation is quantized: a 1e-3-LSB shift alone moves values across rounding boundaries, and those
 * flips compound through the network.
 */
export function simulateInt8(
  model: tf.LayersModel,
  points: QuantPoints,
  biasRounding = new Map<string, Float32Array>(),
): { predict(x: tf.Tensor): tf.Tensor } {
  const fq = (key: string, t: tf.Tensor) => (points.has(key) ? fakeQuantizeActivation(t, points.get(key)!) : t);
  return {
    predict: (x) =>
      tf.tidy(() => {
        const out = new Map<string, tf.Tensor>([[model.layers[0].name, fq(model.layers[0].name, x)]]);
        for (const l of model.layers.slice(1)) {
          const ins = producers(l).map((p) => out.get(p.name)!);
          const y =
            l.getClassName() === 'SeparableConv2D' && points.has(depthwiseKey(l.name))
              ? separableWithQuantizedMiddle(l, ins[0], (t) => fq(depthwiseKey(l.name), t))
              : (l.apply(ins.length === 1 ? ins[0] : ins) as tf.Tensor);
          const delta = biasRounding.get(l.name);
          out.set(l.name, fq(l.name, delta ? tf.add(y, delta) : y));
        }
        return out.get(model.layers[model.layers.length - 1].name)!;
      }),
  };
}

/** A SeparableConv2D's depthwise half alone (the tensor its ONNX form writes between its two Convs). */
export function depthwiseHalf(l: Layer, x: tf.Tensor): tf.Tensor4D {
  const c = layerConfig(l);
  return tf.depthwiseConv2d(
    x as tf.Tensor4D,
    l.getWeights()[0] as tf.Tensor4D,
    pair(c.strides),
    c.padding as 'same' | 'valid',
    'NHWC',
    pair(c.dilationRate),
  );
}

function separableWithQuantizedMiddle(l: Layer, x: tf.Tensor, quantize: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  const c = layerConfig(l);
  const [, pk, bias] = l.getWeights();
  let y: tf.Tensor = tf.conv2d(quantize(depthwiseHalf(l, x)) as tf.Tensor4D, pk as tf.Tensor4D, 1, 'valid');
  if (bias && c.useBias) y = tf.add(y, bias);
  const act = (c.activation as string) ?? 'linear';
  if (act === 'relu') return tf.relu(y);
  if (act !== 'linear') throw new Error(`simulateInt8: unsupported activation "${act}" in ${l.name}`);
  return y;
}
