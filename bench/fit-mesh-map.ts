/**
 * Fits the map from the face mesh's 468 points to 300-W's 68 (src/detect/mesh-map.ts) on human-annotated faces,
 * and reports its error on faces it was not fitted on.
 *
 *   npx tsx bench/fit-mesh-map.ts [--landmarks ../shared/data/faces-landmarks] [--detector ssd] [--k 32]
 *     [--ridge 1e-5] [--cache FILE] [--write]
 *
 * Each annotated face that the detector finds (IoU ≥ 0.3) gets the mesh's points as `fer` finds them
 * (meshPoints: face-api's net once, then the mesh twice). Each of the 68 points is then a weighted sum of the
 * K mesh points nearest to it on average (in the frame where the mesh's outer eye corners are (0, 0) and
 * (1, 0)), with weights w + yaw · v (meshYaw), Σw = 1 and Σv = 0 so that the map moves, turns and scales with
 * the face; w and v minimise the squared point error over the eye distance, plus ridge · faces · |w, v|².
 * Cross-validation: the photos split in two halves (a photo's faces stay together); each half is scored with
 * the map fitted on the other; NME per region. `--write` then fits on every face and writes mesh-map.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { detectFaces, iou, meshPoints, type Point } from '../src/detect/faces.js';
import { meshTo68, meshYaw, MESH_EYE_CORNERS, type MapRow, type MeshPoint } from '../src/detect/mesh.js';
import { MESH_MAP } from '../src/detect/mesh-map.js';
import { PUBLISHED_MAP } from './mesh-maps.js';

const { values } = parseArgs({
  options: {
    landmarks: { type: 'string', default: '../shared/data/faces-landmarks' },
    detector: { type: 'string', default: 'ssd' },
    k: { type: 'string', default: '32' },
    ridge: { type: 'string', default: '1e-5' },
    cache: { type: 'string', default: '' },
    write: { type: 'boolean', default: false },
  },
});

interface Sample {
  file: string;
  truth: Point[];
  mesh: MeshPoint[];
}

async function collect(): Promise<Sample[]> {
  if (values.cache && existsSync(values.cache)) return JSON.parse(readFileSync(values.cache, 'utf8')) as Sample[];
  const dir = values.landmarks!;
  const ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8')) as {
    file: string;
    faces: { box: number[]; landmarks: number[][] }[];
  }[];
  const out: Sample[] = [];
  for (const [n, a] of ann.entries()) {
    const image = await decodeRgb(path.join(dir, a.file));
    const found = await detectFaces(image, { detector: values.detector as 'ssd', landmarks: 'net' });
    for (const t of a.faces) {
      const tb = { x: t.box[0], y: t.box[1], width: t.box[2], height: t.box[3] };
      const best = found.filter((f) => iou(f.box, tb) >= 0.3).sort((p, q) => iou(q.box, tb) - iou(p.box, tb))[0];
      if (!best) continue;
      const [mesh] = await meshPoints(image, [best]);
      out.push({ file: a.file, truth: t.landmarks.map(([x, y]) => ({ x, y })), mesh: mesh.points });
    }
    if ((n + 1) % 50 === 0) console.error(`${n + 1}/${ann.length} photos`);
  }
  if (values.cache) writeFileSync(values.cache, JSON.stringify(out));
  return out;
}

const eyeDistance = (t: Point[]) => Math.hypot(t[36].x - t[45].x, t[36].y - t[45].y);

/** Points in the frame where the mesh's outer eye corners are (0, 0) and (1, 0). */
function eyeFrame(m: MeshPoint[], pts: Point[]): Point[] {
  const a = m[MESH_EYE_CORNERS[0]],
    b = m[MESH_EYE_CORNERS[1]];
  const dx = b.x - a.x,
    dy = b.y - a.y,
    s2 = dx * dx + dy * dy;
  return pts.map((p) => ({ x: ((p.x - a.x) * dx + (p.y - a.y) * dy) / s2, y: (-(p.x - a.x) * dy + (p.y - a.y) * dx) / s2 }));
}

/** Solves A x = b (A n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A),
    x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [M[c * n + k], M[p * n + k]] = [M[p * n + k], M[c * n + k]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      if (!f) continue;
      for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= M[r * n + k] * x[k];
    x[r] = s / M[r * n + r];
  }
  return x;
}

/** The map fitted on `samples` (see the header). */
export function fitMap(samples: Sample[], K: number, ridge: number): MapRow[] {
  const meanOf = (pick: (s: Sample) => Point[], count: number) => {
    const acc = Array.from({ length: count }, () => ({ x: 0, y: 0 }));
    for (const s of samples)
      eyeFrame(s.mesh, pick(s)).forEach((p, i) => {
        acc[i].x += p.x / samples.length;
        acc[i].y += p.y / samples.length;
      });
    return acc;
  };
  const meshMean = meanOf((s) => s.mesh, 468),
    truthMean = meanOf((s) => s.truth, 68);
  const yaws = samples.map((s) => meshYaw(s.mesh));
  return truthMean.map((tm, j) => {
    const idx = meshMean
      .map((p, i) => [Math.hypot(p.x - tm.x, p.y - tm.y), i])
      .sort((p, q) => p[0] - q[0])
      .slice(0, K)
      .map(([, i]) => i);
    // unknowns: w (K), v (K); normal equations with the two sum constraints (Lagrange multipliers)
    const n = 2 * K,
      N = n + 2;
    const G = new Float64Array(N * N),
      rhs = new Float64Array(N);
    samples.forEach((s, f) => {
      const d = eyeDistance(s.truth);
      for (const c of ['x', 'y'] as const) {
        const row = new Float64Array(n);
        idx.forEach((k, i) => {
          row[i] = s.mesh[k][c] / d;
          row[K + i] = (yaws[f] * s.mesh[k][c]) / d;
        });
        const target = s.truth[j][c] / d;
        for (let p = 0; p < n; p++) {
          if (!row[p]) continue;
          rhs[p] += row[p] * target;
          for (let q = 0; q < n; q++) G[p * N + q] += row[p] * row[q];
        }
      }
    });
    for (let p = 0; p < n; p++) {
      G[p * N + p] += ridge * samples.length;
      G[p * N + (p < K ? n : n + 1)] = 1;
      G[(p < K ? n : n + 1) * N + p] = 1;
    }
    rhs[n] = 1;
    rhs[n + 1] = 0;
    const x = solve(G, rhs, N);
    return { idx, w: Array.from(x.subarray(0, K)), wYaw: Array.from(x.subarray(K, n)) };
  });
}

const REGIONS: [string, number, number][] = [
  ['jaw', 0, 17],
  ['brows', 17, 27],
  ['nose', 27, 36],
  ['eyes', 36, 48],
  ['mouth', 48, 68],
];

/** Mean NME (all 68 points) and per region over the samples, each with its own map (or one). */
function score(samples: Sample[], mapOf: (s: Sample) => MapRow[]): Record<string, number> {
  const sums: Record<string, number> = { all: 0, ...Object.fromEntries(REGIONS.map(([r]) => [r, 0])) };
  for (const s of samples) {
    const d = eyeDistance(s.truth);
    const p = meshTo68(s.mesh, mapOf(s));
    const e = s.truth.map((t, i) => Math.hypot(t.x - p[i].x, t.y - p[i].y) / d);
    sums.all += e.reduce((a, b) => a + b, 0) / 68 / samples.length;
    for (const [r, a, b] of REGIONS) sums[r] += e.slice(a, b).reduce((x, y) => x + y, 0) / (b - a) / samples.length;
  }
  return sums;
}

await useBackend('native');
const samples = await collect();
const K = Number(values.k),
  ridge = Number(values.ridge);
const photo = (s: Sample) => path.basename(s.file).replace(/_\d+\.\w+$/, '');
const photos = [...new Set(samples.map(photo))].sort();
const half = new Map(photos.map((p, i) => [p, i % 2]));
const maps = [0, 1].map((h) =>
  fitMap(
    samples.filter((s) => half.get(photo(s)) !== h),
    K,
    ridge,
  ),
);
const inHalf = (h: number) => samples.filter((s) => half.get(photo(s)) === h);
const rows: [string, Record<string, number>][] = [
  ['published correspondence (PeizhiYan/Mediapipe_2_Dlib_Landmarks)', score(samples, () => PUBLISHED_MAP)],
  [`fitted, K = ${K}, ridge ${ridge}: each half scored with the other half's map`, score(samples, (s) => maps[half.get(photo(s))!])],
  [`… half A (even photos, where choices are made) scored with B's map`, score(inHalf(0), () => maps[0])],
  [`… half B (odd photos, held out) scored with A's map`, score(inHalf(1), () => maps[1])],
  ['the map now in src/detect/mesh-map.ts (fitted on all: not held out)', score(samples, () => MESH_MAP)],
];
console.log(`${samples.length} faces found by ${values.detector} in ${photos.length} photos`);
console.log(`| map | NME | ${REGIONS.map(([r, a, b]) => `${r} (${a}–${b - 1})`).join(' | ')} |`);
console.log(`|---|---|${REGIONS.map(() => '---|').join('')}`);
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
for (const [name, r] of rows) console.log(`| ${name} | ${pct(r.all)} | ${REGIONS.map(([k]) => pct(r[k])).join(' | ')} |`);

if (values.write) {
  const map = fitMap(samples, K, ridge);
  const num = (v: number) => Number(v.toPrecision(6));
  const body = map.map((r) => `  { idx: [${r.idx.join(', ')}], w: [${r.w.map(num).join(', ')}], wYaw: [${r.wYaw.map(num).join(', ')}] },`);
  const file = 'src/detect/mesh-map.ts';
  const header = readFileSync(file, 'utf8').split('// prettier-ignore')[0];
  writeFileSync(file, `${header}// prettier-ignore\nexport const MESH_MAP: MapRow[] = [\n${body.join('\n')}\n];\n`);
  console.log(`wrote ${file} (K = ${K}, ridge ${ridge}, ${samples.length} faces)`);
}
