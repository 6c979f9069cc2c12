import type { OpEmitter } from './types.js';

export const Reshape: OpEmitter<{ name: string; input: string; output: string; shape: number[] }> = {
  opType: 'Reshape',
  emit(ctx, a) {
    ctx.node('Reshape', [a.input, ctx.int64(`${a.name}.shape`, a.shape)], [a.output]);
  },
};
