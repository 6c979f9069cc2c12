/**
 * The training data pipeline alone, without the network: decoding a dataset folder (loadDataset, without and
 * with its decoded-folder cache, which `fer train` uses) and one epoch
 * of training batches as `fer train` builds them (src/train/epoch.ts trainingBatch: augmentation with the default
 * flip/rotation/zoom/shift, random erasing, mixup/cutmix), in images per second on the calling thread. Shows
 * whether data can keep up with the training step (issue 38: ≥ 1,435 img/s for a 20-second FER2013 epoch).
 *
 *   npx tsx bench/data-pipeline.ts [--data ../shared/data/fer2013/train] [--batch 64] [--erasing 0.25] [--mixup 0.2] [--cutmix 1]
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/dataset.js';
import { makeBatch, TRAIN_AUGMENT } from '../src/data/augment.js';
import { eraseBatch, mixBatch } from '../src/train/recipe.js';
import { Rng, deriveSeed } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/fer2013/train' },
    batch: { type: 'string', default: '64' },
    erasing: { type: 'string', default: '0.25' },
    mixup: { type: 'string', default: '0.2' },
    cutmix: { type: 'string', default: '1' },
  },
});
const bs = Number(values.batch);

let t = performance.now();
const decoded = await loadDataset(values.data!, { cache: false });
const decodeS = (performance.now() - t) / 1000;
console.log(`decode (no cache): ${decoded.size} images in ${decodeS.toFixed(1)} s (${(decoded.size / decodeS).toFixed(0)} img/s)`);
await loadDataset(values.data!); // fills the decoded-folder cache if it is empty
t = performance.now();
const data = await loadDataset(values.data!);
const cachedS = (performance.now() - t) / 1000;
console.log(`load from fer's decoded-folder cache: ${cachedS.toFixed(2)} s`);

const nc = data.classes.length;
const order = new Rng(deriveSeed(1, 0, 1)).shuffle([...Array(data.size).keys()]);
const recipe = { mixup: Number(values.mixup), cutmix: Number(values.cutmix), prob: 1 };
t = performance.now();
for (let b = 0; b * bs < data.size; b++) {
  const idx = order.slice(b * bs, (b + 1) * bs);
  const xs = makeBatch(data.images, idx, TRAIN_AUGMENT, new Rng(deriveSeed(1, 0, 2, b)));
  const ys = new Float32Array(idx.length * nc);
  idx.forEach((k, i) => (ys[i * nc + data.labels[k]] = 1));
  const rng = new Rng(deriveSeed(1, 0, 3, b));
  eraseBatch(xs, idx.length, Number(values.erasing), rng);
  mixBatch(xs, [ys], idx.length, recipe, rng);
}
const augS = (performance.now() - t) / 1000;
console.log(
  `augment + erase + mix: one epoch of ${data.size} images in ${augS.toFixed(1)} s (${(data.size / augS).toFixed(0)} img/s, batch ${bs})`,
);
