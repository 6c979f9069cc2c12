/**
 * Pure constructors for ONNX protobuf messages, after onnx.helper: explicit attribute types (JS cannot
 * tell 1 from 1.0), attributes sorted by name so the same model always serializes to the same bytes,
 * a size check in makeTensor, and a symbolic batch dimension.
 */
import { onnx } from './proto.js';
import type { OnnxTypes } from './proto.js';
import { irVersionFor } from './opset.js';

export const DataType = onnx.TensorProto.DataType;
export type DataTypeCode = OnnxTypes.TensorProto.DataType;
/** ONNX 1.16's 4-bit types (opset 21), newer than the onnx-proto tables fer reads: signed and unsigned. */
export const INT4 = 22 as DataTypeCode;
export const UINT4 = 21 as DataTypeCode;

export type AttrValue = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

export function makeAttribute(name: string, v: AttrValue): OnnxTypes.AttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if ('int' in v) return onnx.AttributeProto.create({ name, type: A.INT, i: v.int });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
  if ('ints' in v) return onnx.AttributeProto.create({ name, type: A.INTS, ints: v.ints });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: v.floats });
  return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(v.string) });
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
): OnnxTypes.NodeProto {
  const attribute = Object.keys(attrs)
    .sort()
    .map((k) => makeAttribute(k, attrs[k]));
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute });
}

const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.FLOAT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
};

/** A tensor with raw little-endian data; throws when the data does not match the dims. */
export function makeTensor(
  name: string,
  dataType: DataTypeCode,
  dims: number[],
  values: Float32Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | Int32Array,
): OnnxTypes.TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = ELEMENT_BYTES[dataType];
  if (bytes === undefined) throw new Error(`makeTensor: unsupported data type ${dataType}`);
  if (values.length !== count || values.BYTES_PER_ELEMENT !== bytes) {
    throw new Error(
      `makeTensor ${name}: dims [${dims}] need ${count} × ${bytes}-byte values, got ${values.length} × ${values.BYTES_PER_ELEMENT}`,
    );
  }
  const rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  return onnx.TensorProto.create({ name, dataType, dims, rawData });
}

/**
 * A signed 4-bit tensor (ONNX INT4): two values a byte, the first in the low nibble (onnx's packing, as
 * onnx.helper.make_tensor packs it); an odd count leaves the last high nibble zero. Throws outside −8..7.
 */
export function makeInt4Tensor(name: string, dims: number[], values: Int8Array): OnnxTypes.TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`makeInt4Tensor ${name}: dims [${dims}] need ${count} values, got ${values.length}`);
  const rawData = new Uint8Array((count + 1) >> 1);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v < -8 || v > 7) throw new RangeError(`makeInt4Tensor ${name}: value ${v} at ${i} is outside -8..7`);
    rawData[i >> 1] |= (v & 15) << ((i & 1) * 4);
  }
  return onnx.TensorProto.create({ name, dataType: INT4, dims, rawData });
}

/** A value info with a shape whose entries are numbers or symbolic names (e.g. 'N'). */
export function makeValueInfo(name: string, elemType: DataTypeCode, shape: (number | string)[]): OnnxTypes.ValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
}

export function makeGraph(
  nodes: OnnxTypes.NodeProto[],
  name: string,
  inputs: OnnxTypes.ValueInfoProto[],
  outputs: OnnxTypes.ValueInfoProto[],
  initializer: OnnxTypes.TensorProto[],
): OnnxTypes.GraphProto {
  return onnx.GraphProto.create({ node: nodes, name, input: inputs, output: outputs, initializer });
}

/** A model importing ai.onnx `opset`, with the IR version that opset needs (onnx.helper's make_model_gen_version). */
export function makeModel(
  graph: OnnxTypes.GraphProto,
  opts: { opset: number; producer: string; version: string; metadata: Record<string, string> },
): OnnxTypes.ModelProto {
  return onnx.ModelProto.create({
    irVersion: irVersionFor(opts.opset),
    opsetImport: [{ domain: '', version: opts.opset }],
    producerName: opts.producer,
    producerVersion: opts.version,
    graph,
    metadataProps: Object.keys(opts.metadata)
      .sort()
      .map((key) => ({ key, value: opts.metadata[key] })),
  });
}

export function encodeModel(model: OnnxTypes.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
