/** What an ONNX export can be asked for (a leaf module: the converter's parts import it, never convert.ts). */
import { z } from 'zod';
import { INT8_TARGETS, PRECISIONS, type Precision, type WriterOptions } from '../onnx/precision.js';

export interface ConvertOptions extends WriterOptions {
  precision?: Precision;
  /** NCHW input [N,1,48,48] instead of tfjs's NHWC [N,48,48,1]. */
  nchw?: boolean;
  /** fp16: keep float32 input and output (Cast at both ends). */
  keepIoFloat32?: boolean;
  /** The ai.onnx opset the model declares (default ONNX_OPSET); the IR version follows from it. */
  opset?: number;
  version?: string;
  /** Tensor names: `short` (ids of a letter or two, no node names; int4's default) or `full` (layer names; the others'). */
  names?: 'full' | 'short';
  /** int8: activation range (max |x|) per tfjs layer output. */
  activationRanges?: Record<string, number>;
}

export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

/**
 * `exportOnnx`'s options and their defaults: the one schema both the library and `fer export onnx` (which
 * extends it with its file and data flags) parse.
 */
export const exportOptionsSchema = z.object({
  precision: z.enum(PRECISIONS).default('fp32'),
  /** int8: cpu (weight-only, float compute) or tensorrt (full-integer QDQ). */
  int8Target: z.enum(INT8_TARGETS).default('cpu'),
  /** NCHW input [N,1,48,48] instead of NHWC [N,48,48,1]. */
  nchw: z.boolean().default(false),
  /** fp16: keep float32 input and output. */
  keepIoFloat32: z.boolean().default(true),
  /** Tensor names: `short` (a letter or two each: int4's default, for the smallest file) or `full` (layer names). */
  names: z.enum(['full', 'short']).optional(),
  /** Check the ONNX model against the tfjs one on sample images before writing it. */
  verify: z.boolean().default(true),
});
