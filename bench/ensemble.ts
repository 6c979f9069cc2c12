/**
 * Accuracy on a labelled folder of each model and of their ensemble (probabilities averaged), with and
 * without flips; with --targets FILE, instead how a `fer train --teacher` targets file (teacher.f32) fits the
 * training labels: accuracy, mean entropy and mean top probability.
 *   npx tsx bench/ensemble.ts DATA_DIR MODEL MODEL …
 *   npx tsx bench/ensemble.ts TRAIN_DIR --targets runs/RUN/teacher.f32
 */
import { readFileSync } from 'node:fs';
import { loadDataset } from '../src/data/dataset.js';
import { modelProbs } from '../src/eval/evaluate.js';
import { argmaxRows, top1Accuracy } from '../src/eval/metrics.js';
import { useBackend } from '../src/engine/backend.js';

const [dataDir, ...rest] = process.argv.slice(2);
await useBackend('auto');
const ds = await loadDataset(dataDir);
const K = ds.classes.length;
const accuracy = (p: Float32Array) => (top1Accuracy(p, ds.labels, K) * 100).toFixed(2) + '%';

if (rest[0] === '--targets') {
  const b = readFileSync(rest[1]);
  const p = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  if (p.length !== ds.size * K) throw new Error(`${rest[1]} holds ${p.length / K} rows, ${dataDir} ${ds.size} images`);
  const pred = argmaxRows(p, K);
  let entropy = 0,
    top = 0;
  for (let i = 0; i < ds.size; i++) {
    top += p[i * K + pred[i]];
    for (let c = 0; c < K; c++) if (p[i * K + c] > 0) entropy -= p[i * K + c] * Math.log(p[i * K + c]);
  }
  console.log(
    `accuracy ${accuracy(p)}, mean entropy ${(entropy / ds.size).toFixed(3)} nats, mean top probability ${(top / ds.size).toFixed(3)}`,
  );
} else {
  for (const tta of ['none', 'flip'] as const) {
    const mean = new Float32Array(ds.size * K);
    for (const m of rest) {
      const p = await modelProbs(m, ds, tta);
      console.log(`${tta}  ${m}  ${accuracy(p)}`);
      for (let i = 0; i < p.length; i++) mean[i] += p[i] / rest.length;
    }
    console.log(`${tta}  ensemble of ${rest.length}  ${accuracy(mean)}`);
  }
}
