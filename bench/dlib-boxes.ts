/**
 * Where fer's dlib landmarks lose against dlib's own reading (issue 32, h32n): on each AFW face of
 * `faces-landmarks`, dlib's 68-point model on (a) the box dlib's HOG detector draws around the face (its whole-image
 * scan upsampled once, any score from −1.5: the boxes the model was trained on), (a′) a box in that convention
 * derived from the people-placed points (`--fit`), (b) fer's final box, (c) fer's own points (`auto`), and the face
 * mesh's points on fer's box; with `--fit`, also dlib's model re-read on a box re-derived from its own points
 * (`rebox1`, `rebox2`: once, twice), and each dlib reading on the mirror image (`…Mirror`); `reread`: h32n's
 * re-reading as the mean with the mirror image, by shapesAsync on a square around the new box (fer's `hogReread:
 * 'mirror'` reads on the first reading's square; `auto` is detectFaces with `hogReread: false`). Writes one JSON record per annotated face.
 *
 *   npx tsx bench/dlib-boxes.ts OUT.json [--landmarks ../shared/data/faces-landmarks] [--fit FIT.json] [--limit N]
 *
 * FIT.json: `{a: [a0, a1], b: [b0, b1], c: [c0, c1]}`: dlib's box of 68 points P whose bounding box is
 * (x, y, w, h) and centroid (mx, my): side = a0·w + a1·h, centre x = mx + b0·w + b1·h (also + xyaw·w·yaw, yaw = the
 * nose tip's offset from the eye-corners' midpoint), centre y = my + c0·w + c1·h (`fitBox`); fitted on half A by
 * bench/dlib-boxes-fit.py.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { dlibDetectAsync, dlibShapesAsync } from '../src/detect/dlib.js';
import { detectFaces, iou, meshPoints, type Box, type Point } from '../src/detect/faces.js';
import { meshTo68 } from '../src/detect/mesh.js';
import { hogBox } from '../src/detect/hog-box.js';
import { halfOf } from './afw-half.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    landmarks: { type: 'string', default: '../shared/data/faces-landmarks' },
    fit: { type: 'string', default: '' },
    limit: { type: 'string', default: '0' },
  },
});
const out = positionals[0] ?? '/tmp/dlib-boxes.json';

interface Fit {
  a: number[];
  b: number[];
  c: number[];
  yaw?: number;
}
const fit: Fit | null = values.fit ? (JSON.parse(readFileSync(values.fit, 'utf8')) as Fit) : null;

/** dlib's HOG box for 68 points, by the fitted map (see the header). */
export function fitBox(p: Point[], f: Fit): Box {
  const xs = p.map((q) => q.x),
    ys = p.map((q) => q.y);
  const x = Math.min(...xs),
    y = Math.min(...ys),
    w = Math.max(...xs) - x,
    h = Math.max(...ys) - y;
  const mx = xs.reduce((a, v) => a + v, 0) / 68,
    my = ys.reduce((a, v) => a + v, 0) / 68;
  const eyes = (p[36].x + p[45].x) / 2,
    eyeD = Math.hypot(p[45].x - p[36].x, p[45].y - p[36].y);
  const yaw = (p[30].x - eyes) / Math.max(1e-6, eyeD);
  const side = f.a[0] * w + f.a[1] * h;
  const cx = mx + f.b[0] * w + f.b[1] * h + (f.yaw ?? 0) * w * yaw,
    cy = my + f.c[0] * w + f.c[1] * h;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

function best<T extends { box: Box }>(found: T[], truth: Box): T | null {
  let b: T | null = null,
    v = 0.3;
  for (const f of found) {
    const o = iou(f.box, truth);
    if (o >= v) [b, v] = [f, o];
  }
  return b;
}

const same = (a: Point[], b: Point[]) => a.every((p, k) => Math.abs(p.x - b[k].x) < 1e-6 && Math.abs(p.y - b[k].y) < 1e-6);

await useBackend('native');
const dir = values.landmarks!;
let ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8')) as {
  file: string;
  faces: { box: number[]; landmarks: number[][] }[];
}[];
const limit = Number(values.limit);
if (limit > 0) ann = ann.filter((_, i) => i % Math.ceil(ann.length / limit) === 0);
const records: Record<string, unknown>[] = [];
let ms = 0;
for (const a of ann) {
  const file = existsSync(path.join(dir, a.file)) ? path.join(dir, a.file) : path.join(dir, 'images', a.file);
  const image = await decodeRgb(file);
  const t = performance.now();
  const shipped = await detectFaces(image, { detector: 'dlib+tiny', hogReread: false }); // the points before h32n
  ms += performance.now() - t;
  const hogAll = await dlibDetectAsync(image, 1, -1.5, 2);
  for (const face of a.faces) {
    const truthBox = { x: face.box[0], y: face.box[1], width: face.box[2], height: face.box[3] };
    const truth = face.landmarks.map(([x, y]) => ({ x, y }));
    const hog = best(hogAll, truthBox),
      mine = best(shipped, truthBox);
    const r: Record<string, unknown> = {
      name: a.file,
      half: 'AB'[halfOf(a.file)],
      truth,
      truthBox,
      size: Math.max(face.box[2], face.box[3]),
    };
    if (hog) {
      r.hog = { box: hog.box, score: hog.score, pts: hog.landmarks };
      [r.hogMirror] = await dlibShapesAsync(image, [hog.box], 2, 'mirror');
    }
    if (mine) {
      const [onBox] = await dlibShapesAsync(image, [mine.box], 2);
      const [mesh] = await meshPoints(image, [mine]); // the mesh on fer's box: the same reading as its own
      const meshPts = meshTo68(mesh.points);
      // where fer's points came from: dlib's scans, the face mesh (faces tiny adds), their mean (the second look)
      const src = same(onBox, mine.landmarks) ? 'dlib' : same(meshPts, mine.landmarks) ? 'mesh' : 'mean';
      r.auto = { box: mine.box, score: mine.score, pts: mine.landmarks, src };
      r.dlibOnAuto = onBox;
      // h32n's re-reading (rereadOnHogBoxes, mean with the mirror): dlib's model on the HOG box of dlib's points, or of the mesh's
      [r.reread] = await dlibShapesAsync(image, [hogBox(src === 'dlib' ? onBox : meshPts)], 2, 'mean');
      [r.dlibOnAutoMirror] = await dlibShapesAsync(image, [mine.box], 2, 'mirror');
      r.meshOnAuto = meshPts;
      r.meshScore = mesh.score;
      if (fit) {
        const b1 = fitBox(onBox, fit);
        const [p1] = await dlibShapesAsync(image, [b1], 2);
        const [p2] = await dlibShapesAsync(image, [fitBox(p1, fit)], 2);
        r.rebox1 = p1;
        r.rebox2 = p2;
        const [m1] = await dlibShapesAsync(image, [fitBox(r.meshOnAuto as Point[], fit)], 2);
        r.dlibOnMeshBox = m1;
      }
    }
    if (fit) {
      const [p] = await dlibShapesAsync(image, [fitBox(truth, fit)], 2);
      r.dlibOnTruthBox = p;
    }
    records.push(r);
  }
  if (records.length % 50 < a.faces.length) console.error(`${records.length} faces`);
}
writeFileSync(out, JSON.stringify({ msPerImageAuto: ms / ann.length, records }));
console.error(`wrote ${out}: ${records.length} faces, auto ${(ms / ann.length).toFixed(1)} ms / image`);
