import type { OpEmitter } from './types.js';

/** A Q→DQ pair on an activation: symmetric int8, zero point 0, one scale per tensor. */
export const QuantizeLinear: OpEmitter<{ input: string; output: string; scaleName: string; zeroPointName: string }> = {
  opType: 'QuantizeLinear',
  emit(ctx, a) {
    ctx.node('QuantizeLinear', [a.input, a.scaleName, a.zeroPointName], [`${a.output}.q`]);
    ctx.node('DequantizeLinear', [`${a.output}.q`, a.scaleName, a.zeroPointName], [a.output]);
  },
};
