/** What an op emitter gets: the graph under construction. */
import type { OnnxTypes } from '../proto.js';
import type { AttrValue } from '../builder.js';

export interface GraphContext {
  node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>): void;
  /** A float weight as the precision asks (fp32, fp16, or int8 + DequantizeLinear per output channel). */
  weight(name: string, values: Float32Array, dims: number[], opts?: { quantize?: boolean }): string;
  /**
   * A bias added to the output of `weight` applied to `input`: int32 + DequantizeLinear (scale = input
   * scale × weight scale per channel) when both are quantized, else a float constant.
   */
  bias(name: string, values: Float32Array, input: string, weight: string, output: string): string;
  /** A float constant kept in the graph's float type (biases, BN parameters). */
  constant(name: string, values: Float32Array, dims: number[]): string;
  int64(name: string, values: number[]): string;
  initializers: OnnxTypes.TensorProto[];
}

export interface OpEmitter<A> {
  opType: string;
  emit(ctx: GraphContext, args: A): void;
}
