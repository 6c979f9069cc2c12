import type { OpEmitter } from './types.js';

export const MaxPool: OpEmitter<{
  input: string;
  output: string;
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}> = {
  opType: 'MaxPool',
  emit(ctx, a) {
    ctx.node('MaxPool', [a.input], [a.output], { kernel_shape: { ints: a.kernel }, pads: { ints: a.pads }, strides: { ints: a.strides } });
  },
};
