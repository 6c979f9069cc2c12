/**
 * The paper's mini-Xception (Arriaga et al.'s, as used by Valverde et al.): 58,423 parameters,
 * 48×48×1 input, two 3×3 convs, four residual depthwise-separable modules (16, 32, 64, 128 filters),
 * a 3×3 conv to 7 channels, global average pooling and softmax.
 */
import { tf } from '../engine/tf.js';
import { batchNorm } from './batch-norm.js';
import { l2Regularizer } from './regularizer.js';
import { IMAGE_SIZE, NUM_CLASSES } from '../data/classes.js';
import { ARCH_VARIANTS, type Arch, type ArchOptions, type ArchVariant } from './archs.js';

export { ARCH_VARIANTS, ARCHS, type Arch, type ArchOptions, type ArchVariant, type MiniXceptionChannels } from './archs.js';

/**
 * The role of each layer of a mini-Xception (stem1, stem1_bn, stem2, stem2_bn, m1_res, m1_res_bn, m1_sep1,
 * m1_sep1_bn, m1_sep2, m1_sep2_bn, … m4_…, head), by layer name: what structured pruning slices by.
 */
export type LayerRoles = Map<string, string>;

export function miniXception(options: ArchOptions = {}): tf.LayersModel {
  return miniXceptionWithRoles(options).model;
}

export function miniXceptionWithRoles(options: ArchOptions = {}): { model: tf.LayersModel; roles: LayerRoles } {
  const { inputSize = IMAGE_SIZE, numClasses = NUM_CLASSES, l2 = 0.01, width = 1, seed, stemStride = 0, stemPool = false } = options;
  const roles: LayerRoles = new Map();
  const role = <L extends tf.layers.Layer>(name: string, layer: L): L => (roles.set(layer.name, name), layer);
  let seedCounter = seed ?? Math.floor(Math.random() * 1e9);
  const init = () => tf.initializers.glorotUniform({ seed: seedCounter++ });
  const reg = () => (l2 > 0 ? l2Regularizer(l2) : undefined);
  const input = tf.input({ shape: [inputSize, inputSize, 1], name: 'image' });

  const conv = (name: string, x: tf.SymbolicTensor, filters: number, kernel: number, extra: Record<string, unknown> = {}) =>
    role(
      name,
      tf.layers.conv2d({ filters, kernelSize: kernel, useBias: false, kernelInitializer: init(), kernelRegularizer: reg(), ...extra }),
    ).apply(x) as tf.SymbolicTensor;
  const sep = (name: string, x: tf.SymbolicTensor, filters: number) =>
    role(
      name,
      tf.layers.separableConv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(),
        pointwiseInitializer: init(),
        depthwiseRegularizer: reg(),
        pointwiseRegularizer: reg(),
      }),
    ).apply(x) as tf.SymbolicTensor;
  const bn = (name: string, x: tf.SymbolicTensor) => role(`${name}_bn`, batchNorm()).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;

  const base = Math.max(1, Math.round(8 * width));
  const widths = [16, 32, 64, 128].map((c) => Math.max(1, Math.round(c * width)));
  const ch = options.channels ?? { stem: [base, base], inner: widths, out: widths };
  let x = relu(bn('stem1', conv('stem1', input, ch.stem[0], 3, stemStride === 1 ? { strides: 2 } : {})));
  x = relu(bn('stem2', conv('stem2', x, ch.stem[1], 3, stemStride === 2 ? { strides: 2 } : {})));
  if (stemPool) x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  for (let m = 0; m < 4; m++) {
    const name = `m${m + 1}`;
    const residual = bn(
      `${name}_res`,
      role(
        `${name}_res`,
        tf.layers.conv2d({ filters: ch.out[m], kernelSize: 1, strides: 2, padding: 'same', useBias: false, kernelInitializer: init() }),
      ).apply(x) as tf.SymbolicTensor,
    );
    x = relu(bn(`${name}_sep1`, sep(`${name}_sep1`, x, ch.inner[m])));
    x = bn(`${name}_sep2`, sep(`${name}_sep2`, x, ch.out[m]));
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.add().apply([x, residual]) as tf.SymbolicTensor;
  }
  x = role('head', tf.layers.conv2d({ filters: numClasses, kernelSize: 3, padding: 'same', kernelInitializer: init() })).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.activation({ activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: input, outputs: output, name: 'mini_xception' }), roles };
}

/**
 * A ResNet-18-style teacher at 48×48 (issue #23): a 3×3 stem conv, then four stages of two basic residual
 * blocks (3×3 conv–BN–ReLU–3×3 conv–BN, + the input, ReLU), each stage halving the resolution (48 → 24 → 12 →
 * 6 → 3) and doubling the channels from `base`, global average pooling, dropout, a dense layer to the classes.
 * base 32: 2.8M parameters, ~90M multiply-adds per image.
 */
export function resnet(options: ArchOptions & { base?: number; dropout?: number } = {}): tf.LayersModel {
  const { inputSize = IMAGE_SIZE, numClasses = NUM_CLASSES, l2 = 0.0005, seed, base = 32, dropout = 0.3 } = options;
  let seedCounter = seed ?? Math.floor(Math.random() * 1e9);
  const reg = () => (l2 > 0 ? l2Regularizer(l2) : undefined);
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, strides = 1) =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: kernel,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: seedCounter++ }),
        kernelRegularizer: reg(),
      })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor) => batchNorm().apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [inputSize, inputSize, 1], name: 'image' });
  let x = relu(bn(conv(input, base, 3)));
  let channels = base;
  for (let stage = 0; stage < 4; stage++) {
    const filters = base * 2 ** stage;
    for (let block = 0; block < 2; block++) {
      const strides = block === 0 ? 2 : 1;
      const shortcut = strides !== 1 || channels !== filters ? bn(conv(x, filters, 1, strides)) : x;
      let y = relu(bn(conv(x, filters, 3, strides)));
      y = bn(conv(y, filters, 3));
      x = relu(tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor);
      channels = filters;
    }
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  if (dropout > 0) x = tf.layers.dropout({ rate: dropout, seed: seedCounter++ }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({
      units: numClasses,
      activation: 'softmax',
      name: 'predictions',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seedCounter++ }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'resnet' });
}

export function buildModel(arch: Arch, options: ArchOptions = {}): tf.LayersModel {
  const v: ArchVariant = ARCH_VARIANTS[arch];
  if (v.family === 'resnet') return resnet({ ...options, base: v.base });
  return miniXception({ ...options, ...v });
}
