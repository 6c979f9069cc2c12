/** What an ONNX export can be asked for (a leaf module: the converter's parts import it, never convert.ts). */
import { z } from 'zod';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
/**
 * What an int8 export is for. `cpu`: int8 weights (per output channel) dequantized to float at load, float
 * activations: a quarter of the file, never slower than fp32 (onnxruntime's CPU int8 kernels run this net's
 * few-channel and depthwise convs slower than its float ones, BENCHMARKS.md). `tensorrt`: the full-integer
 * QDQ graph (activations quantized per tensor from calibration) that TensorRT and NPUs run in int8.
 */
export const INT8_TARGETS = ['cpu', 'tensorrt'] as const;
export type Int8Target = (typeof INT8_TARGETS)[number];

export interface ConvertOptions {
  precision?: Precision;
  /** NCHW input [N,1,48,48] instead of tfjs's NHWC [N,48,48,1]. */
  nchw?: boolean;
  /** fp16: keep float32 input and output (Cast at both ends). */
  keepIoFloat32?: boolean;
  opset?: number;
  version?: string;
  /** int8: the graph's target (default cpu: weight-only). */
  int8Target?: Int8Target;
  /** int8: activation range (max |x|) per tfjs layer output. */
  activationRanges?: Record<string, number>;
  /**
   * int8, filled by the writer: per conv output tensor (tfjs layer name: the folded BN's, else the conv's),
   * what rounding its bias to int32 added per channel, so that a simulation can add the same.
   */
  biasRounding?: Map<string, Float32Array>;
}

export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

/** The ONNX opset every graph fer writes declares (classifier and face nets alike). */
export const ONNX_OPSET = 13;

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
  /** Check the ONNX model against the tfjs one on sample images before writing it. */
  verify: z.boolean().default(true),
});
