/**
 * The pure geometry of face detection, shared by Node (detect/faces.ts) and the browser entry (web/): the
 * tiny detector's and SSD's output decoding and non-maximum suppression, box clipping, IoU, eye geometry and the
 * 48×48 alignment crop. No Node built-ins, no tfjs, no onnxruntime.
 */
import type { Box, DetectedFace, Point } from './types.js';
import { IMAGE_SIZE } from '../data/classes.js';

/** The pixels a detector and the aligner read: interleaved 8-bit channels (1 = gray, 3 = RGB, 4 = RGBA). */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

export interface Found {
  box: Box;
  score: number;
}

/** face-api's IoU threshold for the tiny detector's non-maximum suppression. */
export const TINY_IOU = 0.4;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * The tiny detector's raw output ([anchors × 5, cells, cells], channel-major) → boxes in input pixels
 * (`size` square), decoded as face-api decodes it (YOLOv2 anchors), then greedy NMS at TINY_IOU.
 */
export function decodeTiny(out: ArrayLike<number>, anchors: readonly Point[], size: number, threshold: number): Found[] {
  const cells = Math.round(Math.sqrt(out.length / (anchors.length * 5)));
  const at = (a: number, k: number, row: number, col: number) => out[((a * 5 + k) * cells + row) * cells + col];
  const found: Found[] = [];
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      for (let a = 0; a < anchors.length; a++) {
        const score = sigmoid(at(a, 4, row, col));
        if (score <= threshold) continue;
        const w = (Math.exp(at(a, 2, row, col)) * anchors[a].x) / cells,
          h = (Math.exp(at(a, 3, row, col)) * anchors[a].y) / cells;
        const cx = (col + sigmoid(at(a, 0, row, col))) / cells,
          cy = (row + sigmoid(at(a, 1, row, col))) / cells;
        found.push({ box: { x: (cx - w / 2) * size, y: (cy - h / 2) * size, width: w * size, height: h * size }, score });
      }
    }
  }
  found.sort((p, q) => q.score - p.score);
  const kept: Found[] = [];
  for (const f of found) if (kept.every((k) => iou(k.box, f.box) <= TINY_IOU)) kept.push(f);
  return kept;
}

/** face-api's IoU threshold for SSD's non-maximum suppression, and the most faces it keeps (SsdMobilenetv1Options). */
export const SSD_IOU = 0.5;
export const SSD_MAX_RESULTS = 100;

/**
 * SSD's raw output (per anchor: box encoding ty, tx, th, tw, then class logits) decoded as face-api's
 * outputLayer decodes it: against the anchors ((ymin, xmin, ymax, xmax) each, relative), centres offset by
 * encoding / 10 of the anchor's size and sizes scaled by exp(encoding / 5); the face score is the sigmoid
 * of logit 1. Boxes (ymin, xmin, ymax, xmax) relative to the input, as float32 like face-api's.
 */
export function decodeSsdBoxes(raw: ArrayLike<number>, anchors: ArrayLike<number>): { boxes: Float32Array; scores: Float32Array } {
  const n = anchors.length / 4,
    stride = raw.length / n;
  const boxes = new Float32Array(n * 4),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [ay0, ax0, ay1, ax1] = [0, 1, 2, 3].map((k) => anchors[i * 4 + k]);
    const r = i * stride;
    const ah = ay1 - ay0,
      aw = ax1 - ax0;
    const cy = (raw[r] / 10) * ah + (ay0 + ah / 2),
      cx = (raw[r + 1] / 10) * aw + (ax0 + aw / 2);
    const hh = (Math.exp(raw[r + 2] / 5) * ah) / 2,
      hw = (Math.exp(raw[r + 3] / 5) * aw) / 2;
    boxes.set([cy - hh, cx - hw, cy + hh, cx + hw], i * 4);
    scores[i] = sigmoid(raw[r + 5]);
  }
  return { boxes, scores };
}

/** face-api's IoU of two (ymin, xmin, ymax, xmax) boxes: 0 when either is empty. */
function cornerIou(b: Float32Array, i: number, j: number): number {
  const [y0, x0, y1, x1] = [0, 1, 2, 3].map((k) => b[i * 4 + k]);
  const [v0, u0, v1, u1] = [0, 1, 2, 3].map((k) => b[j * 4 + k]);
  const a = (y1 - y0) * (x1 - x0),
    c = (v1 - v0) * (u1 - u0);
  if (a <= 0 || c <= 0) return 0;
  const inter = Math.max(Math.min(y1, v1) - Math.max(y0, v0), 0) * Math.max(Math.min(x1, u1) - Math.max(x0, u0), 0);
  return inter / (a + c - inter);
}

/**
 * SSD's raw output → faces in input pixels (`size` square): decodeSsdBoxes, then face-api's NMS (scores above
 * `threshold`, best first; a box is kept unless its IoU with a kept one exceeds SSD_IOU; at most `maxResults`),
 * each box cut to the input.
 */
export function decodeSsd(
  raw: ArrayLike<number>,
  anchors: ArrayLike<number>,
  size: number,
  threshold: number,
  maxResults = SSD_MAX_RESULTS,
): Found[] {
  const { boxes, scores } = decodeSsdBoxes(raw, anchors);
  const order: number[] = [];
  scores.forEach((s, i) => {
    if (s > threshold) order.push(i);
  });
  order.sort((a, b) => scores[b] - scores[a]);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxResults) break;
    if (kept.every((j) => cornerIou(boxes, i, j) <= SSD_IOU)) kept.push(i);
  }
  return kept
    .map((i) => {
      const top = Math.max(0, boxes[i * 4]),
        left = Math.max(0, boxes[i * 4 + 1]),
        bottom = Math.min(1, boxes[i * 4 + 2]),
        right = Math.min(1, boxes[i * 4 + 3]);
      return { box: { x: left * size, y: top * size, width: (right - left) * size, height: (bottom - top) * size }, score: scores[i] };
    })
    .filter((f) => f.box.width > 0 && f.box.height > 0);
}

/**
 * Detector boxes found in a square view `scale` times smaller than the image (letterboxed from its top-left
 * corner) → image pixels, cut to the image; boxes (almost) outside the frame are dropped.
 */
export function toImageBoxes(found: Found[], scale: number, image: { width: number; height: number }): Found[] {
  return found
    .map((f) => ({
      ...f,
      box: clip({ x: f.box.x * scale, y: f.box.y * scale, width: f.box.width * scale, height: f.box.height * scale }, image),
    }))
    .filter((f) => f.box.width >= 8 && f.box.height >= 8);
}

/** A square region of an image: top-left corner and side, in image pixels. */
export interface Square {
  x: number;
  y: number;
  side: number;
}

/**
 * The square the landmark net sees of a box: as wide as its longer edge and centred on it, as face-api centres
 * a box in its padded square. (Placing it at the box's top-left corner shifts every point of a tall box, such as
 * SSD's, down and right: 18% of the eye distance against 7.8% centred, BENCHMARKS.md.)
 */
export function landmarkSquare(b: Box): Square {
  return centredSquare(b, 1);
}

/** The square `scale` times a box's longer edge, centred on the box. */
function centredSquare(b: Box, scale: number): Square {
  const side = scale * Math.max(b.width, b.height);
  return { x: b.x + (b.width - side) / 2, y: b.y + (b.height - side) / 2, side };
}

/**
 * How face-api's tiny detector frames a face: its square is 1.4 times the larger edge of the box of the 68
 * landmarks its net then finds there, centred on it (medians 1.40 and 1.37, centre offsets under 2% of the side, over
 * 29 and 902 faces that it found in two sets of photos; bench/refine-stats.ts reads no annotation).
 */
export const NET_FRAMING = 1.4;

/**
 * The square for a second look of the landmark net: framed from its first landmarks as the tiny detector frames
 * a face (NET_FRAMING). A detector's box varies with the detector, pose and light, the landmarks' box much less,
 * so the second look sees every face framed alike, whichever detector found it.
 */
export function refineSquare(landmarks: Point[]): Square {
  return centredSquare(pointsBox(landmarks), NET_FRAMING);
}

/**
 * The landmark net's two looks at each face, in Node and the browser alike: on the square centred on its box
 * (landmarkSquare), then on the square framed from those first points (refineSquare). `look` runs the net on one
 * square per face of `found` and returns the faces with their landmarks.
 */
export async function twoLooks(found: Found[], look: (squares: Square[]) => Promise<DetectedFace[]>): Promise<DetectedFace[]> {
  const first = await look(found.map((f) => landmarkSquare(f.box)));
  return look(first.map((f) => refineSquare(f.landmarks)));
}

/** The smallest box holding every point. */
export function pointsBox(points: Point[]): Box {
  const xs = points.map((p) => p.x),
    ys = points.map((p) => p.y);
  const x = Math.min(...xs),
    y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/**
 * Faces from their boxes and the landmark net's output: 68 (x, y) per face, relative to the side of the square
 * it saw (`squares[i]`, landmarkSquare of the box unless given).
 */
export function withLandmarks(
  found: Found[],
  rel: ArrayLike<number>,
  squares: Square[] = found.map((f) => landmarkSquare(f.box)),
): DetectedFace[] {
  return found.map(({ box, score }, i) => {
    const { x, y, side } = squares[i];
    return {
      box,
      score,
      landmarks: Array.from({ length: 68 }, (_, k) => ({
        x: x + rel[i * 136 + 2 * k] * side,
        y: y + rel[i * 136 + 2 * k + 1] * side,
      })),
    };
  });
}

/** A box cut to the image. */
export function clip(b: Box, image: { width: number; height: number }): Box {
  const x = Math.max(0, b.x),
    y = Math.max(0, b.y);
  return { x, y, width: Math.min(image.width, b.x + b.width) - x, height: Math.min(image.height, b.y + b.height) - y };
}

const mean = (pts: Point[]): Point => ({
  x: pts.reduce((a, p) => a + p.x, 0) / pts.length,
  y: pts.reduce((a, p) => a + p.y, 0) / pts.length,
});

/** Eye-line angle (radians) and eye centers from 68 landmarks. */
export function eyeGeometry(landmarks: Point[]): { left: Point; right: Point; angle: number } {
  const left = mean(landmarks.slice(36, 42)),
    right = mean(landmarks.slice(42, 48));
  return { left, right, angle: Math.atan2(right.y - left.y, right.x - left.x) };
}

/**
 * 48×48 grayscale crop of a face, rotated so the eyes are level. The square side is the landmarks'
 * extent in the rotated frame times (1 + margin), centered on their bounding box (FER2013-like framing).
 */
export function alignFace(image: Pixels, face: DetectedFace, size = IMAGE_SIZE, margin = 0.25): Uint8Array {
  const { angle } = eyeGeometry(face.landmarks);
  const cos = Math.cos(angle),
    sin = Math.sin(angle);
  // Landmarks in the de-rotated frame (rotate by -angle about the origin).
  const rot = face.landmarks.map((p) => ({ x: p.x * cos + p.y * sin, y: -p.x * sin + p.y * cos }));
  const b = pointsBox(rot);
  const side = Math.max(b.width, b.height) * (1 + margin);
  const cx = b.x + b.width / 2,
    cy = b.y + b.height / 2 - 0.05 * side; // a little forehead, as FER2013 crops have
  const out = new Uint8Array(size * size);
  const ch = image.channels;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      // Output pixel → rotated frame → image (rotate by +angle).
      const rx = cx + ((u + 0.5) / size - 0.5) * side,
        ry = cy + ((v + 0.5) / size - 0.5) * side;
      let sx = rx * cos - ry * sin - 0.5,
        sy = rx * sin + ry * cos - 0.5;
      sx = Math.min(Math.max(sx, 0), image.width - 1);
      sy = Math.min(Math.max(sy, 0), image.height - 1);
      const xa = Math.floor(sx),
        ya = Math.floor(sy),
        xb = Math.min(xa + 1, image.width - 1),
        yb = Math.min(ya + 1, image.height - 1);
      const fx = sx - xa,
        fy = sy - ya;
      const g = (x: number, y: number) => {
        const i = (y * image.width + x) * ch;
        return ch === 1 ? image.data[i] : 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
      };
      const val = (g(xa, ya) * (1 - fx) + g(xb, ya) * fx) * (1 - fy) + (g(xa, yb) * (1 - fx) + g(xb, yb) * fx) * fy;
      out[v * size + u] = Math.round(val);
    }
  }
  return out;
}

/** Every face's alignFace crop, one after another (n × size × size). */
export function alignFaces(image: Pixels, faces: DetectedFace[], size = IMAGE_SIZE): Uint8Array {
  const out = new Uint8Array(faces.length * size * size);
  faces.forEach((f, i) => out.set(alignFace(image, f, size), i * size * size));
  return out;
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x),
    y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width),
    y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.width * a.height + b.width * b.height - inter);
}
