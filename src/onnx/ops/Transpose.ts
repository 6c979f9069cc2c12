import type { OpEmitter } from './types.js';

export const Transpose: OpEmitter<{ input: string; output: string; perm: number[] }> = {
  opType: 'Transpose',
  emit(ctx, a) {
    ctx.node('Transpose', [a.input], [a.output], { perm: { ints: a.perm } });
  },
};
