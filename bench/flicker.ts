/**
 * Video flicker: label changes per second on videos of a still face, each frame classified alone against the
 * tracker's moving average (src/predict/track.ts) at several time constants, and frames/s of the whole pipeline.
 *
 * A "still-face video" is a real photo repeated for `--seconds` at `--fps`, each frame with what a camera adds to
 * a face that does not move: sensor noise (Gaussian, σ = `--noise` levels per channel), a sub-pixel shake (up to
 * ±`--shake` px, bilinear) and a slow exposure drift (±3%). Nothing else changes, so every label change is
 * flicker. Smoothing runs on the same per-frame predictions, so every column has the same frames/s.
 *
 *   npx tsx bench/flicker.ts [--photos ../shared/data/faces-landmarks/images] [--count 20] [--fps 10]
 *     [--seconds 6] [--detector auto] [--taus 0,0.25,0.5,1]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { cropSquare, decodeRgb, type RawImage } from '../src/io/image.js';
import { loadClassifier } from '../src/predict/classifier.js';
import { predictRaw } from '../src/predict/predict.js';
import { createTracker, labelChangesPerSecond } from '../src/predict/track.js';
import { Rng } from '../src/util/rng.js';
import type { Detector } from '../src/detect/faces.js';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '../shared/data/faces-landmarks/images' },
    count: { type: 'string', default: '20' },
    fps: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '6' },
    noise: { type: 'string', default: '6' },
    shake: { type: 'string', default: '1.5' },
    detector: { type: 'string', default: 'auto' },
    taus: { type: 'string', default: '0,0.25,0.5,1' },
    tta: { type: 'string', default: 'flip' },
  },
});

/** One frame: the photo shifted by (dx, dy) px (bilinear), scaled by `gain`, plus Gaussian noise. */
function cameraFrame(src: RawImage, dx: number, dy: number, gain: number, sigma: number, rng: Rng): RawImage {
  const { width: w, height: h } = src;
  const out = new Uint8Array(w * h * 3);
  const fx = dx - Math.floor(dx),
    fy = dy - Math.floor(dy),
    ox = Math.floor(dx),
    oy = Math.floor(dy);
  const at = (x: number, y: number, c: number) => src.data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const sx = x - ox,
          sy = y - oy;
        const v =
          (at(sx, sy, c) * (1 - fx) + at(sx - 1, sy, c) * fx) * (1 - fy) + (at(sx, sy - 1, c) * (1 - fx) + at(sx - 1, sy - 1, c) * fx) * fy;
        out[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * gain + sigma * rng.normal())));
      }
  return { data: out, width: w, height: h, channels: 3 };
}

await useBackend('native');
const fps = Number(values.fps),
  n = Math.round(Number(values.seconds) * fps),
  taus = values.taus!.split(',').map(Number);
const classifier = await loadClassifier(undefined, values.tta as 'flip');
const files = readdirSync(values.photos!)
  .filter((f) => /\.(jpe?g|png)$/i.test(f))
  .sort()
  .slice(0, Number(values.count));
const rng = new Rng(11);
const perTau = new Map<number, number[]>(taus.map((t) => [t, []]));
let frames = 0,
  ms = 0;
// Webcam-sized frames: a square of the photo's shorter side around its annotated face (where annotations.json
// beside the photos' folder says), at 480×480.
const annFile = path.join(values.photos!, '..', 'annotations.json');
const boxes = new Map<string, number[]>(
  existsSync(annFile)
    ? (JSON.parse(readFileSync(annFile, 'utf8')) as { file: string; faces: { box: number[] }[] }[]).map((a) => [
        path.basename(a.file),
        a.faces[0].box,
      ])
    : [],
);
async function webcamFrame(file: string): Promise<RawImage> {
  const image = await decodeRgb(file);
  const side = Math.min(image.width, image.height);
  const b = boxes.get(path.basename(file)) ?? [image.width / 2, image.height / 2, 0, 0];
  const cx = b[0] + b[2] / 2,
    cy = b[1] + b[3] / 2;
  const x = Math.max(0, Math.min(image.width - side, cx - side / 2)),
    y = Math.max(0, Math.min(image.height - side, cy - side / 2));
  return cropSquare(image, x, y, side, 480);
}

for (const f of files) {
  const photo = await webcamFrame(path.join(values.photos!, f));
  const raw: { time: number; faces: Awaited<ReturnType<typeof predictRaw>> }[] = [];
  for (let i = 0; i < n; i++) {
    const frame = cameraFrame(
      photo,
      (rng.next() * 2 - 1) * Number(values.shake),
      (rng.next() * 2 - 1) * Number(values.shake),
      1 + 0.03 * Math.sin((2 * Math.PI * i) / n),
      Number(values.noise),
      rng,
    );
    const t = performance.now();
    raw.push({ time: i / fps, faces: await predictRaw(frame, classifier, { detector: values.detector as Detector, upsample: 0 }) });
    ms += performance.now() - t;
    frames++;
  }
  for (const tau of taus) {
    const tracker = createTracker({ smooth: tau });
    perTau.get(tau)!.push(labelChangesPerSecond(raw.map((r) => ({ time: r.time, faces: tracker.update(r.faces, r.time) }))));
  }
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
console.log(`${files.length} still-face videos of ${n} frames at ${fps} frames/s; pipeline ${((1000 * frames) / ms).toFixed(1)} frames/s`);
console.log('| smoothing τ (s) | label changes / s (mean over videos) | videos with any change |');
console.log('|---|---|---|');
for (const tau of taus) {
  const v = perTau.get(tau)!;
  console.log(`| ${tau === 0 ? '0 (each frame alone)' : tau} | ${mean(v).toFixed(3)} | ${v.filter((x) => x > 0).length}/${v.length} |`);
}
await classifier.release();
