import type { OpEmitter } from './types.js';

export const Add: OpEmitter<{ inputs: string[]; output: string }> = {
  opType: 'Add',
  emit(ctx, a) {
    if (a.inputs.length === 2) return ctx.node('Add', a.inputs, [a.output]);
    ctx.node('Sum', a.inputs, [a.output]);
  },
};
