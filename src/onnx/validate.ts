/**
 * The checks an ONNX file passes before fer or onnxruntime reads it, the same rule as for tfjs models
 * (model/io.ts): every file it names (external data `location`) stays inside the model's folder, sizes are
 * checked against the files before anything is allocated, tensor dims are checked arithmetically (never a
 * loop over an element count), and a message names the model's file without telling anything about files
 * outside its folder. A missing file is bad input (exit 2); anything wrong with the model is exit 3.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelError, RuntimeFailure, UsageError } from '../errors.js';
import { decodeModel, DataType, INT4, UINT4 } from './builder.js';
import type { OnnxTypes } from './proto.js';

/** onnx's protobuf limit: a model file (without external data) is at most 2 GiB. */
export const MAX_ONNX_BYTES = 2 ** 31;

/** Bytes per element of the tensor types fer can size (others are checked by count only). */
const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

/** A protobuf int64 (a number, or a Long object) as a JS number; NaN when it is not a safe integer. */
function int64(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v));
  return Number.isSafeInteger(n) ? n : NaN;
}

export interface OnnxFileInfo {
  model: OnnxTypes.ModelProto;
  /** Initializers whose data lies in other files (external data), with those files' names. */
  external: string[];
}

/** A file path for a one-line message: control characters (a newline in a name) escaped. */
const show = (f: string) => JSON.stringify(f).slice(1, -1);

/**
 * Reads and checks an ONNX model file: the file itself (exists, regular, non-empty, under 2 GiB), then each
 * tensor's dims (non-negative integers whose product fits the data the tensor holds), and its external data
 * (inside the model's folder, the range inside the file, of the size the dims give). Returns the decoded
 * model. Throws UsageError for a missing file, ModelError for a bad model.
 */
export function readOnnxFile(file: string): OnnxFileInfo {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new UsageError(`onnx: no such file: ${show(file)}`);
  }
  if (!st.isFile())
    throw new UsageError(`onnx: ${show(file)} is not a file`, {
      hint: existsSync(path.join(file, 'model.json'))
        ? 'it is a fer (tfjs) model: --engine tfjs runs it as it is, or fer export onnx makes one'
        : undefined,
    });
  if (st.size === 0) throw new ModelError(`onnx: ${show(file)} is empty (not an ONNX model)`);
  if (st.size > MAX_ONNX_BYTES) throw new ModelError(`onnx: ${show(file)} is ${st.size} bytes, over ONNX's 2 GiB limit`);
  const bytes = readBounded(file, st.size);
  let model: OnnxTypes.ModelProto;
  try {
    model = decodeModel(bytes);
  } catch {
    throw new ModelError(`onnx: ${show(file)} is not an ONNX model (it does not parse as one)`);
  }
  const external: string[] = [];
  for (const t of modelTensors(model)) {
    const where = `onnx: ${show(file)}: tensor ${JSON.stringify(t.name ?? '')}`;
    const count = elementCount(t, where);
    const size = ELEMENT_BYTES[t.dataType ?? 0];
    const isExternal = t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0;
    if (isExternal) {
      external.push(checkExternal(file, t, count, size, where));
      continue;
    }
    const held = heldElements(t, size, count);
    if (held !== null && held !== count) {
      throw new ModelError(`${where} has dims [${(t.dims ?? []).join(',')}] (${count} elements) but holds ${held}`);
    }
  }
  return { model, external };
}

/** Reads a file of `size` bytes (as stat'ed), never more: a file that grew meanwhile is not read past it. */
function readBounded(file: string, size: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, fstatSync(fd).size));
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Every tensor of a model: initializers, sparse initializers' parts and attribute tensors, in subgraphs too. */
function* modelTensors(model: OnnxTypes.ModelProto): Generator<OnnxTypes.ITensorProto> {
  const graphs: OnnxTypes.IGraphProto[] = model.graph ? [model.graph] : [];
  for (let g = graphs.pop(); g; g = graphs.pop()) {
    yield* g.initializer ?? [];
    for (const s of g.sparseInitializer ?? []) {
      if (s.values) yield s.values;
      if (s.indices) yield s.indices;
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) yield a.t;
        yield* a.tensors ?? [];
        if (a.g) graphs.push(a.g);
        graphs.push(...(a.graphs ?? []));
      }
    }
  }
}

/** The product of a tensor's dims, computed without a loop over elements; over 2^53 or negative is an error. */
function elementCount(t: OnnxTypes.ITensorProto, where: string): number {
  let count = 1;
  for (const d of t.dims ?? []) {
    const n = int64(d);
    if (!(n >= 0)) throw new ModelError(`${where} has a dim that is not a non-negative integer (${String(d)})`);
    count *= n;
    if (!Number.isSafeInteger(count)) throw new ModelError(`${where} has dims [${(t.dims ?? []).join(',')}]: too many elements`);
  }
  return count;
}

/** How many elements a tensor's in-file data holds (null: a type fer does not size); `count` is what its dims say. */
function heldElements(t: OnnxTypes.ITensorProto, size: number | undefined, count: number): number | null {
  if (t.rawData && t.rawData.length > 0 && (t.dataType === INT4 || t.dataType === UINT4)) {
    // Two a byte: an odd count leaves the last byte's high nibble unused.
    return Math.ceil(count / 2) === t.rawData.length ? count : t.rawData.length * 2;
  }
  if (t.rawData && t.rawData.length > 0) return size ? t.rawData.length / size : null;
  const typed = [t.floatData, t.int32Data, t.int64Data, t.doubleData, t.uint64Data, t.stringData].find((a) => a && a.length > 0);
  if (typed) {
    // float16/bfloat16/int8/… are stored one per int32 entry; complex types two per element.
    const perElement = t.dataType === DataType.COMPLEX64 || t.dataType === DataType.COMPLEX128 ? 2 : 1;
    return typed.length / perElement;
  }
  return 0;
}

/**
 * An external-data tensor: its `location` a relative path inside the model's folder (symlinks resolved), the
 * file present, `offset`/`length` inside it, and the length what the dims and type need. Returns the file.
 */
function checkExternal(file: string, t: OnnxTypes.ITensorProto, count: number, size: number | undefined, where: string): string {
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location') ?? '';
  const dir = path.dirname(path.resolve(file));
  const outside = () => new ModelError(`${where} names external data outside the model's folder (${show(location)})`);
  if (!location || location.includes('\0') || path.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) throw outside();
  if (location.split(/[\\/]/).includes('..')) throw outside();
  const target = path.join(dir, location);
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    throw new ModelError(`${where}: its external data ${show(location)} is missing from the model's folder`);
  }
  const root = realpathSync(dir);
  if (!real.startsWith(root + path.sep)) throw outside();
  const st = statSync(real);
  if (!st.isFile()) throw new ModelError(`${where}: its external data ${show(location)} is not a file`);
  const offset = kv.has('offset') ? int64(kv.get('offset')) : 0;
  const length = kv.has('length') ? int64(kv.get('length')) : st.size - offset;
  if (!(offset >= 0) || !(length >= 0) || offset + length > st.size) {
    throw new ModelError(
      `${where}: its external data range (offset ${kv.get('offset') ?? 0}, length ${kv.get('length') ?? '-'}) lies outside ${show(location)}`,
    );
  }
  if (size && length !== count * size) {
    throw new ModelError(`${where} has dims [${(t.dims ?? []).join(',')}] (${count * size} bytes) but its external data holds ${length}`);
  }
  return location;
}

/**
 * onnxruntime's error message as one line for a user: its C++ source locations (`/onnxruntime/…/x.cc:123
 * fn`) and status prefix dropped.
 */
export function ortMessage(e: unknown): string {
  const m = ((e as Error)?.message ?? String(e)).split('\n')[0];
  return (
    m
      .replace(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/g, '')
      .replace(/\S*\.(cc|cpp|h|hpp):\d+\s+(\S+\s+)?/g, '')
      .trim() || 'unknown error'
  );
}

/**
 * onnxruntime's failure to create a session, as fer's error: a model it cannot parse or check (protobuf,
 * graph, types, shapes, opset) is a model error (exit 3); anything else (a provider, memory) a runtime
 * failure (exit 4).
 */
export function ortLoadError(e: unknown): ModelError | RuntimeFailure {
  const raw = (e as Error)?.message ?? String(e);
  const model =
    /Load model .* failed|Protobuf parsing|INVALID_(PROTOBUF|GRAPH|ARGUMENT)|invalid model|No Op registered|NOT_IMPLEMENTED|Type Error|ShapeInference|opset|IR version|initializer|external data/i.test(
      raw,
    ) && !/execution provider|CUDA|TensorRT|cudnn/i.test(raw);
  return model
    ? new ModelError(`onnx: onnxruntime cannot use the model: ${ortMessage(e)}`, { cause: e })
    : new RuntimeFailure(`runtime: onnxruntime could not load the model: ${ortMessage(e)}`, { cause: e });
}
