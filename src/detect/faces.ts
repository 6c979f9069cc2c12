/**
 * Faces with 68 landmarks (iBUG 300-W layout, as the paper's dlib detector) from @vladmandic/face-api,
 * whose detectors and 68-point landmark net ship inside its npm package: both detectors (SSD-MobileNetV1 and
 * the tiny one, the default) and the landmark net run as ONNX graphs in onnxruntime, from face-api's weights;
 * MediaPipe's face mesh (models/face-mesh/) places the 68 points from the net's first look (meshLandmarks).
 * Alignment: rotate about the eye midpoint so the eye line is level, crop a square around
 * the landmarks with a margin, resize to 48×48 grayscale (what the classifier was trained on).
 */
import { cropSquare, type RawImage } from '../io/image.js';
import { createSession, type FerSession } from '../runtime/ort.js';
import {
  autoUpsample,
  DLIB_LANDMARK_UPSAMPLE,
  dlibDetectAsync,
  dlibUnavailable,
  dlibWithoutModel,
  loadDlib,
  rereadOnHogBoxes,
  type ShapeReading,
} from './dlib.js';
import { backedFaces } from './small-faces.js';
import { smallFaceCascade, type SecondLook } from './cascade.js';
import { UsageError } from '../errors.js';
import { MIN_CONFIDENCE, thresholdsFor, type Detector, type LandmarkModel, type Thresholds } from './thresholds.js';
import type { DetectedFace } from './types.js';
import { decodeSsd, decodeTiny, iou, landmarkSquare, twoLooks, toImageBoxes, withLandmarks, type Found, type Square } from './geometry.js';
import { LANDMARK_INPUT, landmarkNetOnnx, tinyDetectorOnnx, type TinyDetectorParams } from './onnx-nets.js';
import { faceApi, landmarkParams, releaseFaceApi, type FaceApi } from './face-api.js';
import { SSD_SIZE, ssdDetectorOnnx, type SsdParams } from './onnx-ssd.js';
import { faceMeshOnnx, MESH_INPUT } from './onnx-mesh.js';
import { meshLookInput, meshLookResults, meshTo68, roiFrom468, roiFrom68, type MeshLook, type Roi } from './mesh.js';
import { readFaceMesh } from './mesh-files.js';

export {
  DETECTORS,
  LANDMARK_MODELS,
  MIN_CONFIDENCE,
  thresholdsFor,
  type Detector,
  type LandmarkModel,
  type Thresholds,
} from './thresholds.js';

let autoNoted = false;
/** What `auto` resolves to here; `note` is set the first time it falls back. */
export function resolveDetector(d: Detector = 'auto'): { detector: Exclude<Detector, 'auto'>; note?: string } {
  if (d !== 'auto') {
    // dlib asked for by name without its 68-point model: the landmarks come from the face mesh, said once as for auto
    const why = d.startsWith('dlib') && loadDlib() ? dlibWithoutModel() : undefined;
    const note = autoNoted || !why ? undefined : `face detector: ${d}; ${why}`;
    if (why) autoNoted = true;
    return { detector: d, note };
  }
  const dlib = !!loadDlib();
  const detector = dlib ? 'dlib+tiny' : 'ssd';
  const why = dlib ? dlibWithoutModel() : `dlib unavailable: ${dlibUnavailable()}`;
  const note = autoNoted || !why ? undefined : `face detector: ${detector}; ${why}`;
  autoNoted = true;
  return { detector, note };
}

export type { Box, Point, DetectedFace } from './types.js';
export { alignFace, alignFaces, eyeGeometry, iou } from './geometry.js';

export interface DetectOptions {
  /** Default: auto. */
  detector?: Detector;
  /**
   * dlib: 2× upsamplings before detection (each finds faces half as large, at ~4× the time); auto: 1 up to ~1 megapixel,
   * which `dlib+tiny` applies only around the tiny detector's small boxes (smallFaceCascade); a number: the whole image.
   */
  upsample?: number | 'auto';
  /**
   * Score threshold of the detector (a number), or of each (`{dlib: 0, tiny: 0.7}`), and of the face mesh's face
   * score (`mesh`; 0: off); defaults MIN_CONFIDENCE (thresholdsFor).
   */
  minConfidence?: number | Thresholds;
  /** Tiny detector input size (multiple of 32). */
  inputSize?: number;
  /**
   * The 68 points where dlib's model does not give them: `mesh` (default: face-api's net looks once, then
   * MediaPipe's face mesh twice, its second look also at the mirror image, mapped to 68 points; 4.5% NME on AFW
   * against 7.0%) or `net` (face-api's net, two looks).
   */
  landmarks?: LandmarkModel;
  /**
   * 2× upsamplings of the square around each face that dlib's 68-point model reads (at least the scan's own);
   * default DLIB_LANDMARK_UPSAMPLE with `upsample` auto (photos), else 1 (video frames: speed).
   */
  landmarkUpsample?: number;
  /**
   * `dlib+tiny` on photos (`upsample` auto): dlib's faces scored under its threshold by up to SECOND_LOOK.dlib, kept
   * where the tiny detector or SSD sees the same face and the face mesh agrees (small-faces.ts backedFaces).
   * Default true: SSD runs only on the photos where it can change the result (small-faces.ts needsSsd; h32s);
   * 'always': on every photo (the default of h32r); 'tiny': backed by the tiny detector only (no SSD pass); false:
   * the cascade as before issue 32's h32r (benchmarks).
   */
  secondLook?: SecondLook;
  /**
   * dlib on photos (`upsample` auto) with its model: each face's 68 points read again on the box dlib's HOG detector
   * would draw around its first points (dlib's, or the face mesh's for the faces tiny and SSD add; hog-box.ts).
   * Default true (AFW 3.65% → 3.31% NME, +7% CPU per 640×480 photo); 'mirror': the mean of the readings on the
   * square and on its mirror image (3.24%, +19% CPU); false: the points as before h32n (benchmarks).
   */
  hogReread?: boolean | 'mirror';
}

export interface DetectTimings {
  detectMs: number;
  landmarksMs: number;
}

/**
 * Faces and their 68 landmarks; `timings` receives the time of each stage. The frame is letterboxed to the
 * detector's input size and each face cropped square at the landmark net's, by sharp on 8-bit pixels. Where
 * dlib's model does not place the 68 points, the face mesh does (meshLandmarks; `landmarks: 'net'`: face-api's
 * net looking twice, lookTwice). The detectors and the nets run as ONNX graphs in onnxruntime
 * (detect/onnx-nets.ts, detect/onnx-ssd.ts, detect/onnx-mesh.ts).
 */
export async function detectFaces(image: RawImage, o: DetectOptions = {}, timings?: DetectTimings): Promise<DetectedFace[]> {
  const { detector } = resolveDetector(o.detector);
  const th = thresholdsFor(detector, o.minConfidence, o.landmarks);
  if (detector === 'dlib' || detector === 'dlib+tiny') {
    if (!loadDlib())
      throw new UsageError(`detector ${detector}: ${dlibUnavailable()}`, { hint: 'use the tiny or ssd detector', option: 'detector' });
    const automatic = o.upsample === undefined || o.upsample === 'auto';
    const upsample = automatic ? autoUpsample(image) : (o.upsample as number);
    const t = performance.now();
    // dlib+tiny on a photo dlib upsamples: its plain scan, the upsampled one only where tiny saw a small box
    // (small-faces.ts); tiny's boxes then also give the faces it adds. Otherwise one scan at `upsample`.
    // The 68 points are read on the face's square upsampled DLIB_LANDMARK_UPSAMPLE times, whatever the scan's
    // upsampling (video frames and large photos scan without): on AFW photos scaled to 640 px, once gave 3.63% NME
    // against 4.62% on the frame, and twice lowers it again (BENCHMARKS.md).
    // With `upsample` given (video frames: batch.ts) once, as before: twice costs 8–12 ms more on a 640×480 frame
    // holding a 300 px face (the square upsampled grows with the face), for 3.63% → 3.55% NME on AFW frames of 640 px.
    const readAt = Math.max(o.landmarkUpsample ?? (automatic ? DLIB_LANDMARK_UPSAMPLE : 1), upsample);
    // photos: dlib's points read again on the HOG box of the first, on the same upsampled square (hog-box.ts)
    const reading: ShapeReading | undefined =
      !automatic || o.hogReread === false || dlibWithoutModel() ? undefined : o.hogReread === 'mirror' ? 'mean' : 'plain';
    const reread = reading && { reading, minScore: th.dlib }; // weak faces, if kept, are read on the mesh's box
    const cascade =
      detector === 'dlib+tiny' && automatic && upsample === 1
        ? await smallFaceCascade(image, th, detectorBoxes, { inputSize: o.inputSize, readAt, second: o.secondLook ?? true, reread })
        : undefined;
    let faces = cascade ? cascade.faces : await dlibDetectAsync(image, upsample, th.dlib, readAt, reread);
    if (timings) timings.detectMs += performance.now() - t; // landmarks included
    if (dlibWithoutModel()) {
      const t2 = performance.now();
      faces = await findLandmarks(image, faces, o.landmarks, th.mesh);
      if (timings) timings.landmarksMs += performance.now() - t2;
    }
    if (detector === 'dlib') return faces;
    // tiny's faces that dlib did not find (IoU < 0.3 with each of dlib's boxes); the landmark net looks only at
    // those, not at the faces both found (its points would be dropped: a box is the detector's, not the points').
    const missed = (m: Found) => faces.every((f) => iou(f.box, m.box) < 0.3);
    if (!cascade) return [...faces, ...(await faceApiFaces(image, { ...o, detector: 'tiny', minConfidence: th }, timings, missed))];
    const t3 = performance.now();
    const more = await findLandmarks(
      image,
      cascade.tiny.filter((m) => m.score >= th.tiny && missed(m)),
      o.landmarks,
      th.mesh,
    );
    // then dlib's weak faces that another detector backs, where the face mesh agrees (SECOND_LOOK)
    const backed = backedFaces(
      cascade.weak,
      cascade.support,
      [...faces, ...more].map((f) => f.box),
    );
    const agreed = await meshAgrees(image, backed, th.mesh || MIN_CONFIDENCE.mesh, !reading);
    // their 68 points: dlib's model on the HOG box of the mesh's points (3.34% NME on AFW's faces tiny adds against
    // the mesh's own 4.51%: BENCHMARKS.md "(issue 32, h32n)")
    const added = reading ? await rereadOnHogBoxes(image, [...agreed, ...more], readAt, reading) : [...agreed, ...more];
    if (timings) timings.landmarksMs += performance.now() - t3;
    return [...faces, ...added];
  }
  return faceApiFaces(image, { ...o, detector }, timings);
}

/**
 * The faces whose face mesh score is at least `min`. Their 68 points: the mesh's (detectFaces then reads dlib's on
 * the HOG box of those: hog-box.ts); with `mean` (hogReread false) where dlib's model is installed, the mean of
 * dlib's and the mesh's, two readings of a face each finds hard (on the 11 AFW faces the second look adds, NME
 * 4.21% / 4.35% on the two halves of the photos, against dlib's 4.38% / 5.93% and the mesh's 6.09% / 4.80%:
 * BENCHMARKS.md "(issue 32, h32r)").
 */
async function meshAgrees(image: RawImage, faces: DetectedFace[], min: number, mean: boolean): Promise<DetectedFace[]> {
  if (!faces.length) return [];
  if (dlibWithoutModel() || !mean) return meshLandmarks(image, faces, min);
  const mesh = await meshPoints(image, faces);
  return faces.flatMap((f, i) => {
    if (mesh[i].score < min) return [];
    const m = meshTo68(mesh[i].points);
    return [{ ...f, landmarks: f.landmarks.map((p, k) => ({ x: (p.x + m[k].x) / 2, y: (p.y + m[k].y) / 2 })) }];
  });
}

/** face-api's tiny or SSD detector, then the landmark net's two looks at each face `keep` accepts (default all). */
async function faceApiFaces(
  image: RawImage,
  o: DetectOptions & { detector: 'tiny' | 'ssd' },
  timings?: DetectTimings,
  keep: (f: Found) => boolean = () => true,
): Promise<DetectedFace[]> {
  const th = thresholdsFor(o.detector, o.minConfidence, o.landmarks);
  let t = performance.now();
  const found = await detectorBoxes(image, o.detector, th[o.detector], o.inputSize);
  if (timings) timings.detectMs += performance.now() - t;
  t = performance.now();
  const faces = await findLandmarks(image, found.filter(keep), o.landmarks, th.mesh);
  if (timings) timings.landmarksMs += performance.now() - t;
  return faces;
}

/**
 * The boxes of face-api's tiny detector (at `inputSize`, default 416) or SSD, in image pixels, scored at least
 * `threshold`: the whole image letterboxed to the detector's input square.
 */
export async function detectorBoxes(image: RawImage, detector: 'tiny' | 'ssd', threshold: number, inputSize = 416): Promise<Found[]> {
  const tiny = detector === 'tiny';
  const size = tiny ? inputSize : SSD_SIZE;
  const side = Math.max(image.width, image.height); // detector pixel → image pixels: side / size
  const view = await cropSquare(image, 0, 0, side, size);
  const found = tiny ? await tinyDetect(await faceApi(), view, threshold) : await ssdDetect(view, threshold);
  return toImageBoxes(found, side / size, image);
}

/**
 * Each face's 68 points by the chosen landmark model (DetectOptions.landmarks; default mesh); the mesh drops the
 * faces whose face score is under `meshMin` (MIN_CONFIDENCE.mesh).
 */
export function findLandmarks(image: RawImage, found: Found[], model: LandmarkModel = 'mesh', meshMin = 0): Promise<DetectedFace[]> {
  return model === 'net' ? lookTwice(image, found) : meshLandmarks(image, found, meshMin);
}

/**
 * face-api's net looks once at each face (the square centred on its box), then the face mesh twice: framed
 * from those 68 points, then from its own 468 (roiFrom68, roiFrom468), the second look at the square and at its
 * mirror image, averaged (meshLookResults); its points mapped to 300-W's 68 (meshTo68). The faces whose mesh score
 * (its last look's) is under `minScore` are dropped: the score removed every false face of SSD and tiny on real
 * photos and no annotated one (MIN_CONFIDENCE.mesh; BENCHMARKS.md "Face mesh landmarks").
 */
export async function meshLandmarks(image: RawImage, found: Found[], minScore = 0): Promise<DetectedFace[]> {
  const mesh = await meshPoints(image, found);
  return found.flatMap(({ box, score }, i) => (mesh[i].score >= minScore ? [{ box, score, landmarks: meshTo68(mesh[i].points) }] : []));
}

/**
 * The face mesh's last look at each face, as meshLandmarks takes it (before the map to 68); `mirror: false`
 * leaves the last look's mirror image out (bench/mesh-mirror.ts compares the two).
 */
export async function meshPoints(image: RawImage, found: Found[], { mirror = true } = {}): Promise<MeshLook[]> {
  if (!found.length) return [];
  const first = await landmarks68(image, found);
  const mesh = await meshLooks(
    image,
    first.map((f) => roiFrom68(f.landmarks)),
  );
  return meshLooks(
    image,
    mesh.map((m) => roiFrom468(m.points)),
    mirror,
  );
}

export type { MeshLook } from './mesh.js';

/** The face mesh on one rotated square per face (and on its mirror image, averaged, with `mirror`). */
export async function meshLooks(image: RawImage, rois: Roi[], mirror = false): Promise<MeshLook[]> {
  if (!rois.length) return [];
  const x = meshLookInput(image, rois, mirror);
  const n = x.length / (MESH_INPUT * MESH_INPUT * 3);
  const out = await runOnnxInput('mesh', () => faceMeshOnnx(readFaceMesh()), x, [n, MESH_INPUT, MESH_INPUT, 3]);
  return meshLookResults(out, rois, mirror);
}

/**
 * face-api's 68-point net looks twice at each face (geometry.ts twoLooks): whichever box found the face (tiny,
 * SSD, dlib), the second look, framed from the first points, lowers the error (BENCHMARKS.md "Face detection on
 * real photos").
 */
export function lookTwice(image: RawImage, found: Found[]): Promise<DetectedFace[]> {
  return twoLooks(found, (squares) => landmarks68(image, found, squares));
}

/**
 * face-api's 68-point net on each box's square (`squares`, landmarkSquare of each box unless given): the
 * faces with their landmarks, in image pixels.
 */
export async function landmarks68(
  image: RawImage,
  found: Found[],
  squares: Square[] = found.map((f) => landmarkSquare(f.box)),
): Promise<DetectedFace[]> {
  if (!found.length) return [];
  const fa = await faceApi();
  const crops = await Promise.all(squares.map((q) => cropSquare(image, q.x, q.y, q.side, LANDMARK_INPUT)));
  return withLandmarks(found, await runOnnx('landmarks', () => landmarkNetOnnx(landmarkParams(fa)), crops), squares);
}

/**
 * SSD-MobileNetV1 in onnxruntime on a SSD_SIZE square, its output decoded as face-api decodes it (its
 * anchors, sigmoid scores, then NMS at IoU 0.5, at most 100 faces): face-api's detectAllFaces, boxes in view pixels.
 */
export async function ssdDetect(view: RawImage, minConfidence: number): Promise<Found[]> {
  const fa = await faceApi();
  const params = fa.nets.ssdMobilenetv1.params as unknown as SsdParams;
  const out = await runOnnx('ssd', () => ssdDetectorOnnx(params), [view]);
  return decodeSsd(out, params.output_layer.extra_dim.dataSync(), SSD_SIZE, minConfidence);
}

/** TinyFaceDetector in onnxruntime, its output decoded as face-api decodes it (YOLOv2 anchors, then NMS). */
async function tinyDetect(fa: FaceApi, view: RawImage, threshold: number): Promise<Found[]> {
  const size = view.width;
  const net = fa.nets.tinyFaceDetector;
  const out = await runOnnx(`tiny-${size}`, () => tinyDetectorOnnx(net.params as unknown as TinyDetectorParams, size), [view]);
  return decodeTiny(out, net.anchors, size, threshold);
}

const sessions = new Map<string, Promise<FerSession>>();
let users = 0;

/**
 * Reference counts of the face nets' users (predictors): the last `releaseFaceNets()` frees the
 * onnxruntime sessions and face-api's tfjs weights; a later detection loads them again.
 */
export function retainFaceNets(): void {
  users++;
}

export async function releaseFaceNets(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users > 0) return;
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.all(open.map(async (s) => (await s).release()));
  await releaseFaceApi();
}

/** Face-net sessions now open (tests check that a disposed predictor left none). */
export const openFaceNetSessions = () => sessions.size;

/** Runs a face net (built on first use) on same-size RGB images; its output values. */
async function runOnnx(key: string, build: () => Uint8Array, images: RawImage[]): Promise<Float32Array> {
  const { width, height } = images[0];
  const x = new Float32Array(images.length * width * height * 3);
  images.forEach((im, i) => x.set(im.data, i * width * height * 3));
  return runOnnxInput(key, build, x, [images.length, height, width, 3]);
}

async function runOnnxInput(key: string, build: () => Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  if (!sessions.has(key)) sessions.set(key, createSession(build(), { threads: 1 }));
  const s = await sessions.get(key)!;
  return s.run(x, dims);
}
