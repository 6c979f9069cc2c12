/**
 * Face detection and landmarks, every detector in one run: recall (IoU ≥ 0.3 with an annotated box), false
 * positives, landmark NME (mean point error over the outer-eye-corner distance, points 36 and 45) and time
 * per image, on real photos with hand-annotated faces and on composed scenes (FER2013 faces pasted at
 * known boxes, 40–240 px, on textured backgrounds; some scenes with several faces, some with none).
 *
 *   npx tsx bench/detect.ts [--real ../shared/data/faces-real] [--faces ../shared/data/fer2013/val] [--scenes 60]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { composeScene, decodeRgb, type RawImage } from '../src/io/image.js';
import { detectFaces, iou, type Box, type DetectOptions, type DetectedFace, type Point } from '../src/detect/faces.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    real: { type: 'string', default: '../shared/data/faces-real' },
    faces: { type: 'string', default: '../shared/data/fer2013/val' },
    scenes: { type: 'string', default: '60' },
    seed: { type: 'string', default: '7' },
  },
});

interface Truth {
  box: Box;
  landmarks?: Point[];
}
interface Item {
  name: string;
  image: RawImage;
  truth: Truth[];
}

async function realPhotos(dir: string): Promise<Item[]> {
  if (!existsSync(path.join(dir, 'annotations.json'))) return [];
  const ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8')) as {
    file: string;
    faces: { box: number[]; landmarks: number[][] }[];
  }[];
  return Promise.all(
    ann.map(async (a) => ({
      name: a.file,
      image: await decodeRgb(path.join(dir, a.file)),
      truth: a.faces.map((f) => ({
        box: { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] },
        landmarks: f.landmarks.map(([x, y]) => ({ x, y })),
      })),
    })),
  );
}

/** Scenes of 640×480 with 0–3 FER2013 faces of 40–240 px at known, non-overlapping boxes. */
async function composedScenes(facesDir: string, n: number, seed: number): Promise<Item[]> {
  const rng = new Rng(seed);
  const files = readdirSync(facesDir)
    .filter((c) => !c.startsWith('.'))
    .flatMap((c) => readdirSync(path.join(facesDir, c)).map((f) => path.join(facesDir, c, f)));
  const items: Item[] = [];
  for (let s = 0; s < n; s++) {
    const count = [0, 1, 1, 1, 2, 3][rng.int(6)];
    const boxes: Box[] = [];
    for (let tries = 0; boxes.length < count && tries < 100; tries++) {
      const size = Math.round(40 + rng.next() * 200);
      const b = { x: rng.int(640 - size), y: rng.int(480 - size), width: size, height: size };
      if (
        boxes.every((o) => iou(o, b) === 0 && (b.x + b.width < o.x || o.x + o.width < b.x || b.y + b.height < o.y || o.y + o.height < b.y))
      )
        boxes.push(b);
    }
    const bg = { r: 40 + rng.int(180), g: 40 + rng.int(180), b: 40 + rng.int(180) };
    const image = await composeScene(
      640,
      480,
      boxes.map((b) => ({ file: files[rng.int(files.length)], left: b.x, top: b.y, size: b.width })),
      bg,
    );
    // Texture: per-pixel noise and a gradient, so the background is not a flat color.
    for (let i = 0, p = 0; i < image.data.length; i += 3, p++) {
      const inFace = boxes.some((b) => {
        const x = p % 640,
          y = Math.floor(p / 640);
        return x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height;
      });
      if (inFace) continue;
      const v = (rng.next() - 0.5) * 60 + ((p % 640) / 640 - 0.5) * 40;
      for (let c = 0; c < 3; c++) image.data[i + c] = Math.max(0, Math.min(255, image.data[i + c] + v));
    }
    items.push({ name: `scene-${s}`, image, truth: boxes.map((box) => ({ box })) });
  }
  return items;
}

const centreIn = (f: Box, t: Box) => {
  const cx = f.x + f.width / 2,
    cy = f.y + f.height / 2;
  return cx >= t.x && cx <= t.x + t.width && cy >= t.y && cy <= t.y + t.height;
};

function score(items: Item[], found: DetectedFace[][]) {
  let hits = 0,
    truths = 0,
    fp = 0,
    nmeSum = 0,
    nmeN = 0,
    centred = 0;
  items.forEach((it, k) => {
    const used = new Set<number>();
    truths += it.truth.length;
    // Looser: a detection centred in the annotated box (a pasted FER2013 crop's square is larger than its face).
    centred += it.truth.filter((t) => found[k].some((f) => centreIn(f.box, t.box) && f.box.width >= 0.25 * t.box.width)).length;
    for (const t of it.truth) {
      let best = -1,
        bestIou = 0.3;
      found[k].forEach((f, j) => {
        const v = iou(f.box, t.box);
        if (!used.has(j) && v >= bestIou) {
          best = j;
          bestIou = v;
        }
      });
      if (best < 0) continue;
      used.add(best);
      hits++;
      if (t.landmarks) {
        const d = Math.hypot(t.landmarks[36].x - t.landmarks[45].x, t.landmarks[36].y - t.landmarks[45].y);
        const err =
          t.landmarks.reduce((a, p, i) => a + Math.hypot(p.x - found[k][best].landmarks[i].x, p.y - found[k][best].landmarks[i].y), 0) / 68;
        nmeSum += err / d;
        nmeN++;
      }
    }
    fp += found[k].length - used.size;
    if (process.env.FER_BENCH_MISSES) {
      it.truth.forEach((t) => {
        if (!found[k].some((f) => iou(f.box, t.box) >= 0.3)) console.error(`miss ${it.name} ${t.box.width}px at ${t.box.x},${t.box.y}`);
      });
      found[k].forEach((f, j) => {
        if (!used.has(j))
          console.error(
            `fp ${it.name} ${Math.round(f.box.width)}px at ${Math.round(f.box.x)},${Math.round(f.box.y)} best IoU ${Math.max(0, ...it.truth.map((t) => iou(f.box, t.box))).toFixed(2)}`,
          );
      });
    }
  });
  return { recall: hits / Math.max(1, truths), hits, truths, fp, nme: nmeN ? nmeSum / nmeN : NaN, centred: centred / Math.max(1, truths) };
}

await useBackend('native');
const sets: [string, Item[]][] = [
  ['faces-real (4 photos, 23 faces)', await realPhotos(values.real!)],
  [`composed scenes (${values.scenes})`, await composedScenes(values.faces!, Number(values.scenes), Number(values.seed))],
];
const configs: [string, DetectOptions][] = [
  ['dlib+tiny (auto)', { detector: 'dlib+tiny', upsample: 1 }],
  ['dlib, upsample 1', { detector: 'dlib', upsample: 1 }],
  ['dlib, upsample 0', { detector: 'dlib', upsample: 0 }],
  ['tiny 416', { detector: 'tiny', inputSize: 416 }],
  ['tiny 608', { detector: 'tiny', inputSize: 608 }],
  ['ssd', { detector: 'ssd' }],
];
console.log(
  '| detector | set | recall (IoU ≥ 0.3) | false positives | found (centred in box) | landmark NME | ms / image |\n|---|---|---|---|---|---|---|',
);
for (const [name, o] of configs) {
  for (const [setName, items] of sets) {
    if (!items.length) continue;
    await detectFaces(items[0].image, o); // warm-up (sessions, model load)
    const t0 = performance.now();
    const found: DetectedFace[][] = [];
    for (const it of items) found.push(await detectFaces(it.image, o));
    const ms = (performance.now() - t0) / items.length;
    const r = score(items, found);
    console.log(
      `| ${name} | ${setName} | ${(r.recall * 100).toFixed(1)}% (${r.hits}/${r.truths}) | ${r.fp} | ${(r.centred * 100).toFixed(1)}% | ${Number.isNaN(r.nme) ? '-' : `${(r.nme * 100).toFixed(1)}%`} | ${ms.toFixed(1)} |`,
    );
  }
}
