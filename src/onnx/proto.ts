/** The only import of onnx-proto (protobufjs static code for onnx.proto, ONNX 1.10). */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto as unknown as { onnx: typeof import('onnx-proto').onnx };
export type { onnx as OnnxTypes } from 'onnx-proto';
