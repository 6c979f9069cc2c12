/** Walking a functional tfjs model's layer graph (the converter and the int8 simulation share it). */
import type { tf } from '../engine/tf.js';
import { inboundLayers, outboundLayers } from '../engine/tfjs-internals.js';

export type Layer = tf.layers.Layer;

/** A layer config's size/stride entry (number or [h, w]) as [h, w]. */
export const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

export const layerConfig = (l: Layer) => l.getConfig() as Record<string, unknown>;

export const consumers = (l: Layer): Layer[] => outboundLayers(l);

export const producers = (l: Layer): Layer[] => inboundLayers(l);

const CONVS = ['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'];

/** The BatchNormalization that a conv-like layer feeds alone (and so folds into it at export), if any. */
export function foldableBatchNorm(l: Layer): Layer | null {
  if (!CONVS.includes(l.getClassName())) return null;
  const c = consumers(l);
  return c.length === 1 && c[0].getClassName() === 'BatchNormalization' && layerConfig(l).activation === 'linear' ? c[0] : null;
}
