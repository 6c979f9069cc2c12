import type { OpEmitter } from './types.js';

export const Flatten: OpEmitter<{ input: string; output: string }> = {
  opType: 'Flatten',
  emit(ctx, a) {
    ctx.node('Flatten', [a.input], [a.output], { axis: { int: 1 } });
  },
};
