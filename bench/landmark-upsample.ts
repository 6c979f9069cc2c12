/**
 * NME of dlib's 68 points read on the frame as scanned (landmarkUpsample 0) against on the face's square upsampled
 * once (1), dlib scanning without upsampling as it does on video frames, on the AFW photos of faces-landmarks scaled
 * to SIDE px on their long side, binned by eye distance; ms per frame of each (0 then 1 on every frame).
 *
 *   npx tsx bench/landmark-upsample.ts [SIDE=640]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { dlibDetectAsync, grayImage } from '../src/detect/dlib.js';
const dir = '../shared/data/faces-landmarks';
const ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8'));
const iou = (a: number[], b: { x: number; y: number; width: number; height: number }) => {
  const x1 = Math.max(a[0], b.x),
    y1 = Math.max(a[1], b.y),
    x2 = Math.min(a[0] + a[2], b.x + b.width),
    y2 = Math.min(a[1] + a[3], b.y + b.height);
  const i = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return i / (a[2] * a[3] + b.width * b.height - i);
};
const side = Number(process.argv[2] ?? 640);
const rows: { iod: number; e: number[] }[] = [];
const ms = [0, 0];
for (const a of ann) {
  const s = side / Math.max(a.width, a.height);
  const { data, info } = await sharp(path.join(dir, a.file))
    .resize(Math.round(a.width * s), Math.round(a.height * s))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = grayImage({ data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 1 | 3 | 4 });
  const f = a.faces[0];
  const box = f.box.map((v: number) => v * s),
    lm = f.landmarks.map(([x, y]: number[]) => [x * s, y * s]);
  const iod = Math.hypot(lm[36][0] - lm[45][0], lm[36][1] - lm[45][1]);
  const e: number[] = [];
  for (const L of [0, 1]) {
    const t = performance.now();
    const faces = await dlibDetectAsync(img, 0, 0, L);
    ms[L] += performance.now() - t;
    const m = faces.filter((d) => iou(box, d.box) >= 0.3).sort((p, q) => iou(box, q.box) - iou(box, p.box))[0];
    if (!m) {
      e.push(NaN);
      continue;
    }
    e.push(m.landmarks.reduce((acc, p, i) => acc + Math.hypot(p.x - lm[i][0], p.y - lm[i][1]), 0) / 68 / iod);
  }
  rows.push({ iod, e });
}
const found = rows.filter((r) => !isNaN(r.e[0]) && !isNaN(r.e[1]));
console.log(
  `frames ${side}px: ${rows.length} faces, both found ${found.length}; ms/frame L0 ${(ms[0] / rows.length).toFixed(1)} L1 ${(ms[1] / rows.length).toFixed(1)}`,
);
for (const [lo, hi] of [
  [0, 20],
  [20, 35],
  [35, 60],
  [60, 1e9],
]) {
  const b = found.filter((r) => r.iod >= lo && r.iod < hi);
  if (!b.length) continue;
  const mean = (k: number) => ((b.reduce((a, r) => a + r.e[k], 0) / b.length) * 100).toFixed(2);
  console.log(`eye distance ${lo}-${hi} px: n ${b.length}, NME L0 ${mean(0)}% L1 ${mean(1)}%`);
}
const all = (k: number) => ((found.reduce((a, r) => a + r.e[k], 0) / found.length) * 100).toFixed(2);
console.log(`all: NME L0 ${all(0)}% L1 ${all(1)}%`);
