/**
 * Where a photo's time goes in `fer predict`'s default pipeline (`auto` = dlib+tiny where dlib is built): each
 * stage run alone, one photo at a time, CPU ms per photo (process.cpuUsage: all threads, so it holds up on a
 * loaded machine better than wall time): decode (sharp), gray conversion (JavaScript), dlib's detector + 68
 * landmarks at auto's upsampling (the baseline build and each CPU variant), the tiny detector with its
 * landmark looks, and the emotion net on the faces found (alignment, flip TTA). The photos are bench/photos.ts's.
 *
 *   npx tsx bench/auto-profile.ts [--photos ../shared/data/faces-landmarks] [--count 40] [--rounds 2]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { autoUpsample, DLIB_LANDMARKS, toGray } from '../src/detect/dlib.js';
import { alignFaces, detectFaces, type DetectedFace } from '../src/detect/faces.js';
import { MIN_CONFIDENCE } from '../src/detect/thresholds.js';
import { VARIANTS } from '../src/engine/native/locate.js';
import { decodeRgb, type RawImage } from '../src/io/image.js';
import { useBackend } from '../src/engine/backend.js';
import { packagePath } from '../src/paths.js';
import { loadClassifier } from '../src/predict/classifier.js';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '../shared/data/faces-landmarks' },
    count: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '2' },
  },
});

interface Dlib {
  load(path: string): void;
  detectAsync(
    gray: Uint8Array,
    w: number,
    h: number,
    upsample: number,
    threshold: number,
    landmarkUpsample?: number,
  ): Promise<Float64Array>;
}
const dlibs = ['fer_dlib', ...VARIANTS.fer_dlib.map((v) => v.file)]
  .map((n) => ({ name: n, file: packagePath('native', 'build', 'Release', `${n}.node`) }))
  .filter((b) => existsSync(b.file))
  .map((b) => ({ ...b, addon: createRequire(import.meta.url)(b.file) as Dlib }));
for (const b of dlibs) if (existsSync(DLIB_LANDMARKS)) b.addon.load(DLIB_LANDMARKS);

const ann = JSON.parse(readFileSync(path.join(values.photos!, 'annotations.json'), 'utf8')) as {
  file: string;
  width: number;
  height: number;
  faces: { box: number[] }[];
}[];
const jpegs: Buffer[] = [];
for (const a of ann.filter((x) => x.width >= 640 && x.height >= 480)) {
  if (jpegs.length >= Number(values.count)) break;
  const [x, y, w, h] = a.faces[0].box;
  const left = Math.round(Math.min(a.width - 640, Math.max(0, x + w / 2 - 320))),
    top = Math.round(Math.min(a.height - 480, Math.max(0, y + h / 2 - 240)));
  jpegs.push(
    await sharp(path.join(values.photos!, a.file)).extract({ left, top, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer(),
  );
}

await useBackend('native');
const classifier = await loadClassifier();
const images: RawImage[] = await Promise.all(jpegs.map((j) => decodeRgb(j)));
const faces: DetectedFace[][] = await Promise.all(images.map((im) => detectFaces(im, { detector: 'auto' })));

/** CPU ms per photo of `f` run over every photo in turn. */
async function cpu(f: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const c = process.cpuUsage();
  for (let i = 0; i < images.length; i++) await f(i);
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000 / images.length;
}

const grays = images.map((im) => toGray(im));
const stages: [string, (i: number) => Promise<unknown> | unknown][] = [
  ['decode (sharp, JPEG → RGB)', (i) => decodeRgb(jpegs[i])],
  ['gray (JavaScript)', (i) => toGray(images[i])],
  ...dlibs.map(
    (b) =>
      [
        `dlib ${b.name}.node (upsample ${autoUpsample(images[0])}, + 68 landmarks)`,
        (i: number) => b.addon.detectAsync(grays[i], images[i].width, images[i].height, autoUpsample(images[i]), MIN_CONFIDENCE.dlib),
      ] as [string, (i: number) => Promise<unknown>],
  ),
  ['tiny detector + its landmark looks', (i) => detectFaces(images[i], { detector: 'tiny', minConfidence: MIN_CONFIDENCE.dlibTiny })],
  ['emotion net (align + classify, flip TTA)', (i) => classifier.classify(alignFaces(images[i], faces[i]), faces[i].length)],
];
for (const [, f] of stages) await cpu(f); // warm-up: sessions, worker threads
const ms = stages.map(() => [] as number[]);
for (let r = 0; r < Number(values.rounds); r++) for (let s = 0; s < stages.length; s++) ms[s].push(await cpu(stages[s][1]));

const nFaces = faces.reduce((a, f) => a + f.length, 0);
console.log(`${images.length} photos of 640×480, ${nFaces} faces by auto; CPU ms per photo (each round)`);
console.log('| stage | CPU ms per photo |\n|---|---|');
for (let s = 0; s < stages.length; s++) console.log(`| ${stages[s][0]} | ${ms[s].map((v) => v.toFixed(1)).join(', ')} |`);
