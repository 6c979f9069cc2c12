/**
 * Multiply-adds per image of a tfjs model's convolutions and dense layers (what `fer prune --structured`
 * reports before and after): Conv2D k·k·C_in·C_out per output pixel (divided by groups), separable and
 * depthwise convs their depthwise k·k·C_in plus pointwise C_in·C_out, Dense C_in·C_out. Batch norm,
 * activations, pooling and adds are left out (memory-bound, not multiply-adds).
 */
import type { tf } from '../engine/tf.js';

export interface LayerMacs {
  name: string;
  className: string;
  macs: number;
  outputShape: number[];
}

const dims = (s: unknown): number[] => (s as (number | null)[]).slice(1).map((d) => d ?? 1);

export function layerMacs(model: tf.LayersModel): LayerMacs[] {
  const rows: LayerMacs[] = [];
  for (const l of model.layers) {
    const cls = l.getClassName();
    const cfg = l.getConfig() as { kernelSize?: number[] | number; depthMultiplier?: number };
    const k = Array.isArray(cfg.kernelSize) ? cfg.kernelSize : cfg.kernelSize !== undefined ? [cfg.kernelSize, cfg.kernelSize] : [1, 1];
    const inShape = dims(l.input instanceof Array ? l.input[0].shape : (l.input as tf.SymbolicTensor).shape);
    const outShape = dims((l.output as tf.SymbolicTensor).shape);
    const cin = inShape[inShape.length - 1],
      cout = outShape[outShape.length - 1];
    const pixels = outShape.length === 3 ? outShape[0] * outShape[1] : 1;
    let macs = 0;
    if (cls === 'Conv2D') macs = pixels * k[0] * k[1] * cin * cout;
    else if (cls === 'SeparableConv2D')
      macs = pixels * (k[0] * k[1] * cin * (cfg.depthMultiplier ?? 1) + cin * (cfg.depthMultiplier ?? 1) * cout);
    else if (cls === 'DepthwiseConv2D') macs = pixels * k[0] * k[1] * cout;
    else if (cls === 'Dense') macs = cin * cout;
    else continue;
    rows.push({ name: l.name, className: cls, macs, outputShape: outShape });
  }
  return rows;
}

export const modelMacs = (model: tf.LayersModel) => layerMacs(model).reduce((a, r) => a + r.macs, 0);
