/**
 * The integer parameter blocks the addon's kernels take (native/src/kernels.h ConvParams, PoolParams), packed in
 * one place for the tfjs kernels (kernels/conv.ts, pool.ts) and the native step's plan (step-layers.ts).
 */
import type { tf } from '../../tf.js';

/** The 18 ints of kernels.h ConvParams. */
export function convParams(ci: ReturnType<typeof tf.backend_util.computeConv2DInfo>, groups: number): number[] {
  const p = ci.padInfo;
  return [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.dilationHeight,
    ci.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
    groups,
  ];
}

/** The 12 ints of kernels.h PoolParams (NHWC, one channel count in and out). */
export function poolParams(info: ReturnType<typeof tf.backend_util.computePool2DInfo>): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}
