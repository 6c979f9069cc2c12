import type { OpEmitter } from './types.js';

export const Softmax: OpEmitter<{ input: string; output: string }> = {
  opType: 'Softmax',
  emit(ctx, a) {
    ctx.node('Softmax', [a.input], [a.output], { axis: { int: -1 } });
  },
};
