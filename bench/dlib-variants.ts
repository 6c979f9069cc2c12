/**
 * dlib's HOG detector, baseline x86-64 build against its CPU variants (fer_dlib-avx2.node: AVX2+FMA), on the
 * photos of bench/photos.ts (640×480 windows of AFW photos) at `auto`'s upsampling: CPU ms per photo of
 * detection + 68 landmarks, the variants interleaved round by round (A B A B) so that the machine's load hits
 * both alike (the table gives each round, the best one and the ratio per round), and whether every variant returns the same faces (boxes and landmarks exactly, scores within
 * 1e-5: dlib's 8-wide AVX sums add in another order than its 4-wide SSE ones).
 *
 *   npx tsx bench/dlib-variants.ts [--photos ../shared/data/faces-landmarks] [--count 40] [--rounds 3] [--upsample 1]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { toGray, DLIB_LANDMARKS } from '../src/detect/dlib.js';
import { decodeRgb } from '../src/io/image.js';
import { addonCandidates, VARIANTS } from '../src/engine/native/locate.js';
import { packagePath } from '../src/paths.js';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '../shared/data/faces-landmarks' },
    count: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '3' },
    upsample: { type: 'string', default: '1' },
  },
});

interface Dlib {
  load(path: string): void;
  detectAsync(gray: Uint8Array, w: number, h: number, upsample: number, threshold: number): Promise<Float64Array>;
}
const names = ['fer_dlib', ...VARIANTS.fer_dlib.map((v) => v.file)];
const builds = names
  .map((n) => ({ name: n, file: packagePath('native', 'build', 'Release', `${n}.node`) }))
  .filter((b) => existsSync(b.file))
  .map((b) => ({ ...b, addon: createRequire(import.meta.url)(b.file) as Dlib }));
for (const b of builds) if (existsSync(DLIB_LANDMARKS)) b.addon.load(DLIB_LANDMARKS);

const ann = JSON.parse(readFileSync(path.join(values.photos!, 'annotations.json'), 'utf8')) as {
  file: string;
  width: number;
  height: number;
  faces: { box: number[] }[];
}[];
const photos: { gray: Uint8Array; w: number; h: number }[] = [];
for (const a of ann.filter((x) => x.width >= 640 && x.height >= 480)) {
  if (photos.length >= Number(values.count)) break;
  const [x, y, w, h] = a.faces[0].box;
  const left = Math.round(Math.min(a.width - 640, Math.max(0, x + w / 2 - 320))),
    top = Math.round(Math.min(a.height - 480, Math.max(0, y + h / 2 - 240)));
  const jpeg = await sharp(path.join(values.photos!, a.file))
    .extract({ left, top, width: 640, height: 480 })
    .jpeg({ quality: 90 })
    .toBuffer();
  const image = await decodeRgb(jpeg);
  photos.push({ gray: toGray(image), w: image.width, h: image.height });
}

const up = Number(values.upsample);
// Warm-up: each libuv worker thread decodes its own copy of the detector on first use.
for (const b of builds) await Promise.all(photos.slice(0, 4).map((p) => b.addon.detectAsync(p.gray, p.w, p.h, up, 0)));
const cpuMs = new Map<string, number[]>(builds.map((b) => [b.name, []]));
const outputs = new Map<string, Float64Array[]>();
for (let r = 0; r < Number(values.rounds); r++)
  for (let i = 0; i < builds.length; i++) {
    const b = builds[r % 2 ? builds.length - 1 - i : i]; // A B, then B A
    const out: Float64Array[] = [];
    const c = process.cpuUsage();
    for (const p of photos) out.push(await b.addon.detectAsync(p.gray, p.w, p.h, up, 0));
    const used = process.cpuUsage(c);
    cpuMs.get(b.name)!.push((used.user + used.system) / 1000 / photos.length);
    outputs.set(b.name, out);
  }

const base = outputs.get('fer_dlib')!;
const same = (o: Float64Array[]) =>
  o.every(
    (faces, i) =>
      faces.length === base[i].length &&
      faces.every((v, k) => (k % 141 === 4 ? Math.abs(v - base[i][k]) <= 1e-5 : Object.is(v, base[i][k]))),
  );
console.log(`${photos.length} photos of 640×480, upsample ${up}; this CPU's order: ${addonCandidates('fer_dlib').join(', ')}`);
console.log(
  '| build | CPU ms per photo (each round) | best round | baseline ÷ this, per round | same faces as baseline |\n|---|---|---|---|---|',
);
for (const b of builds) {
  const ms = cpuMs.get(b.name)!;
  console.log(
    `| ${b.name}.node | ${ms.map((v) => v.toFixed(1)).join(', ')} | ${Math.min(...ms).toFixed(1)} | ${ms.map((v, r) => (cpuMs.get('fer_dlib')![r] / v).toFixed(2)).join(', ')} | ${same(outputs.get(b.name)!) ? 'yes' : 'NO'} |`,
  );
}
