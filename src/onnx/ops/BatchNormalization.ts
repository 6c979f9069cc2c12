import type { OpEmitter } from './types.js';

/** A batch norm that could not be folded into a preceding conv. */
export const BatchNormalization: OpEmitter<{
  name: string;
  input: string;
  output: string;
  scale: Float32Array;
  bias: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}> = {
  opType: 'BatchNormalization',
  emit(ctx, a) {
    const c = [a.scale.length];
    ctx.node(
      'BatchNormalization',
      [
        a.input,
        ctx.constant(`${a.name}.scale`, a.scale, c),
        ctx.constant(`${a.name}.bias`, a.bias, c),
        ctx.constant(`${a.name}.mean`, a.mean, c),
        ctx.constant(`${a.name}.var`, a.variance, c),
      ],
      [a.output],
      { epsilon: { float: a.epsilon } },
    );
  },
};
