/**
 * fer train's data pipeline alone (issue 38: it must never be the bottleneck): decoding a folder dataset into
 * 48×48 gray pixels (once per run; no cache), then the per-batch work of an epoch: augmentation (fer train's
 * defaults: flip, rotation 10°, zoom 0.1, shift 0.1), random erasing 0.25 and mixup/cutmix on every batch, in
 * batches of 64, single-threaded as in fer train.
 *   npx tsx bench/data-pipeline.ts [/work/shared/data/fer2013/train] [--decode-limit N]
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/dataset.js';
import { makeBatch, TRAIN_AUGMENT } from '../src/data/augment.js';
import { eraseBatch, mixBatch } from '../src/train/recipe.js';
import { Rng } from '../src/util/rng.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { batches: { type: 'string', default: '400' } } });
const source = positionals[0] ?? '/work/shared/data/fer2013/train';
let t = performance.now();
const ds = await loadDataset(source, { cache: false });
const decodeS = (performance.now() - t) / 1000;
console.log(`decode: ${ds.size} images in ${decodeS.toFixed(1)} s = ${(ds.size / decodeS).toFixed(0)} img/s`);

const bs = 64,
  nc = ds.classes.length,
  n = Number(values.batches);
const rng = new Rng(1);
const order = rng.shuffle([...Array(ds.size).keys()]);
const out = new Float32Array(bs * 48 * 48);
for (const recipe of ['augmentation', 'augmentation + erasing + mixup/cutmix'] as const) {
  t = performance.now();
  for (let b = 0; b < n; b++) {
    const idx = order.slice(((b * bs) % (ds.size - bs)) | 0, (((b * bs) % (ds.size - bs)) | 0) + bs);
    const xs = makeBatch(ds.images, idx, TRAIN_AUGMENT, rng, out);
    if (recipe !== 'augmentation') {
      const ys = new Float32Array(bs * nc);
      eraseBatch(xs, bs, 0.25, rng);
      mixBatch(xs, [ys], bs, { mixup: 0.2, cutmix: 1, prob: 1 }, rng);
    }
  }
  const s = (performance.now() - t) / 1000;
  console.log(`${recipe}: ${((n * bs) / s).toFixed(0)} img/s (${n} batches of ${bs})`);
}
