/**
 * Per-kernel pruning sensitivity (issue 36): each kernel of MODEL alone pruned by |w| to each sparsity of SPARSITIES,
 * no fine-tune, no reconstruction, batch norm untouched; accuracy on DATA (the dev split) against the dense model.
 * Also prints each kernel's share of LAMP's zeros at TARGET (the allocation `fer prune --scope lamp` makes).
 * Usage: npx tsx bench/prune-sensitivity.ts MODEL DATA [SPARSITIES=0.5,0.75,0.9] [TARGET=0.7561] [N images=all]
 */
import { loadModel } from '../src/model/io.js';
import { loadDataset, spreadSample } from '../src/data/dataset.js';
import { predictProbs } from '../src/eval/probs.js';
import { argmaxRows } from '../src/eval/metrics.js';
import { NUM_CLASSES } from '../src/data/classes.js';
import { useBackend } from '../src/engine/backend.js';
import { kernelWeights, readValues, writeValues } from '../src/prune/weights.js';
import { applyMask, lampMasks, magnitudeMask } from '../src/prune/prune.js';

const [modelPath, data, sArg, tArg, nArg] = process.argv.slice(2);
const levels = (sArg ?? '0.5,0.75,0.9').split(',').map(Number);
await useBackend('auto', 1);
const all = await loadDataset(data);
const ds = nArg ? { ...spreadSample(all, Number(nArg)), labels: sampleLabels(all, Number(nArg)) } : all;
const { model } = await loadModel(modelPath);
const acc = () => {
  const pred = argmaxRows(predictProbs(model, ds.images, ds.size), NUM_CLASSES);
  return (100 * pred.filter((p, i) => p === ds.labels[i]).length) / ds.size;
};
const weights = kernelWeights(model);
const dense = weights.map(readValues).map((v) => Float32Array.from(v));
const lamp = lampMasks(dense, Number(tArg ?? 0.7561));
const base = acc();
console.log(`dense ${base.toFixed(2)}%`);
console.log(['kernel', 'size', 'lamp zeros', ...levels.map((s) => `Δ at ${s}`)].join('\t'));
for (const [i, w] of weights.entries()) {
  const deltas = levels.map((s) => {
    writeValues(w, applyMask(dense[i], magnitudeMask(dense[i], s)));
    const d = acc() - base;
    writeValues(w, dense[i]);
    return d.toFixed(2);
  });
  const z = lamp[i].reduce((a, v) => a + (v ? 0 : 1), 0) / lamp[i].length;
  console.log([w.name, dense[i].length, (100 * z).toFixed(1), ...deltas].join('\t'));
}

/** The labels of spreadSample's images. */
function sampleLabels(d: { labels: Uint8Array; size: number }, n: number): Uint8Array {
  const k = Math.min(n, d.size);
  return Uint8Array.from({ length: k }, (_, i) => d.labels[Math.floor((i * d.size) / k)]);
}
