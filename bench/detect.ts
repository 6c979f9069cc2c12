/**
 * Face detection and landmarks, every detector in one run, on real photos: recall (IoU ≥ 0.3 with an annotated
 * box), false positives (on sets where every face is annotated, and on face-free photos), landmark NME (mean
 * point error over the outer-eye-corner distance, points 36 and 45) and time per image.
 *
 * Each detector runs once per image at a permissive threshold; each row of the table is then a threshold (and,
 * for `dlib+tiny`, a union rule; for tiny and SSD, a floor on the face mesh's own face score) applied to those
 * same detections, so a calibration table costs one pass. Landmarks: dlib's model, face-api's net (corner,
 * centred, refined square) and the face mesh mapped to 68 points (`mesh`, fer's default without dlib's model).
 *
 *   npx tsx bench/detect.ts [--real ../shared/data/faces-real] [--landmarks ../shared/data/faces-landmarks]
 *     [--face-free DIR] [--scenes 0] [--limit N] [--passes dlib1,tiny416,…] [--json FILE]
 *
 * Passes `auto` and `auto-up1` are fer's `dlib+tiny` as it ships (default thresholds, its own landmarks: "NME as
 * shipped"): `auto` with its default upsampling (the small-face cascade on photos up to ~1 megapixel),
 * `auto-up1` with `upsample: 1` (one 2× upsampled dlib scan of the whole image, the default before the cascade);
 * `auto-L1` with dlib's 68 points read on the face's square upsampled once (`landmarkUpsample: 1`, the default before h32b);
 * `auto-h32s` without dlib's points re-read on the HOG box of the first points (`hogReread: false`, the default before h32n);
 * `auto-mirror` with that re-reading also on the square's mirror image, the mean of the two (`hogReread: 'mirror'`);
 * `auto-h32b` without the second look at dlib's weak faces that tiny or SSD back (`secondLook: false`, the default before h32r);
 * `auto-ssd` with SSD on every photo (`secondLook: 'always'`, the default before h32s; `auto` runs it where it can
 * change the result); `auto-tiny2` with the second look backed by tiny's boxes only (`secondLook: 'tiny'`: no SSD pass).
 * `--halves`: the rows of faces-landmarks also for each half of its photos (md5 of the annotation's `file` without
 * the face's `_N.jpg`, even or odd: the held-out protocol of BENCHMARKS.md "(issue 32, h32r)").
 *
 * Sets: `--real` (every face annotated: false positives count), `--landmarks` (one face annotated per photo: only
 * recall and NME), `--face-free` (photos without faces, e.g. scikit-image's data from Debian's python3-skimage:
 * bench/face-free.sh; every detection is a false positive), `--scenes N` composed scenes of FER2013 faces.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { composeScene, decodeRgb, type RawImage } from '../src/io/image.js';
import { dlibDetectAsync } from '../src/detect/dlib.js';
import { cascadeStats } from '../src/detect/cascade.js';
import { detectFaces, iou, landmarks68, meshPoints, type Box, type Point } from '../src/detect/faces.js';
import { meshTo68 } from '../src/detect/mesh.js';
import { landmarkSquare, refineSquare, type Square } from '../src/detect/geometry.js';
import { Rng } from '../src/util/rng.js';
import { halfOf } from './afw-half.js';

const { values } = parseArgs({
  options: {
    real: { type: 'string', default: '../shared/data/faces-real' },
    landmarks: { type: 'string', default: '../shared/data/faces-landmarks' },
    'face-free': { type: 'string', default: '' },
    faces: { type: 'string', default: '../shared/data/fer2013/val' },
    scenes: { type: 'string', default: '0' },
    seed: { type: 'string', default: '7' },
    limit: { type: 'string', default: '0' },
    passes: { type: 'string', default: 'dlib0,dlib1,tiny416,tiny608,tiny832,ssd' },
    json: { type: 'string', default: '' },
    halves: { type: 'boolean', default: false },
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
interface DataSet {
  name: string;
  items: Item[];
  /** Every face is annotated: unmatched detections are false positives. */
  complete: boolean;
}

async function annotated(dir: string, limit: number): Promise<Item[]> {
  if (!dir || !existsSync(path.join(dir, 'annotations.json'))) return [];
  let ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8')) as {
    file: string;
    faces: { box: number[]; landmarks: number[][] }[];
  }[];
  if (limit > 0) ann = ann.filter((_, i) => i % Math.ceil(ann.length / limit) === 0);
  const items: Item[] = [];
  for (const a of ann) {
    const file = existsSync(path.join(dir, a.file)) ? path.join(dir, a.file) : path.join(dir, 'images', a.file);
    items.push({
      name: a.file,
      image: await decodeRgb(file),
      truth: a.faces.map((f) => ({
        box: { x: f.box[0], y: f.box[1], width: f.box[2], height: f.box[3] },
        landmarks: f.landmarks.map(([x, y]) => ({ x, y })),
      })),
    });
  }
  return items;
}

async function faceFree(dir: string): Promise<Item[]> {
  if (!dir || !existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f));
  const items: Item[] = [];
  for (const f of files) {
    const image = await decodeRgb(path.join(dir, f)).catch(() => null);
    if (image && image.width >= 64 && image.height >= 64) items.push({ name: f, image, truth: [] });
  }
  return items;
}

/** Scenes of 640×480 with 0–3 FER2013 faces of 40–240 px at known, non-overlapping boxes, on textured backgrounds. */
async function composedScenes(facesDir: string, n: number, seed: number): Promise<Item[]> {
  if (n <= 0 || !existsSync(facesDir)) return [];
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
      if (boxes.every((o) => b.x + b.width < o.x || o.x + o.width < b.x || b.y + b.height < o.y || o.y + o.height < b.y)) boxes.push(b);
    }
    const bg = { r: 40 + rng.int(180), g: 40 + rng.int(180), b: 40 + rng.int(180) };
    const image = await composeScene(
      640,
      480,
      boxes.map((b) => ({ file: files[rng.int(files.length)], left: b.x, top: b.y, size: b.width })),
      bg,
    );
    for (let i = 0, p = 0; i < image.data.length; i += 3, p++) {
      const x = p % 640,
        y = Math.floor(p / 640);
      if (boxes.some((b) => x >= b.x && x < b.x + b.width && y >= b.y && y < b.y + b.height)) continue;
      const v = (rng.next() - 0.5) * 60 + (x / 640 - 0.5) * 40;
      for (let c = 0; c < 3; c++) image.data[i + c] = Math.max(0, Math.min(255, image.data[i + c] + v));
    }
    items.push({ name: `scene-${s}`, image, truth: boxes.map((box) => ({ box })) });
  }
  return items;
}

/** A detection with every landmark variant the bench compares. */
interface Det {
  box: Box;
  score: number;
  /** The face mesh's score that its last look holds a face (0–1). */
  meshScore: number;
  /** Landmark variants by name (dlib's own, face-api's net on the corner / centred / refined square). */
  marks: Record<string, Point[]>;
}

/** One detector pass over a set: every detection at a permissive threshold, ms per image. */
interface Pass {
  dets: Det[][];
  ms: number;
  /** Per image: whether the cascade ran SSD (auto passes). */
  ssd: boolean[];
}

const cornerSquare = (b: Box): Square => ({ x: b.x, y: b.y, side: Math.max(b.width, b.height) });

/**
 * face-api's landmarks on the corner square (the code before issue 32), the centred square, and one refinement;
 * the face mesh's (fer's default without dlib's model: meshLandmarks) and its face score.
 */
async function netMarks(
  image: RawImage,
  faces: { box: Box; score: number }[],
): Promise<{ marks: Record<string, Point[]>; meshScore: number }[]> {
  if (!faces.length) return [];
  const corner = await landmarks68(
    image,
    faces,
    faces.map((f) => cornerSquare(f.box)),
  );
  const centred = await landmarks68(
    image,
    faces,
    faces.map((f) => landmarkSquare(f.box)),
  );
  const refined = await landmarks68(
    image,
    faces,
    centred.map((f) => refineSquare(f.landmarks)),
  );
  const mesh = await meshPoints(image, faces);
  return faces.map((_, i) => ({
    marks: { corner: corner[i].landmarks, centred: centred[i].landmarks, refined: refined[i].landmarks, mesh: meshTo68(mesh[i].points) },
    meshScore: mesh[i].score,
  }));
}

async function runPass(pass: string, items: Item[]): Promise<Pass> {
  const dets: Det[][] = [];
  let ms = 0;
  const detect = async (image: RawImage): Promise<{ box: Box; score: number; landmarks?: Point[] }[]> => {
    if (pass === 'auto') return detectFaces(image, { detector: 'dlib+tiny' });
    if (pass === 'auto-L1') return detectFaces(image, { detector: 'dlib+tiny', landmarkUpsample: 1 });
    if (pass === 'auto-tiny2') return detectFaces(image, { detector: 'dlib+tiny', secondLook: 'tiny' });
    if (pass === 'auto-ssd') return detectFaces(image, { detector: 'dlib+tiny', secondLook: 'always' });
    if (pass === 'auto-h32s') return detectFaces(image, { detector: 'dlib+tiny', hogReread: false });
    if (pass === 'auto-mirror') return detectFaces(image, { detector: 'dlib+tiny', hogReread: 'mirror' });
    if (pass === 'auto-h32b') return detectFaces(image, { detector: 'dlib+tiny', secondLook: false });
    if (pass === 'auto-up1') return detectFaces(image, { detector: 'dlib+tiny', upsample: 1 });
    if (pass.startsWith('dlib')) return dlibDetectAsync(image, Number(pass.slice(4)), -1);
    if (pass.startsWith('tiny'))
      return detectFaces(image, { detector: 'tiny', inputSize: Number(pass.slice(4)), minConfidence: { tiny: 0.2, mesh: 0 } });
    return detectFaces(image, { detector: 'ssd', minConfidence: { ssd: 0.2, mesh: 0 } });
  };
  if (items.length) await detect(items[0].image); // warm-up: sessions, model loads
  const ssd: boolean[] = [];
  for (const it of items) {
    const t = performance.now(),
      before = cascadeStats.ssd;
    const found = await detect(it.image);
    ms += performance.now() - t;
    ssd.push(cascadeStats.ssd > before);
    const shipped = pass.startsWith('auto'); // fer's own pipeline: its faces and landmarks as they are
    const variants = shipped ? found.map(() => ({ marks: {}, meshScore: 1 })) : await netMarks(it.image, found);
    dets.push(
      found.map((f, i) => ({
        box: f.box,
        score: f.score,
        meshScore: variants[i].meshScore,
        marks: { ...variants[i].marks, ...(pass.startsWith('dlib') ? { dlib: f.landmarks! } : shipped ? { shipped: f.landmarks! } : {}) },
      })),
    );
  }
  return { dets, ms: ms / Math.max(1, items.length), ssd };
}

function nme(truth: Point[], found: Point[]): number {
  const d = Math.hypot(truth[36].x - truth[45].x, truth[36].y - truth[45].y);
  return truth.reduce((a, p, i) => a + Math.hypot(p.x - found[i].x, p.y - found[i].y), 0) / 68 / d;
}

interface Score {
  hits: number;
  truths: number;
  fp: number;
  nme: Record<string, number>;
}

function score(set: DataSet, dets: Det[][]): Score {
  let hits = 0,
    truths = 0,
    fp = 0;
  const sums: Record<string, [number, number]> = {};
  set.items.forEach((it, k) => {
    const used = new Set<number>();
    truths += it.truth.length;
    for (const t of it.truth) {
      let best = -1,
        bestIou = 0.3;
      dets[k].forEach((f, j) => {
        const v = iou(f.box, t.box);
        if (!used.has(j) && v >= bestIou) [best, bestIou] = [j, v];
      });
      if (best < 0) {
        if (process.env.FER_BENCH_MISSES) console.error(`miss ${set.name} ${it.name} ${Math.round(t.box.width)}px`);
        continue;
      }
      used.add(best);
      hits++;
      if (t.landmarks)
        for (const [variant, pts] of Object.entries(dets[k][best].marks)) {
          const s = (sums[variant] ??= [0, 0]);
          s[0] += nme(t.landmarks, pts);
          s[1]++;
        }
    }
    if (set.complete) fp += dets[k].length - used.size;
  });
  return { hits, truths, fp, nme: Object.fromEntries(Object.entries(sums).map(([k, [s, n]]) => [k, s / n])) };
}

/** A row: detections of one pass above a threshold, or dlib's plus the tiny detector's that dlib did not find. */
interface Config {
  name: string;
  pick: (passes: Map<string, Pass>, image: number) => Det[] | null;
  passes: string[];
}

const above = (pass: string, t: number, meshMin = 0): Config => ({
  name: `${pass} ≥ ${t}${meshMin ? `, mesh score ≥ ${meshMin}` : ''}`,
  passes: [pass],
  pick: (p, k) => p.get(pass)?.dets[k].filter((d) => d.score >= t && d.meshScore >= meshMin) ?? null,
});
const union = (a: string, ta: number, b: string, tb: number, meshMin = 0): Config => ({
  name: `${a} ≥ ${ta} ∪ ${b} ≥ ${tb}${meshMin ? `, mesh score ≥ ${meshMin}` : ''}`,
  passes: [a, b],
  pick: (p, k) => {
    const first = p.get(a)?.dets[k].filter((d) => d.score >= ta),
      second = p.get(b)?.dets[k].filter((d) => d.score >= tb && d.meshScore >= meshMin);
    if (!first || !second) return null;
    return [...first, ...second.filter((m) => first.every((f) => iou(f.box, m.box) < 0.3))];
  },
});

await useBackend('native');
const limit = Number(values.limit);
const sets: DataSet[] = [
  { name: 'faces-real', items: await annotated(values.real!, 0), complete: true },
  { name: 'faces-landmarks', items: await annotated(values.landmarks!, limit), complete: false },
  { name: 'face-free', items: await faceFree(values['face-free']!), complete: true },
  { name: 'scenes', items: await composedScenes(values.faces!, Number(values.scenes), Number(values.seed)), complete: true },
].filter((s) => s.items.length);
const setParts = (set: DataSet): { label: string; items: number[] }[] => {
  const all = { label: set.name, items: set.items.map((_, k) => k) };
  if (!values.halves || set.name !== 'faces-landmarks') return [all];
  return [
    all,
    ...[0, 1].map((h) => ({ label: `${set.name} half ${'AB'[h]}`, items: all.items.filter((k) => halfOf(set.items[k].name) === h) })),
  ];
};

const passNames = values.passes!.split(',');
const results = new Map<string, Map<string, Pass>>(); // set → pass → detections
for (const set of sets) {
  const m = new Map<string, Pass>();
  for (const p of passNames) {
    m.set(p, await runPass(p, set.items));
    console.error(`${set.name}: ${p} done (${m.get(p)!.ms.toFixed(1)} ms/image)`);
    if (p.startsWith('auto'))
      for (const part of setParts(set)) {
        const ran = part.items.filter((k) => m.get(p)!.ssd[k]).length;
        console.error(`  ${part.label}: ${p} ran SSD on ${ran} of ${part.items.length} photos`);
      }
  }
  results.set(set.name, m);
}

const configs: Config[] = [];
for (const p of passNames.filter((q) => q.startsWith('auto'))) configs.push({ ...above(p, -Infinity), name: `${p} (as shipped)` });
for (const p of passNames.filter((q) => !q.startsWith('auto'))) {
  const ts = p.startsWith('dlib') ? [-0.5, -0.25, 0, 0.25, 0.5] : [0.3, 0.4, 0.5, 0.6, 0.7];
  for (const t of ts) configs.push(above(p, t));
  if (!p.startsWith('dlib')) for (const t of [0.3, 0.4, 0.5]) for (const m of [0.5, 0.9]) configs.push(above(p, t, m));
}
for (const d of passNames.filter((p) => p.startsWith('dlib')))
  for (const t of passNames.filter((p) => p.startsWith('tiny'))) {
    for (const tt of [0.5, 0.6, 0.7]) configs.push(union(d, 0, t, tt));
    // what dlib+tiny ships: tiny's added faces behind the face mesh's score (MIN_CONFIDENCE.mesh)
    for (const tt of [0.3, 0.4, 0.5, 0.6]) configs.push(union(d, 0, t, tt, 0.5));
  }

const rows: Record<string, unknown>[] = [];
console.log(
  '| detector | set | recall (IoU ≥ 0.3) | false positives | NME dlib | NME net corner | NME net centred | NME net refined | NME mesh | NME as shipped | ms / image |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(2)}%`);
for (const c of configs) {
  for (const set of sets)
    for (const part of setParts(set)) {
      const passes = results.get(set.name)!;
      const sub = { ...set, items: part.items.map((k) => set.items[k]) };
      const dets = part.items.map((k) => c.pick(passes, k));
      if (dets.some((d) => d === null)) continue;
      const r = score(sub, dets as Det[][]);
      const ms = c.passes.reduce((a, p) => a + passes.get(p)!.ms, 0);
      rows.push({ detector: c.name, set: part.label, ...r, ms });
      console.log(
        `| ${c.name} | ${part.label} | ${((100 * r.hits) / Math.max(1, r.truths)).toFixed(1)}% (${r.hits}/${r.truths}) | ${set.complete ? r.fp : '-'} | ${pct(r.nme.dlib)} | ${pct(r.nme.corner)} | ${pct(r.nme.centred)} | ${pct(r.nme.refined)} | ${pct(r.nme.mesh)} | ${pct(r.nme.shipped)} | ${ms.toFixed(1)} |`,
      );
    }
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 1));
