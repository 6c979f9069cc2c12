/** Conv2D, DepthwiseConv2dNative and their input and filter gradients on oneDNN (NHWC only). */
import { tf } from '../../tf.js';
import type { NativeBackend, NativeKernel } from '../native-backend.js';
import { convParams } from './params.js';

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

type Dilations = [number, number] | number;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function run(
  backend: NativeBackend,
  kind: 0 | 1 | 2,
  ci: ConvInfo,
  depthwise: boolean,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
): tf.TensorInfo | null {
  const va = backend.f32(a),
    vb = backend.f32(b);
  if (!va || !vb || ci.dataFormat !== 'channelsLast') return null;
  const out = backend.take(outShape.reduce((x, y) => x * y, 1));
  backend.addon.conv(kind, Int32Array.from(convParams(ci, depthwise ? ci.inChannels : 1)), va, vb, out);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

const conv2d: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as {
    strides: [number, number];
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dilations: Dilations;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const ci = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  return run(backend, 0, ci, false, x, filter, ci.outShape);
};

const conv2dBackpropInput: NativeKernel = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as {
    inputShape: [number, number, number, number];
    strides: [number, number];
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const ci = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  return run(backend, 1, ci, false, dy, filter, inputShape);
};

const conv2dBackpropFilter: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number];
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const ci = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  return run(backend, 2, ci, false, x, dy, filterShape);
};

/** Bias add and linear/relu/relu6 activation in place, after a native convolution (the fused kernels). */
function biasAndActivation(
  backend: NativeBackend,
  out: tf.TensorInfo | null,
  bias: tf.TensorInfo | undefined,
  activation: string,
): tf.TensorInfo | null {
  if (!out) return null;
  const y = backend.f32(out)!;
  if (bias) {
    const b = backend.f32(bias);
    if (!b) return null;
    backend.addon.binary(0, y, b, y);
  }
  if (activation === 'relu') backend.addon.unary(0, y, y);
  else if (activation === 'relu6') backend.addon.unary(6, y, y);
  return out;
}

function fused(base: NativeKernel): NativeKernel {
  return (args) => {
    const { bias, preluActivationWeights } = args.inputs;
    const activation = (args.attrs.activation as string | undefined) ?? 'linear';
    if (preluActivationWeights || !['linear', 'relu', 'relu6'].includes(activation)) return null;
    const { dataFormat } = args.attrs as { dataFormat?: string };
    if (bias && bias.shape.length > 1 && tf.util.sizeFromShape(bias.shape) !== bias.shape[bias.shape.length - 1]) return null;
    if (dataFormat === 'NCHW') return null;
    return biasAndActivation(args.backend, base(args) as tf.TensorInfo | null, bias, activation);
  };
}

interface DepthwiseAttrs {
  strides: [number, number];
  pad: Pad;
  dilations: Dilations;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const depthwise: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as DepthwiseAttrs;
  const ci = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return run(backend, 0, ci, true, x, filter, ci.outShape);
};

const depthwiseBackpropInput: NativeKernel = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseAttrs & {
    inputShape: [number, number, number, number];
  };
  const ci = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return run(backend, 1, ci, true, dy, filter, inputShape);
};

const depthwiseBackpropFilter: NativeKernel = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseAttrs & {
    filterShape: [number, number, number, number];
  };
  const ci = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return run(backend, 2, ci, true, x, dy, filterShape);
};

export const convKernels: Record<string, NativeKernel> = {
  Conv2D: conv2d,
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  DepthwiseConv2dNative: depthwise,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  FusedConv2D: fused(conv2d),
  FusedDepthwiseConv2D: fused(depthwise),
};
