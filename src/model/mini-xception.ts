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
  /**
   * Which of the two stem convs takes stride 2 (0 = neither: the paper's network). Downsampling early halves
   * the resolution of every later layer: the 44×44 layers are where this net's inference time goes.
   */
  stemStride?: 0 | 1 | 2;
  /** A 3×3 stride-2 max pool between the stem and the first module (the stem's convs stay at full resolution). */
  stemPool?: boolean;
}

export function miniXception(options: ArchOptions = {}): tf.LayersModel {
  const { inputSize = 48, numClasses = 7, l2 = 0.01, width = 1, seed, stemStride = 0, stemPool = false } = options;
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
  let x = relu(bn(conv(input, base, 3, stemStride === 1 ? { strides: 2 } : {})));
  x = relu(bn(conv(x, base, 3, stemStride === 2 ? { strides: 2 } : {})));
  if (stemPool) x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
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

/**
 * The architectures `--arch` names. The `-s2c1`/`-s2c2` variants are the paper's network with stride 2 in
 * its first/second stem conv, `-s2p` with a stride-2 max pool after the stem: the same 58,423 parameters
 * (so weights of a trained mini-xception load into them), a quarter of the activations after the stem.
 */
export const ARCH_VARIANTS = {
  'mini-xception': {},
  'mini-xception-x2': { width: 2 },
  'mini-xception-s2c1': { stemStride: 1 },
  'mini-xception-s2c2': { stemStride: 2 },
  'mini-xception-s2p': { stemPool: true },
} as const satisfies Record<string, ArchOptions>;
export type Arch = keyof typeof ARCH_VARIANTS;
export const ARCHS = Object.keys(ARCH_VARIANTS) as [Arch, ...Arch[]];

export function buildModel(arch: Arch, options: ArchOptions = {}): tf.LayersModel {
  return miniXception({ ...options, ...ARCH_VARIANTS[arch] });
}
