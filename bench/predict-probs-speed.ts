// Inference time of the shipped model through the tfjs engine (fer-native unless told): predictProbs over the first
// 256 and 1,024 images of a folder dataset. Usage: npx tsx bench/predict-probs-speed.ts [DATA] [THREADS]
// (compare OMP_WAIT_POLICY=PASSIVE and unset on a busy machine: BENCHMARKS.md "The native engine on a busy machine").
import { useBackend } from '../src/engine/backend.js';
import { loadModel } from '../src/model/io.js';
import { loadDataset } from '../src/data/dataset.js';
import { predictProbs } from '../src/eval/probs.js';

const [data = '../shared/data/fer2013/val', threads = '2'] = process.argv.slice(2);
console.log(await useBackend('auto', Number(threads)));
const ds = await loadDataset(data);
const { model } = await loadModel('models/fer-mini-xception');
for (const n of [256, 1024].filter((k) => k <= ds.size)) {
  const t = Date.now();
  predictProbs(model, ds.images, n, 'none');
  console.log(n, Date.now() - t, 'ms');
}
