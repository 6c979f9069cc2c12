/**
 * The paper's face detector: dlib's HOG frontal-face detector with its 68-point shape predictor, from the
 * optional part of fer's native addon (native/src/dlib_faces.cc, built where Debian's libdlib-dev is
 * installed). The shape predictor's model is Debian's libdlib-data file; it is trained on iBUG 300-W,
 * which is licensed for NON-COMMERCIAL use only.
 */
import { existsSync } from 'node:fs';
import { loadAddon } from '../engine/native/locate.js';
import type { RawImage } from '../io/image.js';
import type { Box, DetectedFace, Point } from './types.js';
import { hogBox, hogBoxFitArray } from './hog-box.js';

interface DlibAddon {
  load(path: string): void;
  detectAsync(
    gray: Uint8Array,
    width: number,
    height: number,
    upsample: number,
    threshold: number,
    landmarkUpsample?: number,
    reread?: Float64Array,
  ): Promise<Float64Array>;
  shapesAsync(
    gray: Uint8Array,
    width: number,
    height: number,
    boxes: Float64Array,
    landmarkUpsample: number,
    mode?: number,
  ): Promise<Float64Array>;
}

export const DLIB_LICENSE_NOTE = "dlib's 68-point model is trained on iBUG 300-W: non-commercial use only";
export const DLIB_LANDMARKS = process.env.FER_DLIB_LANDMARKS ?? '/usr/share/dlib/shape_predictor_68_face_landmarks.dat';

let addon: DlibAddon | null | undefined;
let why: string | undefined;
let noModel: string | undefined;

/**
 * dlib's detector, loaded once; null (with `dlibUnavailable()` saying why) where it is not built. Its 68-point
 * model is loaded where installed; without it the HOG detector still runs (its weights are in dlib's code) and
 * `dlibWithoutModel()` says so: the landmarks are then face-api's (detect/faces.ts).
 */
export function loadDlib(): DlibAddon | null {
  if (addon !== undefined) return addon;
  // FER_DLIB_ADDON: another build; otherwise the AVX2 build where this CPU has AVX2 and FMA (locate.ts).
  const loaded = loadAddon<DlibAddon>('fer_dlib');
  addon = null;
  if (!loaded.file) why = `fer was built without dlib (${loaded.why}; install libdlib-dev and libdlib-data, then npm rebuild)`;
  else if (!loaded.addon) why = `dlib could not be loaded: ${loaded.why}`;
  else {
    try {
      if (existsSync(DLIB_LANDMARKS)) loaded.addon.load(DLIB_LANDMARKS);
      else
        noModel = `landmarks by the face mesh: dlib's 68-point model (non-commercial) is not in ${DLIB_LANDMARKS} (apt-get install libdlib-data)`;
      addon = loaded.addon;
    } catch (e) {
      why = `dlib could not be loaded: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return addon;
}

export function dlibUnavailable(): string | undefined {
  loadDlib();
  return why;
}

/** Set where dlib's detector runs without its 68-point model: why, and what places the landmarks instead. */
export function dlibWithoutModel(): string | undefined {
  loadDlib();
  return noModel;
}

/** 0.299·v, 0.587·v and 0.114·v for every 8-bit v: the products toGray adds, computed once. */
const LUMA = (() => {
  const t = new Float64Array(768);
  for (let v = 0; v < 256; v++) [t[v], t[256 + v], t[512 + v]] = [0.299 * v, 0.587 * v, 0.114 * v];
  return t;
})();

/**
 * 8-bit luma (ITU-R BT.601, as alignFace and the classifier's training crops use): Math.round(0.299·r + 0.587·g +
 * 0.114·b), as the same products looked up and added in the same order, rounded by truncating x + 0.5 (x ≥ 0):
 * the same value for each of the 2^24 colours, checked exhaustively, at 2–6× the speed of Math.round.
 */
export function toGray(image: RawImage): Uint8Array {
  const { data, width, height, channels: ch } = image;
  if (ch === 1) return data;
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += ch)
    out[i] = (LUMA[data[j]] + LUMA[256 + data[j + 1]] + LUMA[512 + data[j + 2]] + 0.5) | 0;
  return out;
}

/**
 * 2× upsamplings of the square around each face that dlib's shape predictor reads its 68 points on (at least the
 * scan's own) where `upsample` is automatic (photos; detectFaces): twice. Its model reads single pixels of faces far larger than most faces of a photo, and on AFW's
 * human-annotated faces reading them on the square upsampled twice rather than once lowered the error of every
 * size band (BENCHMARKS.md "dlib's 68 points read on the face upsampled twice (issue 32, h32b)").
 */
export const DLIB_LANDMARK_UPSAMPLE = 2;

/** How many 2× upsamplings `auto` takes: one for photos up to ~1 megapixel (faces down to ~40 px), else none. */
export const autoUpsample = (image: RawImage) => (Math.max(image.width, image.height) <= 1024 ? 1 : 0);

/**
 * Faces with 68 landmarks by dlib, found on a worker thread (several images at once use several cores);
 * `score` is the HOG detector's confidence (0 at dlib's default threshold). Without the 68-point model
 * (dlibWithoutModel) the landmarks are NaN. The shape predictor reads the image upsampled `landmarkUpsample` times
 * (default `upsample`; more: a square around each face only): on AFW its error is 3.2% of the eye distance on the
 * image upsampled once, 4.2% on the image as it is. `reread` (with `landmarkUpsample` > `upsample`): the points of
 * each face scored at least `minScore` read again on the same square, on the box dlib's HOG detector would draw around
 * the first (hog-box.ts): on AFW 3.65% → 3.31% NME, 3.24% as the mean of the plain and the mirror reading
 * (BENCHMARKS.md "(issue 32, h32n)"); the faces under `minScore` then come back without points (NaN): faces.ts reads
 * the weak faces it keeps on the face mesh's box, so reading them here cost ~4 ms of CPU each for nothing (a square
 * upsampled twice; BENCHMARKS.md "Session of 2026-12-06 (twelfth)").
 */
export async function dlibDetectAsync(
  image: RawImage,
  upsample: number,
  threshold = 0,
  landmarkUpsample = upsample,
  reread?: Reread,
): Promise<DetectedFace[]> {
  const a = loadDlib();
  if (!a) throw new Error(why);
  // the second reading on the first one's square: no second upsampling (the square's is most of a reading's cost)
  const second =
    reread && landmarkUpsample > upsample
      ? new Float64Array([SHAPE_READINGS.indexOf(reread.reading), reread.minScore, ...hogBoxFitArray()])
      : undefined;
  return unpack(await a.detectAsync(toGray(image), image.width, image.height, upsample, threshold, landmarkUpsample, second));
}

/** The image as 8-bit luma, once, for several scans (dlibDetectAsync takes a 1-channel image as it is). */
export const grayImage = (image: RawImage): RawImage =>
  image.channels === 1 ? image : { data: toGray(image), width: image.width, height: image.height, channels: 1 };

/**
 * dlibDetectAsync on rectangles of a 1-channel image (integer pixels, inside it; grayImage), each on its own
 * worker thread: every face of every rectangle, boxes and landmarks in the image's pixels.
 */
export async function dlibDetectRegions(
  gray: RawImage,
  regions: Box[],
  upsample: number,
  threshold = 0,
  landmarkUpsample = upsample,
  reread?: Reread,
): Promise<DetectedFace[]> {
  if (gray.channels !== 1) throw new Error('dlibDetectRegions: expected a 1-channel image');
  const found = await Promise.all(
    regions.map(async (r) => {
      const part = new Uint8Array(r.width * r.height);
      for (let y = 0; y < r.height; y++) {
        const from = (r.y + y) * gray.width + r.x;
        part.set(gray.data.subarray(from, from + r.width), y * r.width);
      }
      const faces = await dlibDetectAsync(
        { data: part, width: r.width, height: r.height, channels: 1 },
        upsample,
        threshold,
        landmarkUpsample,
        reread,
      );
      return faces.map((f) => ({
        ...f,
        box: { ...f.box, x: f.box.x + r.x, y: f.box.y + r.y },
        landmarks: f.landmarks.map((p) => ({ x: p.x + r.x, y: p.y + r.y })),
      }));
    }),
  );
  return found.flat();
}

/** How dlibShapesAsync reads a face (the native addon's mode: its index). */
export const SHAPE_READINGS = ['plain', 'mirror', 'mean'] as const;
export type ShapeReading = (typeof SHAPE_READINGS)[number];

/** dlibDetectAsync's second reading: how, and from which HOG score. */
export interface Reread {
  reading: ShapeReading;
  minScore: number;
}

/**
 * dlib's 68-point model alone on given boxes (image pixels, in the HOG detector's convention: dlibDetectAsync's
 * boxes), each read on the box's square upsampled `landmarkUpsample` times, on a worker thread. Needs the model.
 * `reading`: on the square as it is, on its mirror image (the points turned back and renumbered: still the face's
 * left eye), or the mean of the two.
 */
export async function dlibShapesAsync(
  image: RawImage,
  boxes: Box[],
  landmarkUpsample: number,
  reading: ShapeReading = 'plain',
): Promise<Point[][]> {
  const a = loadDlib();
  if (!a) throw new Error(why);
  if (noModel) throw new Error(noModel);
  if (!boxes.length) return [];
  const flat = new Float64Array(boxes.flatMap((b) => [b.x, b.y, b.width, b.height]));
  const raw = await a.shapesAsync(toGray(image), image.width, image.height, flat, landmarkUpsample, SHAPE_READINGS.indexOf(reading));
  return boxes.map((_box, i) => Array.from({ length: 68 }, (_, k) => ({ x: raw[136 * i + 2 * k], y: raw[136 * i + 2 * k + 1] })));
}

function unpack(raw: Float64Array): DetectedFace[] {
  const per = 5 + 136,
    faces: DetectedFace[] = [];
  for (let i = 0; i < raw.length / per; i++) {
    const r = raw.subarray(i * per, (i + 1) * per);
    faces.push({
      box: { x: r[0], y: r[1], width: r[2], height: r[3] },
      score: r[4],
      landmarks: Array.from({ length: 68 }, (_, k) => ({ x: r[5 + 2 * k], y: r[6 + 2 * k] })),
    });
  }
  return faces;
}

/**
 * The faces with dlib's 68 points read anew on the HOG box of their current points (hog-box.ts hogBox: the face
 * mesh's, for the faces tiny and SSD add), on the box's square upsampled `readAt` times (`reading`: as it is, or the mean of the
 * readings on the square and on its mirror image); each face keeps its detector's box and score. Needs dlib's model.
 */
export async function rereadOnHogBoxes(
  image: RawImage,
  faces: DetectedFace[],
  readAt: number,
  reading: ShapeReading = 'plain',
): Promise<DetectedFace[]> {
  if (!faces.length) return faces;
  const pts = await dlibShapesAsync(
    image,
    faces.map((f) => hogBox(f.landmarks)),
    readAt,
    reading,
  );
  return faces.map((f, i) => ({ ...f, landmarks: pts[i] }));
}
