/**
 * Dead-channel revival. With ReLU after batch norm and an L2 penalty, a channel whose batch-norm shift goes
 * negative early in training outputs 0 for every image, gets no gradient, and its kernel decays to exactly
 * zero: its parameters are lost to the network for good. (The shipped model had 28 of the 128 channels of its
 * last block's first separable convolution dead.)
 *
 * `reviveDeadChannels` finds every conv → batch norm → ReLU → conv chain whose first conv has all-zero output
 * channels that batch norm and ReLU turn into a constant 0, and gives them fresh random weights (at the scale of the layer's live channels), a batch-norm shift
 * of 0, and zero weights in the next conv where they are read. The network computes exactly what it did; the
 * revived channels get gradients again, so fine-tuning can put them to use.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../util/rng.js';
import { consumers, foldableBatchNorm, layerConfig, type Layer } from '../model/graph.js';

export type { RevivedLayer } from './types.js';
import type { RevivedLayer } from './types.js';

const CONVS = new Set(['Conv2D', 'SeparableConv2D']);

/** Index of the weight holding a conv's output channels (Conv2D: kernel; SeparableConv2D: pointwise kernel). */
const outKernel = (l: Layer) => (l.getClassName() === 'SeparableConv2D' ? 1 : 0);

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12),
    v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / Math.max(1, xs.length));

/**
 * Revives the dead output channels of every conv followed by batch norm, ReLU and another conv, in place.
 * A channel is dead when its kernel's norm is at most `threshold` times the layer's largest channel norm.
 */
export function reviveDeadChannels(model: tf.LayersModel, { seed = 17, threshold = 1e-3 } = {}): RevivedLayer[] {
  const only = (l: Layer) => {
    const c = consumers(l);
    return c.length === 1 ? c[0] : null;
  };
  const rng = new Rng(seed);
  const revived: RevivedLayer[] = [];

  for (const producer of model.layers) {
    if (!CONVS.has(producer.getClassName())) continue;
    const bn = foldableBatchNorm(producer),
      act = bn && only(bn),
      next = act && only(act);
    if (!bn || !act || !next || layerConfig(act).activation !== 'relu' || !CONVS.has(next.getClassName())) continue;

    const pw = producer.getWeights(),
      k = outKernel(producer);
    const kernel = pw[k].dataSync().slice() as Float32Array;
    const C = pw[k].shape[3]!;
    const norms = new Float64Array(C);
    kernel.forEach((v, i) => (norms[i % C] += v * v));
    const max = Math.max(...norms);
    // Zero kernel: the channel is a constant, relu(γ·(b − μ)/√(σ² + ε) + β). Only a constant 0 is dead; a
    // positive one is a bias the next layer reads, and is left alone.
    const [gamma, beta, mean, variance] = bn.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    const eps = (layerConfig(bn).epsilon as number | undefined) ?? 1e-3;
    const bias = pw.length > k + 1 ? pw[k + 1].dataSync() : null;
    const constant = (c: number) => (gamma[c] * ((bias?.[c] ?? 0) - mean[c])) / Math.sqrt(variance[c] + eps) + beta[c];
    const dead = [...norms.keys()].filter((c) => Math.sqrt(norms[c]) <= threshold * Math.sqrt(max) && constant(c) <= 0);
    if (dead.length === 0 || dead.length === C) continue;
    const isDead = new Set(dead);
    const live = [...norms.keys()].filter((c) => !isDead.has(c));

    // Fresh weights at the scale of the live channels, one channel at a time: its producer kernel, then its
    // depthwise kernel in the next layer if that is separable. A producer bias, if any, goes to 0.
    const nextWeights = next.getWeights();
    const nw = nextWeights.map((w) => w.dataSync().slice() as Float32Array);
    const separable = next.getClassName() === 'SeparableConv2D';
    const mult = separable ? nextWeights[0].shape[3]! : 1;
    const scale = rms(Array.from(kernel).filter((_, i) => !isDead.has(i % C)));
    const dwScale = separable ? rms(Array.from(nw[0]).filter((_, i) => !isDead.has(Math.floor(i / mult) % C))) : 0;
    for (const c of dead) {
      for (let i = c; i < kernel.length; i += C) kernel[i] = gaussian(rng) * scale;
      if (separable)
        for (let i = c * mult; i < nw[0].length; i += C * mult) for (let j = 0; j < mult; j++) nw[0][i + j] = gaussian(rng) * dwScale;
    }
    producer.setWeights(
      pw.map((w, i) =>
        i === k
          ? tf.tensor(kernel, w.shape)
          : i === k + 1
            ? tf.tensor(
                w.dataSync().map((v, c) => (isDead.has(c) ? 0 : v)),
                w.shape,
              )
            : w,
      ),
    );

    // Batch norm: the live channels' median scale, shift 0 (ReLU passes half), neutral moving statistics.
    const g = live.map((c) => gamma[c]).sort((a, b) => a - b)[live.length >> 1];
    for (const c of dead) [gamma[c], beta[c], mean[c], variance[c]] = [g, 0, 0, 1];
    bn.setWeights(bn.getWeights().map((w, i) => tf.tensor([gamma, beta, mean, variance][i], w.shape)));

    // Next conv: reads the revived channels with weight 0.
    const wi = separable ? 1 : 0,
      [, , cin, co] = nextWeights[wi].shape as number[];
    nw[wi].forEach((_, i) => {
      if (isDead.has(Math.floor((Math.floor(i / co) % cin) / mult))) nw[wi][i] = 0;
    });
    next.setWeights(nextWeights.map((w, i) => tf.tensor(nw[i], w.shape)));
    revived.push({ layer: producer.name, channels: dead });
  }
  return revived;
}
