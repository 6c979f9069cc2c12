/**
 * The weight formats fer's ONNX writer stores (a leaf module with no onnx-proto type: the writer, the converter,
 * the CLI and the public types read it).
 */

/**
 * fp32, fp16 (weights and activations), int8 (see INT8_TARGETS), int4: weights 4-bit per output channel (ONNX INT4,
 * two a byte) cast to float at load, float activations: an eighth of fp32's weight bytes, fp32's speed.
 */
export const PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];
/** The opset an int4 graph declares: ONNX's INT4 type (and its Cast to float) came with opset 21. */
export const INT4_OPSET = 21;
/**
 * What an int8 export is for. `cpu`: int8 weights (per output channel) dequantized to float at load, float
 * activations: a quarter of the file, never slower than fp32 (onnxruntime's CPU int8 kernels run this net's
 * few-channel and depthwise convs slower than its float ones, BENCHMARKS.md). `tensorrt`: the full-integer
 * QDQ graph (activations quantized per tensor from calibration) that TensorRT and NPUs run in int8.
 */
export const INT8_TARGETS = ['cpu', 'tensorrt'] as const;
export type Int8Target = (typeof INT8_TARGETS)[number];

/** How the writer stores int8 weights, and what it reports back. */
export interface WriterOptions {
  /** int8: the graph's target (default cpu: weight-only). */
  int8Target?: Int8Target;
  /**
   * int8, filled by the writer: per conv output tensor (tfjs layer name: the folded BN's, else the conv's),
   * what rounding its bias to int32 added per channel, so that a simulation can add the same.
   */
  biasRounding?: Map<string, Float32Array>;
}
