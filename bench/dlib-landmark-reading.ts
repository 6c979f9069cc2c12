/**
 * Per AFW face of faces-landmarks (human 68 points): NME of fer's shipped `dlib+tiny` and of dlib's own pipeline
 * read several ways (scan upsampled u times, 68 points read on the face's square upsampled L times: d{u}L{L}, at
 * threshold -0.5), and the tiny detector's best box at 0.05; one JSON row per face for the breakdown in
 * BENCHMARKS.md "dlib's 68 points read on the face upsampled twice (issue 32, h32b)".
 *
 *   npx tsx bench/dlib-landmark-reading.ts [OUT.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { dlibDetectAsync, grayImage } from '../src/detect/dlib.js';
import { detectFaces, iou, detectorBoxes } from '../src/detect/faces.js';
await useBackend('native');
const dir = '../shared/data/faces-landmarks';
const ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8'));
const nme = (t: number[][], f: { x: number; y: number }[]) =>
  t.reduce((a, p, i) => a + Math.hypot(p[0] - f[i].x, p[1] - f[i].y), 0) / 68 / Math.hypot(t[36][0] - t[45][0], t[36][1] - t[45][1]);
const out: any[] = [];
for (const a of ann) {
  const img = await decodeRgb(path.join(dir, a.file));
  const f = a.faces[0];
  const box = { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] };
  const best = <T extends { box: any }>(ds: T[]) =>
    ds.filter((d) => iou(box, d.box) >= 0.3).sort((p, q) => iou(box, q.box) - iou(box, p.box))[0];
  const r: any = {
    file: a.file,
    w: img.width,
    h: img.height,
    iod: Math.hypot(f.landmarks[36][0] - f.landmarks[45][0], f.landmarks[36][1] - f.landmarks[45][1]),
    boxw: box.width,
  };
  const auto = best(await detectFaces(img, { detector: 'dlib+tiny' }));
  r.auto = auto ? nme(f.landmarks, auto.landmarks) : null;
  r.autoScore = auto?.score;
  r.autoBox = auto?.box;
  const g = grayImage(img);
  for (const [u, L] of [
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 2],
    [2, 2],
  ]) {
    const d = best(await dlibDetectAsync(g, u, -0.5, L));
    r[`d${u}L${L}`] = d ? nme(f.landmarks, d.landmarks) : null;
    r[`d${u}L${L}s`] = d?.score;
    if (u === 1 && L === 1) r.dlibBox = d?.box;
  }
  const t = best(await detectorBoxes(img, 'tiny', 0.05, 416));
  r.tiny = t ? { box: t.box, score: t.score } : null;
  out.push(r);
  process.stderr.write('.');
}
writeFileSync(process.argv[2] ?? '/tmp/dlib-landmark-reading.json', JSON.stringify(out));
