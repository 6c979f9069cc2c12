/**
 * The architectures fer builds, as data: their options and the `--arch` names (no tfjs here, so the public
 * types and the CLI's schemas can name them without tfjs's declarations; model/mini-xception.ts builds them).
 */

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
  /**
   * Explicit channel counts (a structurally pruned network, prune/structured.ts): the two stem convs', and per
   * module its first separable conv's (inner) and its output's (the residual add's). Default: from `width`.
   */
  channels?: MiniXceptionChannels;
}

export interface MiniXceptionChannels {
  stem: [number, number];
  inner: number[];
  out: number[];
}

/** An `--arch` entry: mini-Xception options, or a ResNet teacher (`family: 'resnet'`) of a base width. */
export type ArchVariant = ArchOptions & { family?: 'resnet'; base?: number };

/**
 * The architectures `--arch` names. `-x2`/`-x4` are the paper's network 2×/4× as wide (205,031 / 762,823
 * parameters: the student-capacity measurements of #23). The `-s2c1`/`-s2c2` variants are the paper's network with stride 2 in
 * its first/second stem conv, `-s2p` with a stride-2 max pool after the stem: the same 58,423 parameters
 * (so weights of a trained mini-xception load into them), a quarter of the activations after the stem;
 * `-s2c2-x2` the stride-2 stem with twice the width (the multiply-adds of the paper network at a quarter of
 * the resolution: 1.85× its onnxruntime CPU throughput, BENCHMARKS.md), `-s2c1-x2` the same with stride 2
 * already in the first stem conv (no layer left at 46/44 px: 2.3× the throughput, 0.7× the batch-1 latency);
 * `-s2c2-x3`/`-x4` the stride-2 stem at 3×/4× width (439,831 / 762,823 parameters: the student family of #37);
 * `-s2c2-x2x3` the stride-2 stem at 2× width in the first two modules and 3× in the last two (410,215 parameters,
 * 7.75 M multiply-adds: width where the resolution is 6×6 and 3×3 is cheap; 0.72–0.91× the paper network's
 * batch-1 latency on onnxruntime's CPU provider, where `-x3` is 0.91–1.37×, BENCHMARKS.md);
 * `resnet18-w32`/`-w16` the teachers above.
 */
export const ARCH_VARIANTS = {
  'mini-xception': {},
  'mini-xception-x2': { width: 2 },
  'mini-xception-x4': { width: 4 },
  'mini-xception-s2c1': { stemStride: 1 },
  'mini-xception-s2c2': { stemStride: 2 },
  'mini-xception-s2p': { stemPool: true },
  'mini-xception-s2c2-x2': { stemStride: 2, width: 2 },
  'mini-xception-s2c1-x2': { stemStride: 1, width: 2 },
  'mini-xception-s2c2-x3': { stemStride: 2, width: 3 },
  'mini-xception-s2c2-x4': { stemStride: 2, width: 4 },
  'mini-xception-s2c2-x2x3': {
    stemStride: 2,
    channels: { stem: [16, 16], inner: [32, 64, 192, 384], out: [32, 64, 192, 384] },
  },
  'resnet18-w32': { family: 'resnet', base: 32 },
  'resnet18-w16': { family: 'resnet', base: 16 },
} as const satisfies Record<string, ArchVariant>;
export type Arch = keyof typeof ARCH_VARIANTS;
export const ARCHS = Object.keys(ARCH_VARIANTS) as [Arch, ...Arch[]];
