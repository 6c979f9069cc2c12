import type { OpEmitter } from './types.js';

export const Relu: OpEmitter<{ input: string; output: string }> = {
  opType: 'Relu',
  emit(ctx, a) {
    ctx.node('Relu', [a.input], [a.output]);
  },
};
