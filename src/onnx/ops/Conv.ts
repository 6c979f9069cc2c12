import type { OpEmitter } from './types.js';

export interface ConvArgs {
  name: string;
  input: string;
  output: string;
  /** OIHW (group conv: [C·mult, 1, kh, kw]). */
  weight: Float32Array;
  dims: [number, number, number, number];
  bias?: Float32Array;
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
}

export const Conv: OpEmitter<ConvArgs> = {
  opType: 'Conv',
  emit(ctx, a) {
    const inputs = [a.input, ctx.weight(`${a.name}.weight`, a.weight, a.dims, { quantize: true })];
    if (a.bias) inputs.push(ctx.bias(`${a.name}.bias`, a.bias, a.input, inputs[1], a.output));
    ctx.node('Conv', inputs, [a.output], {
      dilations: { ints: a.dilations },
      group: { int: a.group },
      kernel_shape: { ints: [a.dims[2], a.dims[3]] },
      pads: { ints: a.pads },
      strides: { ints: a.strides },
    });
  },
};
