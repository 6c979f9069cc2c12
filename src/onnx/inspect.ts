/** Reads what fer needs back from an ONNX file: metadata, input layout, parameter counts. */
import { FER2013_CLASSES } from '../data/classes.js';
import { decodeModel, DataType, INT4, UINT4 } from './builder.js';
import { ModelError } from '../errors.js';
import { onnxMacs } from './macs.js';
import { readOnnxFile } from './validate.js';

export interface OnnxInfo {
  metadata: Record<string, string>;
  /** The class names, in output order (onnxClasses). */
  classes: string[];
  layout: 'NHWC' | 'NCHW';
  precision: string;
  /** Weights (conv/gemm initializers, int8 or float) and their non-zeros. */
  parameters: number;
  nonzero: number;
  /** Multiply-adds per image (convolutions and dense layers: onnx/macs.ts). */
  macs: number;
  opTypes: Record<string, number>;
  /** The first input's dims (a symbol such as N as a string). */
  inputShape: (number | string)[];
}

/**
 * Throws a one-line ModelError (exit 3) unless the ONNX model takes 48×48 single-channel images (NHWC or
 * NCHW), which is what fer's preprocessing feeds a classifier.
 */
export function checkClassifierInput(info: OnnxInfo, file: string): void {
  const s = info.inputShape.map(String);
  const ok = s.length === 4 && ((s[1] === '48' && s[2] === '48' && s[3] === '1') || (s[1] === '1' && s[2] === '48' && s[3] === '48'));
  if (!ok) throw new ModelError(`onnx: ${file} takes input [${s.join(',')}]; a fer classifier takes [N,48,48,1] or [N,1,48,48]`);
}

export function inspectOnnx(file: string | Uint8Array): OnnxInfo {
  let model;
  if (typeof file === 'string')
    model = readOnnxFile(file).model; // the checks every ONNX file passes (onnx/validate.ts)
  else {
    try {
      model = decodeModel(file);
    } catch (e) {
      throw new ModelError(`onnx: cannot parse model bytes: ${(e as Error).message}`, { cause: e });
    }
  }
  const metadata = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key!, p.value!]));
  // fer writes the layout into its metadata; for models from elsewhere, read it off the input's shape
  // ([N, 1, 48, 48] is NCHW).
  const dims = model.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  let layout: 'NHWC' | 'NCHW' = dims.length === 4 && Number(dims[1].dimValue) === 1 && Number(dims[3].dimValue) !== 1 ? 'NCHW' : 'NHWC';
  try {
    const declared = JSON.parse(metadata.preprocess ?? '{}').layout;
    if (declared === 'NCHW' || declared === 'NHWC') layout = declared;
  } catch {
    // not fer's metadata: keep the shape's answer
  }
  const nodes = model.graph?.node ?? [];
  let parameters = 0,
    nonzero = 0;
  const opTypes: Record<string, number> = {};
  for (const n of nodes) opTypes[n.opType!] = (opTypes[n.opType!] ?? 0) + 1;
  // Quantization scales and zero points: the 2nd and 3rd inputs of every (De)QuantizeLinear.
  const quantParams = new Set(
    nodes.filter((n) => /^(Quantize|Dequantize)Linear$/.test(n.opType ?? '')).flatMap((n) => (n.input ?? []).slice(1)),
  );
  // Weight-only int8/int4 (fer's CPU target): Cast(integer weights) → Mul(scale); the scale (int4: a float16 one
  // behind its own Cast) is not a parameter.
  const castOf = new Map(nodes.filter((n) => n.opType === 'Cast').map((n) => [n.output?.[0], n.input?.[0]]));
  for (const n of nodes)
    if (n.opType === 'Mul' && castOf.has(n.input?.[0])) {
      quantParams.add(n.input![1]);
      const stored = castOf.get(n.input![1]);
      if (stored) quantParams.add(stored);
    }
  const bytes: Partial<Record<number, number>> = { [DataType.FLOAT]: 4, [DataType.FLOAT16]: 2, [DataType.INT32]: 4 };
  for (const t of model.graph?.initializer ?? []) {
    const name = t.name ?? '';
    // Parameters: weights and biases (and BN vectors), not quantization scales, zero points or shapes.
    if (quantParams.has(name) || t.dataType === DataType.INT64) continue;
    if (name.endsWith('.weight') && (model.graph?.initializer ?? []).some((u) => u.name === `${name}.q`)) continue;
    const raw = t.rawData ?? new Uint8Array();
    const count = (t.dims ?? []).reduce((a, b) => a * Number(b), 1);
    parameters += count;
    if (t.dataType === INT4 || t.dataType === UINT4) {
      // Two a byte, low nibble first.
      const held = Math.min(count, raw.length * 2);
      for (let i = 0; i < held; i++) if ((raw[i >> 1] >> ((i & 1) * 4)) & 15) nonzero++;
      continue;
    }
    const size = bytes[t.dataType ?? 0] ?? 1;
    // Non-zeros among the values the file holds (never a loop over the dims' product: an unused
    // initializer may declare 10^14 elements; readOnnxFile refuses those that do not hold them).
    const held = Math.min(count, Math.floor(raw.length / size));
    for (let i = 0; i < held; i++) {
      let zero = true;
      for (let b = 0; b < size; b++) if (raw[i * size + b] !== 0 && !(size === 2 && b === 1 && raw[i * size + b] === 0x80)) zero = false;
      if (!zero) nonzero++;
    }
  }
  const inputShape = dims.map((d) => (d.dimValue != null && String(d.dimValue) !== '0' ? Number(d.dimValue) : (d.dimParam ?? '?')));
  const outDims = model.graph?.output?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const width = Number(outDims[outDims.length - 1]?.dimValue ?? 0) || undefined;
  const classes = onnxClasses({ metadata }, width);
  const spatial = (layout === 'NCHW' ? inputShape.slice(2, 4) : inputShape.slice(1, 3)).map(Number);
  const macs = spatial.length === 2 && spatial.every((d) => d > 0) ? onnxMacs(model, spatial as [number, number]) : 0;
  return { metadata, layout, precision: metadata.precision ?? 'fp32', parameters, nonzero, macs, opTypes, inputShape, classes };
}

/**
 * The class names of an ONNX classifier: fer's `classes` metadata; else FER2013's when it has 7 outputs (a
 * FER2013 model from elsewhere); else class_0, class_1, …
 */
export function onnxClasses(info: Pick<OnnxInfo, 'metadata'>, outputs?: number): string[] {
  try {
    const c = JSON.parse(info.metadata.classes ?? 'null') as unknown;
    if (Array.isArray(c) && c.length >= 2 && c.every((x) => typeof x === 'string')) return c as string[];
  } catch {
    // not fer's metadata
  }
  if (outputs === undefined || outputs === FER2013_CLASSES.length) return [...FER2013_CLASSES];
  return Array.from({ length: outputs }, (_, i) => `class_${i}`);
}
