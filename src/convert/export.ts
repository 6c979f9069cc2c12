/**
 * Export a saved fer model to ONNX and verify it: onnxruntime-node vs the tfjs model (fake-quantized
 * when the model is quantized) on sample images: max |Δprob| and top-1 agreement.
 */
import path from 'node:path';
import { loadModel, type FerMetadata } from '../model/io.js';
import { applyFakeQuant, prepareQuantized } from '../quantize/model.js';
import { calibrate } from '../quantize/calibrate.js';
import { predictProbs, type Predictor } from '../eval/probs.js';
import { activationQuantPoints, simulateInt8 } from '../quantize/activations.js';
import { argmaxRows } from '../eval/metrics.js';
import { createSession } from '../runtime/ort.js';
import { onnxProbs } from '../runtime/onnx-probs.js';
import { convertToOnnx } from './convert.js';
import type { Int8Target, Precision } from '../onnx/precision.js';
import { exportOptionsSchema } from './options.js';
import type { z } from 'zod';
import { ModelError, RuntimeFailure } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { spreadSample } from '../data/dataset.js';
import { modelName } from '../model/default.js';
import { makeDirs } from '../io/make-dirs.js';
import { parseOptions } from '../util/options.js';

/** exportOptionsSchema's fields (each optional: the schema holds the defaults), plus what only code passes. */
export type ExportOptions = z.input<typeof exportOptionsSchema> & {
  /** Written as the ONNX producer version. */
  version: string;
  /** Images for verification and (int8 without stored calibration) calibration. */
  sample?: { images: Uint8Array; size: number };
};

export interface Verification {
  images: number;
  maxAbsDiff: number;
  top1Agreement: number;
  tolerance: { maxAbsDiff: number; top1Agreement: number };
  passed: boolean;
}

export interface ExportResult {
  file: string;
  bytes: number;
  precision: Precision;
  int8Target?: Int8Target;
  verification?: Verification;
}

export const TOLERANCES: Record<Precision, { maxAbsDiff: number; top1Agreement: number }> = {
  fp32: { maxAbsDiff: 1e-4, top1Agreement: 1 },
  fp16: { maxAbsDiff: 1e-2, top1Agreement: 0.995 },
  // int8: the reference quantizes the same activations with the same scales, but integer kernels round
  // their int32 accumulators once per layer where the float simulation does not.
  int8: { maxAbsDiff: 0.1, top1Agreement: 0.99 },
  // int4 computes in float with the weights of the fake-quantized reference, but stores their scales and the biases
  // in float16: max |Δp| 3.0e-3 on the shipped model (512 val images), 1.7e-3 on the slim one, each with one top-1
  // flip in 512; a barely trained test model (near ties) flipped 1 of 70.
  int4: { maxAbsDiff: 1e-2, top1Agreement: 0.98 },
};
/** int8 for CPU computes in float with the same weights as the fake-quantized reference: fp32's tolerance. */
export const toleranceFor = (precision: Precision, target: Int8Target = 'cpu') =>
  TOLERANCES[precision === 'int8' && target === 'cpu' ? 'fp32' : precision];

/** The weight grid an integer export writes (8 or 4 bits per output channel); 0 for fp32/fp16. */
const exportBits = (precision: Precision) => (precision === 'int8' ? 8 : precision === 'int4' ? 4 : 0);

/**
 * Where `fer export onnx` writes without --out: the working directory, the file named after the model and its
 * precision (never inside the model's folder: it may be an installed package's).
 */
export function defaultOnnxFile(model: string, precision: Precision, int8Target: Int8Target): string {
  // as models/onnx names the shipped files: int8 for the CPU target, int8-tensorrt for the full-integer graph
  return `${modelName(model)}.${precision}${precision === 'int8' && int8Target !== 'cpu' ? `-${int8Target}` : ''}.onnx`;
}

/** Whether an export reads sample images: to verify it, or to calibrate a full-integer (TensorRT) int8 graph. */
export const exportNeedsSample = (o: { verify: boolean; precision: Precision; int8Target: Int8Target }) =>
  o.verify || (o.precision === 'int8' && o.int8Target === 'tensorrt');

export async function exportOnnx(modelPath: string, file: string, options: ExportOptions): Promise<ExportResult> {
  const o = {
    ...options,
    ...parseOptions(exportOptionsSchema, options, 'exportOnnx', ['version', 'sample']),
    sample: options.sample && spreadSample(options.sample, 512),
  };
  const { model, meta } = await loadModel(modelPath);
  try {
    prepareQuantized(model, meta);
    const fullInt8 = o.precision === 'int8' && o.int8Target === 'tensorrt';
    let ranges = meta.quantization?.activations;
    if (fullInt8 && !ranges) {
      if (!o.sample) throw new ModelError('export: int8 needs activation ranges: run `fer quantize` first, or give --calibration-data');
      // The same rule as `fer quantize`: the 99.99th percentile of |x|, robust to rare outliers.
      ranges = calibrate(model, o.sample.images, Math.min(o.sample.size, 512)).percentile;
    }
    const biasRounding = new Map<string, Float32Array>();
    const bytes = convertToOnnx(model, meta as FerMetadata, {
      precision: o.precision,
      int8Target: o.int8Target,
      nchw: o.nchw,
      keepIoFloat32: o.keepIoFloat32,
      names: o.names,
      version: o.version,
      activationRanges: ranges,
      biasRounding,
    });
    const result: ExportResult = {
      file,
      bytes: bytes.length,
      precision: o.precision,
      ...(o.precision === 'int8' ? { int8Target: o.int8Target ?? 'cpu' } : {}),
    };
    // float16 input/output cannot be fed from float32 images here: such an export is not verified.
    if (o.verify && o.sample && !(o.precision === 'fp16' && !o.keepIoFloat32)) {
      // int8's reference is the fake-quantized tfjs model: 8-bit per-channel weights as written, and the
      // activations quantized where the graph quantizes them, so the check measures the export, not
      // post-training quantization itself (val accuracy measures that).
      let reference: Predictor = model;
      const bits = exportBits(o.precision);
      if (bits) {
        // The writer stores every conv's weights on a `bits` grid per output channel, whatever grid they are on (a
        // 4-bit or fp16 model's too in int8): the reference takes the same step. (Per-channel quantization commutes
        // with batch-norm folding, which scales each output channel.)
        const onGrid = meta.quantization?.bits === bits && meta.quantization.granularity === 'per-channel';
        if (!meta.quantization || (!fullInt8 && !onGrid)) applyFakeQuant(model, bits, 'per-channel');
        if (fullInt8) reference = simulateInt8(model, activationQuantPoints(model, ranges ?? {}), biasRounding);
      }
      const v = await verify(reference, bytes, o, o.sample);
      result.verification = v;
      if (!v.passed) {
        throw new RuntimeFailure(
          `export: verification failed: max |Δp| ${v.maxAbsDiff.toExponential(2)} (≤ ${v.tolerance.maxAbsDiff}), ` +
            `top-1 agreement ${(v.top1Agreement * 100).toFixed(2)}% (≥ ${v.tolerance.top1Agreement * 100}%); ${file} not written`,
        );
      }
    }
    // Written only once verified, and atomically: a failed or interrupted export leaves no file behind.
    makeDirs(path.dirname(path.resolve(file)));
    writeFileAtomic(file, bytes);
    return result;
  } finally {
    model.dispose();
  }
}

async function verify(
  model: Predictor,
  bytes: Uint8Array,
  o: z.infer<typeof exportOptionsSchema>,
  sample: { images: Uint8Array; size: number },
): Promise<Verification> {
  const n = Math.min(sample.size, 512);
  const ref = predictProbs(model, sample.images, n);
  const session = await createSession(bytes);
  try {
    const got = await onnxProbs(session, o.nchw ? 'NCHW' : 'NHWC', sample.images, n);
    let maxAbsDiff = 0;
    for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - ref[i]));
    const a = argmaxRows(ref, ref.length / n),
      b = argmaxRows(got, got.length / n);
    const agree = a.filter((v, i) => v === b[i]).length / n;
    const tol = toleranceFor(o.precision, o.int8Target);
    return {
      images: n,
      maxAbsDiff,
      top1Agreement: agree,
      tolerance: tol,
      passed: maxAbsDiff <= tol.maxAbsDiff && agree >= tol.top1Agreement,
    };
  } finally {
    await session.release();
  }
}
