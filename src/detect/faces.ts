/**
 * Faces with 68 landmarks (iBUG 300-W layout, as the paper's dlib detector) from @vladmandic/face-api,
 * whose SSD-MobileNetV1 detector and 68-point landmark net ship inside its npm package and run on our
 * tfjs backends. Alignment: rotate about the eye midpoint so the eye line is level, crop a square around
 * the landmarks with a margin, resize to 48×48 grayscale (what the classifier was trained on).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { cropSquare, type RawImage } from '../io/image.js';

type FaceApi = typeof import('@vladmandic/face-api');
const require = createRequire(import.meta.url);

let api: FaceApi | null = null;
let loaded: Promise<void> | null = null;

export const DETECTORS = ['ssd', 'tiny'] as const;
export type Detector = (typeof DETECTORS)[number];

async function faceApi(): Promise<FaceApi> {
  if (!api) api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  if (!loaded) {
    const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    const a = api;
    loaded = Promise.all([
      a.nets.ssdMobilenetv1.loadFromDisk(dir),
      a.nets.tinyFaceDetector.loadFromDisk(dir),
      a.nets.faceLandmark68Net.loadFromDisk(dir),
    ]).then(() => undefined);
  }
  await loaded;
  return api;
}

export interface Box { x: number; y: number; width: number; height: number }
export interface Point { x: number; y: number }

export interface DetectedFace {
  box: Box;
  score: number;
  /** 68 points, iBUG 300-W order (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, mouth 48–67). */
  landmarks: Point[];
}

export interface DetectOptions {
  detector?: Detector;
  minConfidence?: number;
  /** Tiny detector input size (multiple of 32). */
  inputSize?: number;
}

export interface DetectTimings {
  detectMs: number;
  landmarksMs: number;
}

/** SSD-MobileNetV1's input side in face-api. */
const SSD_INPUT = 512;
/** The 68-point landmark net's input side. */
const LANDMARK_INPUT = 112;

/**
 * Faces and their 68 landmarks; `timings` receives the time of each stage. The frame is letterboxed to the
 * detector's input size, and each face cropped square at the landmark net's, by sharp on 8-bit pixels:
 * face-api would pad, cast and resize whole frames as float tensors, most of a frame's time.
 */
export async function detectFaces(image: RawImage, o: DetectOptions = {}, timings?: DetectTimings): Promise<DetectedFace[]> {
  const fa = await faceApi();
  const tiny = o.detector === 'tiny';
  const options = tiny
    ? new fa.TinyFaceDetectorOptions({ inputSize: o.inputSize ?? 416, scoreThreshold: o.minConfidence ?? 0.5 })
    : new fa.SsdMobilenetv1Options({ minConfidence: o.minConfidence ?? 0.5 });
  const size = tiny ? o.inputSize ?? 416 : SSD_INPUT;
  const side = Math.max(image.width, image.height), scale = side / size; // detector pixel → image pixels
  let t = performance.now();
  const view = await cropSquare(image, 0, 0, side, size);
  const detections = await withTensor(view, async (x) => await fa.detectAllFaces(x as never, options));
  if (timings) timings.detectMs += performance.now() - t;
  t = performance.now();
  const faces: DetectedFace[] = [];
  for (const d of detections) {
    const box = { x: d.box.x * scale, y: d.box.y * scale, width: d.box.width * scale, height: d.box.height * scale };
    const s = Math.max(box.width, box.height);
    const crop = await cropSquare(image, box.x, box.y, s, LANDMARK_INPUT);
    const lm = await withTensor(crop, (x) => fa.nets.faceLandmark68Net.detectLandmarks(x as never)) as InstanceType<FaceApi['FaceLandmarks68']>;
    faces.push({ box, score: d.score, landmarks: lm.relativePositions.map((p) => ({ x: box.x + p.x * s, y: box.y + p.y * s })) });
  }
  if (timings) timings.landmarksMs += performance.now() - t;
  return faces;
}

async function withTensor<T>(image: RawImage, f: (x: tf.Tensor3D) => Promise<T>): Promise<T> {
  const x = tf.tensor3d(image.data, [image.height, image.width, image.channels], 'int32');
  try {
    return await f(x);
  } finally {
    x.dispose();
  }
}

const mean = (pts: Point[]): Point => ({ x: pts.reduce((a, p) => a + p.x, 0) / pts.length, y: pts.reduce((a, p) => a + p.y, 0) / pts.length });

/** Eye-line angle (radians) and eye centers from 68 landmarks. */
export function eyeGeometry(landmarks: Point[]): { left: Point; right: Point; angle: number } {
  const left = mean(landmarks.slice(36, 42)), right = mean(landmarks.slice(42, 48));
  return { left, right, angle: Math.atan2(right.y - left.y, right.x - left.x) };
}

/**
 * 48×48 grayscale crop of a face, rotated so the eyes are level. The square side is the landmarks'
 * extent in the rotated frame times (1 + margin), centered on their bounding box (FER2013-like framing).
 */
export function alignFace(image: RawImage, face: DetectedFace, size = 48, margin = 0.25): Uint8Array {
  const { angle } = eyeGeometry(face.landmarks);
  const cos = Math.cos(angle), sin = Math.sin(angle);
  // Landmarks in the de-rotated frame (rotate by -angle about the origin).
  const rot = face.landmarks.map((p) => ({ x: p.x * cos + p.y * sin, y: -p.x * sin + p.y * cos }));
  const xs = rot.map((p) => p.x), ys = rot.map((p) => p.y);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const side = Math.max(x1 - x0, y1 - y0) * (1 + margin);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2 - 0.05 * side; // a little forehead, as FER2013 crops have
  const out = new Uint8Array(size * size);
  const ch = image.channels;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      // Output pixel → rotated frame → image (rotate by +angle).
      const rx = cx + ((u + 0.5) / size - 0.5) * side, ry = cy + ((v + 0.5) / size - 0.5) * side;
      let sx = rx * cos - ry * sin - 0.5, sy = rx * sin + ry * cos - 0.5;
      sx = Math.min(Math.max(sx, 0), image.width - 1);
      sy = Math.min(Math.max(sy, 0), image.height - 1);
      const xa = Math.floor(sx), ya = Math.floor(sy), xb = Math.min(xa + 1, image.width - 1), yb = Math.min(ya + 1, image.height - 1);
      const fx = sx - xa, fy = sy - ya;
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

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.width * a.height + b.width * b.height - inter);
}
