// Usage: node bench/make-dev-split.mjs [TRAIN_DIR] [OUT_DIR] [N] [SKIP]: issue 36's dev split (scratch/dev3589), the
// split compression settings are chosen on so that val (PublicTest) is read once, for the final candidates.
// The N training images that come right after the first SKIP in make-subset.mjs's md5 order: disjoint from
// make-subset's subset of SKIP images (scratch/train4096) by construction; 3,589 = the size of PublicTest.
// The shipped model trained on these images, so its dev accuracy is above its val accuracy: compare drops, not levels.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
const src = path.resolve(process.argv[2] ?? '../shared/data/fer2013/train'),
  dst = process.argv[3] ?? 'scratch/dev3589',
  n = Number(process.argv[4] ?? 3589),
  skip = Number(process.argv[5] ?? 4096);
const files = fs.readdirSync(src).flatMap((c) => fs.readdirSync(path.join(src, c)).map((f) => `${c}/${f}`));
const h = (f) => createHash('md5').update(f).digest('hex');
const order = files.map((f) => [h(f), f]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
const pick = order.slice(skip, skip + n);
fs.rmSync(dst, { recursive: true, force: true });
for (const c of fs.readdirSync(src)) fs.mkdirSync(path.join(dst, c), { recursive: true });
for (const [, f] of pick) fs.symlinkSync(path.join(src, f), path.join(dst, f));
console.log(`${pick.length} of ${files.length} images (after the first ${skip} by md5) linked into ${dst}`);
