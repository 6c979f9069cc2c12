/** Reads what fer needs back from an ONNX file: metadata, input layout, parameter counts. */
import { readFileSync } from 'node:fs';
import { decodeModel, DataType } from './builder.js';
import { ModelError } from '../../errors.js';

export interface OnnxInfo {
  metadata: Record<string, string>;
  layout: 'NHWC' | 'NCHW';
  precision: string;
  /** Weights (conv/gemm initializers, int8 or float) and their non-zeros. */
  parameters: number;
  nonzero: number;
  opTypes: Record<string, number>;
}

export function inspectOnnx(file: string | Uint8Array): OnnxInfo {
  let model;
  try {
    model = decodeModel(typeof file === 'string' ? readFileSync(file) : file);
  } catch (e) {
    throw new ModelError(`onnx: cannot parse ${typeof file === 'string' ? file : 'model bytes'}: ${(e as Error).message}`, { cause: e });
  }
  const metadata = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key!, p.value!]));
  let layout: 'NHWC' | 'NCHW' = 'NHWC';
  try {
    layout = JSON.parse(metadata.preprocess ?? '{}').layout === 'NCHW' ? 'NCHW' : 'NHWC';
  } catch {
    // models from elsewhere: assume NHWC unless the input's channel axis says otherwise
  }
  let parameters = 0, nonzero = 0;
  const opTypes: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) opTypes[n.opType!] = (opTypes[n.opType!] ?? 0) + 1;
  for (const t of model.graph?.initializer ?? []) {
    const name = t.name ?? '';
    if (!/\.(weight|weight\.q|bias|scale|mean|var)$/.test(name) || name.endsWith('act_scale')) continue;
    if (name.endsWith('.weight') && (model.graph?.initializer ?? []).some((u) => u.name === `${name}.q`)) continue;
    const raw = t.rawData ?? new Uint8Array();
    const count = (t.dims ?? []).reduce((a, b) => a * Number(b), 1);
    parameters += count;
    const size = t.dataType === DataType.FLOAT ? 4 : t.dataType === DataType.FLOAT16 ? 2 : 1;
    for (let i = 0; i < count; i++) {
      let zero = true;
      for (let b = 0; b < size; b++) if (raw[i * size + b] !== 0 && !(size === 2 && b === 1 && raw[i * size + b] === 0x80)) zero = false;
      if (!zero) nonzero++;
    }
  }
  return { metadata, layout, precision: metadata.precision ?? 'fp32', parameters, nonzero, opTypes };
}
