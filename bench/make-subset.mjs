// Usage: node bench/make-subset.mjs [TRAIN_DIR] [OUT_DIR] [N]: the subsets of issue 36's protocol (scratch/train4096).
// 4,096 training images chosen by the md5 of their relative path (reproducible; class shares as in train), as symlinks.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
const src = path.resolve(process.argv[2] ?? '../shared/data/fer2013/train'),
  dst = process.argv[3] ?? 'scratch/train4096',
  n = Number(process.argv[4] ?? 4096);
const files = fs.readdirSync(src).flatMap((c) => fs.readdirSync(path.join(src, c)).map((f) => `${c}/${f}`));
const h = (f) => createHash('md5').update(f).digest('hex');
const pick = files
  .map((f) => [h(f), f])
  .sort((a, b) => (a[0] < b[0] ? -1 : 1))
  .slice(0, n);
fs.rmSync(dst, { recursive: true, force: true });
for (const c of fs.readdirSync(src)) fs.mkdirSync(path.join(dst, c), { recursive: true });
for (const [, f] of pick) fs.symlinkSync(path.join(src, f), path.join(dst, f));
console.log(`${pick.length} of ${files.length} images linked into ${dst}`);
