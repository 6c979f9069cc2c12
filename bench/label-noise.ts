/**
 * How much of FER2013's val disagreement is label noise? Three different models (flip TTA) vote on each val
 * image; the images where all three agree on one class other than the label are counted, and a seeded
 * random sample of them is drawn as a contact sheet (label → models' class listed) for a person to judge.
 *   npx tsx bench/label-noise.ts VAL_DIR OUT.png MODEL MODEL MODEL [--confident 0.8]
 */
import sharp from 'sharp';
import { loadDataset } from '../src/data/dataset.js';
import { modelProbs } from '../src/eval/evaluate.js';
import { argmaxRows } from '../src/eval/metrics.js';
import { useBackend } from '../src/engine/backend.js';
import { Rng } from '../src/util/rng.js';

const args = process.argv.slice(2);
const ci = args.indexOf('--confident');
const minConf = ci >= 0 ? Number(args.splice(ci, 2)[1]) : 0;
const [valDir, png, ...models] = args;
await useBackend('auto');
const ds = await loadDataset(valDir);
const K = ds.classes.length;
const probs = [];
for (const m of models) probs.push(await modelProbs(m, ds, 'flip'));
const predicted = probs.map((p) => argmaxRows(p, K));
const agreeWrong: { i: number; pred: number; conf: number }[] = [];
let allWrong = 0;
for (let i = 0; i < ds.size; i++) {
  const preds = predicted.map((q) => q[i]);
  if (preds.every((q) => q !== ds.labels[i])) allWrong++;
  const conf = probs.reduce((a, p) => a + p[i * K + preds[0]], 0) / probs.length;
  if (preds.every((q) => q === preds[0]) && preds[0] !== ds.labels[i] && conf >= minConf) agreeWrong.push({ i, pred: preds[0], conf });
}
const pct = (n: number) => `${n} (${((n / ds.size) * 100).toFixed(1)}%)`;
console.log(
  `${ds.size} images; every model wrong: ${pct(allWrong)}; all agree on another class (mean p ≥ ${minConf}): ${pct(agreeWrong.length)}`,
);
const rng = new Rng(7);
const pool = [...agreeWrong];
const sample = Array.from({ length: Math.min(48, pool.length) }, () => pool.splice(Math.floor(rng.next() * pool.length), 1)[0]);
const S = 96,
  cols = 8;
const tiles = await Promise.all(
  sample.map(async (r, k) => ({
    input: await sharp(Buffer.from(ds.images.subarray(r.i * 2304, (r.i + 1) * 2304)), { raw: { width: 48, height: 48, channels: 1 } })
      .resize(S, S)
      .png()
      .toBuffer(),
    left: (k % cols) * S,
    top: Math.floor(k / cols) * S,
  })),
);
await sharp({ create: { width: cols * S, height: Math.ceil(sample.length / cols) * S, channels: 3, background: '#fff' } })
  .composite(tiles)
  .png()
  .toFile(png);
console.log(sample.map((r, k) => `${k}: ${ds.classes[ds.labels[r.i]]} → ${ds.classes[r.pred]}`).join('\n'));
