/** What MaxPool and AveragePool share: their arguments and their emitter, the attributes in one order. */
import type { AttrValue } from '../builder.js';
import type { OpEmitter } from './types.js';

export interface PoolArgs {
  input: string;
  output: string;
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}

/** An emitter of the 2-D pool `opType` with `extra` attributes before kernel_shape, pads and strides. */
export function poolEmitter(opType: 'MaxPool' | 'AveragePool', extra: Record<string, AttrValue> = {}): OpEmitter<PoolArgs> {
  return {
    opType,
    emit(ctx, a) {
      ctx.node(opType, [a.input], [a.output], {
        ...extra,
        kernel_shape: { ints: a.kernel },
        pads: { ints: a.pads },
        strides: { ints: a.strides },
      });
    },
  };
}
