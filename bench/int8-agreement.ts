/**
 * Diagnoses int8 export agreement: the exported int8 graph in onnxruntime (optimizations all / disabled)
 * against the tfjs simulation of the same quantization, and against weights-only fake quantization.
 * Usage: npx tsx bench/int8-agreement.ts MODEL DATA_DIR [N] [maxAbs|percentile]
 */
import { loadModel, type FerMetadata } from '../src/model/io.js';
import { loadDataset, spreadSample } from '../src/data/dataset.js';
import { applyFakeQuant } from '../src/quantize/model.js';
import { calibrate } from '../src/quantize/calibrate.js';
import { activationQuantPoints, simulateInt8 } from '../src/quantize/activations.js';
import { convertToOnnx } from '../src/convert/convert.js';
import { predictProbs } from '../src/eval/probs.js';
import { createSession } from '../src/runtime/ort.js';
import { onnxProbs } from '../src/runtime/onnx-probs.js';
import { argmaxRows } from '../src/eval/metrics.js';
import { NUM_CLASSES } from '../src/data/classes.js';
import { useBackend } from '../src/engine/backend.js';

const [modelPath, data, nArg, statArg] = process.argv.slice(2);
const stat = (statArg ?? 'maxAbs') as 'maxAbs' | 'percentile';
await useBackend('auto');
const ds = spreadSample(await loadDataset(data), Number(nArg ?? 512));
const { model, meta } = await loadModel(modelPath);
const ranges = meta.quantization?.activations ?? calibrate(model, ds.images, Math.min(ds.size, 512))[stat];
if (!meta.quantization) applyFakeQuant(model, 8, 'per-channel');
const biasRounding = new Map<string, Float32Array>();
const bytes = convertToOnnx(model, meta as FerMetadata, { precision: 'int8', activationRanges: ranges, biasRounding });
const weightsOnly = predictProbs(model, ds.images, ds.size);
const sim = predictProbs(simulateInt8(model, activationQuantPoints(model, ranges), biasRounding), ds.images, ds.size);
const compare = (name: string, a: Float32Array, b: Float32Array) => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  const x = argmaxRows(a, NUM_CLASSES),
    y = argmaxRows(b, NUM_CLASSES);
  console.log(
    `${name.padEnd(36)} top-1 agreement ${((100 * x.filter((v, i) => v === y[i]).length) / ds.size).toFixed(2)}%  max |Δp| ${max.toExponential(2)}`,
  );
};
compare('simulation vs weights-only', sim, weightsOnly);
for (const level of ['disabled', 'all'] as const) {
  const s = await createSession(bytes, { graphOptimization: level });
  const got = await onnxProbs(s, 'NHWC', ds.images, ds.size);
  compare(`ORT (${level}) vs simulation`, got, sim);
  compare(`ORT (${level}) vs weights-only`, got, weightsOnly);
  await s.session.release();
}
