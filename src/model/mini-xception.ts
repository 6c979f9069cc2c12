/**
 * The paper's mini-Xception (Arriaga et al.'s, as used by Valverde et al.): 58,423 parameters,
 * 48×48×1 input, two 3×3 convs, four residual depthwise-separable modules (16, 32, 64, 128 filters),
 * a 3×3 conv to 7 channels, global average pooling and softmax.
 */
import { tf } from '../engine/tf.js';
import { batchNorm } from './batch-norm.js';

export interface ArchOptions {
  inputSize?: number;
  numClasses?: number;
  /** L2 weight decay on conv kernels (the original uses 0.01). */
  l2?: number;
  /** Width multiplier applied to every module's filters (1 = the paper's network). */
  width?: number;
  seed?: number;
}

export function miniXception(options: ArchOptions = {}): tf.LayersModel {
  const { inputSize = 48, numClasses = 7, l2 = 0.01, width = 1, seed } = options;
  let seedCounter = seed ?? Math.floor(Math.random() * 1e9);
  const init = () => tf.initializers.glorotUniform({ seed: seedCounter++ });
  const reg = () => (l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined);
  const input = tf.input({ shape: [inputSize, inputSize, 1], name: 'image' });

  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, extra: Record<string, unknown> = {}) =>
    tf.layers.conv2d({ filters, kernelSize: kernel, useBias: false, kernelInitializer: init(), kernelRegularizer: reg(), ...extra })
      .apply(x) as tf.SymbolicTensor;
  const sep = (x: tf.SymbolicTensor, filters: number) =>
    tf.layers.separableConv2d({
      filters, kernelSize: 3, padding: 'same', useBias: false,
      depthwiseInitializer: init(), pointwiseInitializer: init(),
      depthwiseRegularizer: reg(), pointwiseRegularizer: reg(),
    }).apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor) => batchNorm().apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;

  const base = Math.max(1, Math.round(8 * width));
  let x = relu(bn(conv(input, base, 3)));
  x = relu(bn(conv(x, base, 3)));
  for (const f of [16, 32, 64, 128].map((c) => Math.max(1, Math.round(c * width)))) {
    const residual = bn(
      tf.layers.conv2d({ filters: f, kernelSize: 1, strides: 2, padding: 'same', useBias: false, kernelInitializer: init() })
        .apply(x) as tf.SymbolicTensor,
    );
    x = relu(bn(sep(x, f)));
    x = bn(sep(x, f));
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.add().apply([x, residual]) as tf.SymbolicTensor;
  }
  x = tf.layers.conv2d({ filters: numClasses, kernelSize: 3, padding: 'same', kernelInitializer: init() })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.activation({ activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'mini_xception' });
}

export const ARCHS = ['mini-xception', 'mini-xception-x2'] as const;
export type Arch = (typeof ARCHS)[number];

export function buildModel(arch: Arch, options: ArchOptions = {}): tf.LayersModel {
  switch (arch) {
    case 'mini-xception':
      return miniXception(options);
    case 'mini-xception-x2':
      return miniXception({ ...options, width: 2 });
  }
}
