/** The weight formats fer's ONNX writer stores (a leaf module: the writer, the converter and the CLI read it). */

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
