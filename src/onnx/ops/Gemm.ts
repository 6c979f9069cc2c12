import type { OpEmitter } from './types.js';

/** Dense: y = x·W + b with W stored [in, out] as tfjs keeps it. */
export const Gemm: OpEmitter<{
  name: string;
  input: string;
  output: string;
  weight: Float32Array;
  dims: [number, number];
  bias?: Float32Array;
}> = {
  opType: 'Gemm',
  emit(ctx, a) {
    const inputs = [a.input, ctx.weight(`${a.name}.weight`, a.weight, a.dims)];
    if (a.bias) inputs.push(ctx.constant(`${a.name}.bias`, a.bias, [a.bias.length]));
    ctx.node('Gemm', inputs, [a.output], { transA: { int: 0 }, transB: { int: 0 } });
  },
};
