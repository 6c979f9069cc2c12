/** The prunable and quantizable weights of a tfjs model: conv, depthwise, pointwise and dense kernels. */
import { variableOf } from '../engine/tfjs-internals.js';
import { tf } from '../engine/tf.js';

export type KernelKind = 'conv' | 'depthwise' | 'pointwise' | 'dense';

export interface KernelWeight {
  /** e.g. "separable_conv2d_3/pointwise_kernel" (layer name / weight name). */
  name: string;
  layer: string;
  kind: KernelKind;
  variable: tf.Variable;
  shape: number[];
  /** Output channels: channel c of a flat value is index % channels (tfjs layouts keep them innermost). */
  channels: number;
  /** Input channels (the axis 2:4 patterns run along), stride between consecutive ones = channels. */
  inputChannels: number;
}

export function kernelWeights(model: tf.LayersModel): KernelWeight[] {
  const out: KernelWeight[] = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const short = w.originalName.split('/').pop()!;
      let kind: KernelKind | null = null;
      const cls = layer.getClassName();
      if (short === 'depthwise_kernel') kind = 'depthwise';
      else if (short === 'pointwise_kernel') kind = 'pointwise';
      else if (short === 'kernel' && cls === 'Conv2D') kind = 'conv';
      else if (short === 'kernel' && cls === 'Dense') kind = 'dense';
      if (!kind) continue;
      const shape = w.shape as number[];
      const channels = kind === 'depthwise' ? shape[2] * shape[3] : shape[shape.length - 1];
      const inputChannels = kind === 'depthwise' ? 1 : kind === 'dense' ? shape[0] : shape[2];
      out.push({
        name: `${layer.name}/${short}`,
        layer: layer.name,
        kind,
        variable: variableOf(w),
        shape,
        channels,
        inputChannels,
      });
    }
  }
  return out;
}

export function readValues(k: KernelWeight): Float32Array {
  return k.variable.dataSync() as Float32Array;
}

export function writeValues(k: KernelWeight, values: Float32Array): void {
  tf.tidy(() => k.variable.assign(tf.tensor(values, k.shape)));
}
