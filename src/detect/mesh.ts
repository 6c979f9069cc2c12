/**
 * The geometry around MediaPipe's face mesh (detect/onnx-mesh.ts), shared by Node (detect/faces.ts) and the
 * browser: the rotated square the mesh looks at, its 192×192 crop, its 468 points back in the image, and the
 * 68 points of 300-W made from them (a fitted linear map, detect/mesh-map.ts). No Node built-ins, no runtime.
 */
import type { Pixels } from './geometry.js';
import type { Point } from './types.js';
import { MESH_MAP, type MapRow } from './mesh-map.js';

export type { MapRow } from './mesh-map.js';

/** The mesh's input side (pixels). */
export const MESH_SIZE = 192;

/** A square of the image turned by `angle` (radians, the image's x axis towards its y axis) about its centre. */
export interface Roi {
  cx: number;
  cy: number;
  side: number;
  angle: number;
}

/** The mesh's 28 vertices on the face's midline (forehead to chin, through the nose and lips). */
export const MESH_MIDLINE = [
  0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 94, 151, 152, 164, 168, 175, 195, 197, 199, 200,
] as const;

/**
 * The mesh's left-right correspondence: MESH_MIRROR[i] is the vertex on the other side of the face from vertex i
 * (i itself on the midline). The mesh numbers its 220 vertices of one side below 248 and their counterparts from
 * 248 on, in the same order. Checked against the mesh's own output, no annotation read: on the 412 faces SSD
 * finds in the 185 AFW photos, each vertex of its look at the mirrored crop (turned back) falls on average nearest
 * to this counterpart in its look at the crop as it is, for all 468 (`npx tsx bench/mesh-mirror.ts`).
 */
export const MESH_MIRROR: readonly number[] = (() => {
  const mid = new Set<number>(MESH_MIDLINE);
  const sides = Array.from({ length: 468 }, (_, i) => i).filter((i) => !mid.has(i));
  const m = Array.from({ length: 468 }, (_, i) => i);
  const half = sides.length / 2;
  for (let k = 0; k < half; k++) [m[sides[k]], m[sides[half + k]]] = [sides[half + k], sides[k]];
  return m;
})();

/** The mesh's outer eye corners (the subject's right, then left: image left, then right on a frontal face). */
export const MESH_EYE_CORNERS = [33, 263] as const;

/**
 * How the mesh is framed from 68 points (face-api's net): 1.8 times the longer edge of their box in the frame
 * turned to level the outer eye corners (36, 45). From its own 468 points (which reach the forehead): 1.4 times.
 * MediaPipe tracks a face at 1.5; on 300-W's faces (AFW, tuned on half of its photos, the other half held out;
 * BENCHMARKS.md "Face mesh: a tighter, mirrored second look") the error is flat from 1.3 to 1.45 and rises past
 * 1.5, and 1.4 is that flat range's middle: 0.1 points lower than 1.5 on the held-out half.
 */
export const MESH_FRAMING_68 = 1.8;
export const MESH_FRAMING_468 = 1.4;

/** The square `scale` times the longer edge of the points' box in the frame where a → b is level, on that box's centre. */
export function roiFrom(points: Point[], a: Point, b: Point, scale: number): Roi {
  const angle = Math.atan2(b.y - a.y, b.x - a.x);
  const cos = Math.cos(angle),
    sin = Math.sin(angle);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const p of points) {
    const u = p.x * cos + p.y * sin,
      v = -p.x * sin + p.y * cos;
    x0 = Math.min(x0, u);
    x1 = Math.max(x1, u);
    y0 = Math.min(y0, v);
    y1 = Math.max(y1, v);
  }
  const u = (x0 + x1) / 2,
    v = (y0 + y1) / 2;
  return { cx: u * cos - v * sin, cy: u * sin + v * cos, side: scale * Math.max(x1 - x0, y1 - y0), angle };
}

/** The mesh's square framed from 68 points (iBUG order). */
export const roiFrom68 = (p: Point[]): Roi => roiFrom(p, p[36], p[45], MESH_FRAMING_68);
/** The mesh's square framed from its own 468 points. */
export const roiFrom468 = (p: Point[]): Roi => roiFrom(p, p[MESH_EYE_CORNERS[0]], p[MESH_EYE_CORNERS[1]], MESH_FRAMING_468);

/**
 * The ROI as a size×size RGB crop (0–255 floats, NHWC) written into `out` at `offset`: bilinear samples, 2–4 per
 * pixel and axis when the square is more than 1.5× larger than the crop (area-like shrinking); black outside.
 */
export function cropRoi(image: Pixels, roi: Roi, size: number, out: Float32Array, offset = 0): void {
  const cos = Math.cos(roi.angle),
    sin = Math.sin(roi.angle);
  const step = roi.side / size;
  const ss = step > 1.5 ? Math.min(4, Math.ceil(step)) : 1;
  const { width: w, height: h, channels: ch, data } = image;
  // a sample's place in the image: x = cx + lx cos − ly sin − 0.5, y = cy + lx sin + ly cos − 0.5, with lx from the
  // column (u, a) and ly from the row (v, b); the terms of each are computed once per column and row
  const m = size * ss;
  const colX = new Float64Array(m),
    colY = new Float64Array(m),
    rowX = new Float64Array(m),
    rowY = new Float64Array(m);
  for (let u = 0; u < size; u++)
    for (let a = 0; a < ss; a++) {
      const l = (u + (a + 0.5) / ss) * step - roi.side / 2;
      colX[u * ss + a] = roi.cx + l * cos;
      colY[u * ss + a] = roi.cy + l * sin;
      rowX[u * ss + a] = l * sin;
      rowY[u * ss + a] = l * cos;
    }
  const gray = ch === 1,
    c1 = gray ? 0 : 1,
    c2 = gray ? 0 : 2;
  const n = ss * ss;
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++) {
      let r = 0,
        g = 0,
        bl = 0;
      for (let a = 0; a < ss; a++)
        for (let b = 0; b < ss; b++) {
          const x = colX[u * ss + a] - rowX[v * ss + b] - 0.5,
            y = colY[u * ss + a] + rowY[v * ss + b] - 0.5;
          if (x < 0 || y < 0 || x > w - 1 || y > h - 1) continue;
          const xa = Math.floor(x),
            ya = Math.floor(y),
            xb = Math.min(xa + 1, w - 1),
            yb = Math.min(ya + 1, h - 1);
          const fx = x - xa,
            fy = y - ya;
          const w00 = (1 - fx) * (1 - fy),
            w10 = fx * (1 - fy),
            w01 = (1 - fx) * fy,
            w11 = fx * fy;
          const i00 = (ya * w + xa) * ch,
            i10 = (ya * w + xb) * ch,
            i01 = (yb * w + xa) * ch,
            i11 = (yb * w + xb) * ch;
          r += data[i00] * w00 + data[i10] * w10 + data[i01] * w01 + data[i11] * w11;
          g += data[i00 + c1] * w00 + data[i10 + c1] * w10 + data[i01 + c1] * w01 + data[i11 + c1] * w11;
          bl += data[i00 + c2] * w00 + data[i10 + c2] * w10 + data[i01 + c2] * w01 + data[i11 + c2] * w11;
        }
      const o = offset + (v * size + u) * 3;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = bl / n;
    }
}

/** A mesh point in the image: x, y in pixels, z (depth, larger = farther) in the same unit. */
export interface MeshPoint extends Point {
  z: number;
}

/**
 * The mesh's output for one crop (468 × (x, y, z) in crop pixels, from `raw[offset]`) → points in the image.
 * `mirror`, for a mirrored crop (meshLookInput's): x is turned back, and vertex i is what the mesh gave as
 * vertex mirror[i], its left-right counterpart (MESH_MIRROR).
 */
export function meshToImage(raw: ArrayLike<number>, roi: Roi, offset = 0, mirror?: readonly number[]): MeshPoint[] {
  const cos = Math.cos(roi.angle),
    sin = Math.sin(roi.angle);
  const f = roi.side / MESH_SIZE;
  return Array.from({ length: 468 }, (_, i) => {
    const k = offset + 3 * (mirror ? mirror[i] : i);
    const lx = (mirror ? MESH_SIZE / 2 - raw[k] : raw[k] - MESH_SIZE / 2) * f,
      ly = (raw[k + 1] - MESH_SIZE / 2) * f;
    return { x: roi.cx + lx * cos - ly * sin, y: roi.cy + lx * sin + ly * cos, z: raw[k + 2] * f };
  });
}

/** What the mesh finds in one square: its 468 points in the image, and its score that a face is there (0–1). */
export interface MeshLook {
  points: MeshPoint[];
  score: number;
}

/** Values of the mesh's output per crop: 468 × (x, y, z), then the face score. */
export const MESH_STRIDE = 468 * 3 + 1;

/**
 * The mesh's input for one look at each square (Node and the browser alike): crops of MESH_SIZE (NHWC, 0–255),
 * one per square, or with `mirror` two (the square, then the same crop turned left to right: what the mirrored
 * image's mirrored square gives), for meshLookResults.
 */
export function meshLookInput(image: Pixels, rois: Roi[], mirror = false): Float32Array {
  const n = MESH_SIZE * MESH_SIZE * 3,
    per = mirror ? 2 : 1;
  const x = new Float32Array(rois.length * per * n);
  rois.forEach((r, i) => {
    cropRoi(image, r, MESH_SIZE, x, i * per * n);
    if (mirror) mirrorCrop(x, 2 * i * n, (2 * i + 1) * n);
  });
  return x;
}

/** The RGB crop (MESH_SIZE square, NHWC) at `from` in `x`, turned left to right, written at `to`. */
function mirrorCrop(x: Float32Array, from: number, to: number): void {
  for (let v = 0; v < MESH_SIZE; v++)
    for (let u = 0; u < MESH_SIZE; u++) {
      const a = from + (v * MESH_SIZE + u) * 3,
        b = to + (v * MESH_SIZE + MESH_SIZE - 1 - u) * 3;
      x[b] = x[a];
      x[b + 1] = x[a + 1];
      x[b + 2] = x[a + 2];
    }
}

/**
 * The mesh's output on meshLookInput's crops → one look per square: with `mirror`, the mean of the look at the
 * square and the look at its mirror image turned back (points and score), a test-time flip that cancels part of
 * the mesh's own left-right bias (BENCHMARKS.md "Face mesh: a tighter, mirrored second look").
 */
export function meshLookResults(raw: ArrayLike<number>, rois: Roi[], mirror = false): MeshLook[] {
  const per = mirror ? 2 : 1;
  return rois.map((r, i) => {
    const at = i * per * MESH_STRIDE;
    const points = meshToImage(raw, r, at),
      score = raw[at + MESH_STRIDE - 1];
    if (!mirror) return { points, score };
    const back = meshToImage(raw, r, at + MESH_STRIDE, MESH_MIRROR);
    return {
      points: points.map((p, k) => ({ x: (p.x + back[k].x) / 2, y: (p.y + back[k].y) / 2, z: (p.z + back[k].z) / 2 })),
      score: (score + raw[at + 2 * MESH_STRIDE - 1]) / 2,
    };
  });
}

/**
 * How far the face is turned, from the mesh alone: the depth of its right cheek (point 234) minus its left
 * (454), over the distance of its outer eye corners. 0 for a frontal face; about ±1 at 45°.
 */
export function meshYaw(m: MeshPoint[]): number {
  const [a, b] = MESH_EYE_CORNERS;
  const d = Math.hypot(m[a].x - m[b].x, m[a].y - m[b].y);
  return d > 0 ? (m[234].z - m[454].z) / d : 0;
}

/**
 * The 68 points of 300-W from the 468 of the mesh: each a weighted sum of nearby mesh points, the weights varying
 * linearly with the yaw (meshYaw), so a turned face's jaw follows its outline as 300-W annotates it. Weights sum
 * to 1 (yaw weights to 0), so the map moves, turns and scales with the face.
 */
export function meshTo68(m: MeshPoint[], map: MapRow[] = MESH_MAP): Point[] {
  const yaw = meshYaw(m);
  return map.map(({ idx, w, wYaw }) => {
    let x = 0,
      y = 0;
    idx.forEach((k, i) => {
      const c = w[i] + yaw * wYaw[i];
      x += c * m[k].x;
      y += c * m[k].y;
    });
    return { x, y };
  });
}
