import type { OpEmitter } from './types.js';

/** GlobalAveragePool to [N, C, 1, 1], then Flatten to [N, C] as tfjs's GlobalAveragePooling2D gives. */
export const GlobalAveragePool: OpEmitter<{ input: string; output: string }> = {
  opType: 'GlobalAveragePool',
  emit(ctx, a) {
    ctx.node('GlobalAveragePool', [a.input], [`${a.output}.pooled`]);
    ctx.node('Flatten', [`${a.output}.pooled`], [a.output], { axis: { int: 1 } });
  },
};
