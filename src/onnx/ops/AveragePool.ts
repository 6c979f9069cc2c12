import type { OpEmitter } from './types.js';

/** tfjs averages over the valid cells only: count_include_pad = 0. */
export const AveragePool: OpEmitter<{
  input: string;
  output: string;
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}> = {
  opType: 'AveragePool',
  emit(ctx, a) {
    ctx.node('AveragePool', [a.input], [a.output], {
      count_include_pad: { int: 0 },
      kernel_shape: { ints: a.kernel },
      pads: { ints: a.pads },
      strides: { ints: a.strides },
    });
  },
};
