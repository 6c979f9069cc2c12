/**
 * fer in the browser: the face detector (face-api's tiny detector), the 68-point landmark net and the
 * emotion classifier as ONNX graphs on onnxruntime-web: WebGPU where the browser offers an adapter, else wasm
 * (SIMD; threads when the page is cross-origin isolated), and the predictor says which one runs; with the
 * same `createPredictor({…}).predict(…)` shape as in Node. Pixels come
 * from canvas instead of sharp; the decoding, alignment and test-time flip are the very functions Node runs
 * (detect/geometry.ts, runtime/onnx-probs.ts), and the results the very types (predict/types.ts). No Node
 * built-ins, no network beyond `baseUrl`.
 */
import type * as OrtModule from 'onnxruntime-web/wasm';
import { thresholdsFor } from '../../detect/thresholds.js';
import { checkFaces, followFaces } from '../../predict/track.js';
import { meshLookInput, meshLookResults, meshTo68, roiFrom468, roiFrom68, MESH_SIZE, type MeshPoint, type Roi } from '../../detect/mesh.js';
import {
  alignFaces,
  decodeTiny,
  landmarkSquare,
  refineSquare,
  toImageBoxes,
  twoLooks,
  withLandmarks,
  type Found,
  type Pixels,
  type Square,
} from '../../detect/geometry.js';
import { labelFaces } from '../../predict/label.js';
import { borderFor, mapFaces } from '../../predict/border.js';
import { squareRgb, toCanvas, wholeGray, withBorder, type WebImage } from './canvas.js';
import type { DetectedFace, Point } from '../../detect/types.js';
import type { Tta } from '../../data/augment.js';
import { onnxProbs } from '../../runtime/onnx-probs.js';
import type { FaceResult, PredictResult, PredictTimings } from '../../predict/types.js';

/** What `fer export web` writes as fer-web.json beside the models. */
export interface WebConfig {
  classes: string[];
  /** Pixel p enters the classifier as p * scale + offset. */
  preprocess: { scale: number; offset: number };
  layout: 'NHWC' | 'NCHW';
  /** `mesh`: MediaPipe's face mesh (as Node's default landmarks; absent in sites written before it). */
  models: { classifier: string; detector: string; landmarks: string; mesh?: string };
  detector: { inputSize: number; anchors: Point[] };
  landmarkInput: number;
}

export interface WebPredictorOptions {
  /** Folder (URL) holding fer-web.json, the models and onnxruntime-web's wasm files. Default: the page's. */
  baseUrl?: string | URL;
  /** Test-time views of each face: flip (default, as in Node) or none. */
  tta?: Extract<Tta, 'none' | 'flip'>;
  /** Tiny detector score threshold (face-api's default 0.5). */
  minConfidence?: number;
  /** wasm threads (default: all cores when the page is cross-origin isolated, else 1). */
  threads?: number;
  /**
   * onnxruntime-web execution providers in order of preference (default ['webgpu', 'wasm']): the first one
   * that runs here is used, and `provider` / `providerNote` on the predictor say which and why.
   */
  executionProviders?: readonly WebProvider[];
  /**
   * The 68 points: `mesh` (face-api's net once, then the face mesh, as Node's default; where the site has it) or
   * `net` (face-api's net, two looks; then one look per frame while following). Default: mesh when the site has it.
   */
  landmarks?: 'mesh' | 'net';
}

/** The execution providers the page runs on: WebGPU (onnxruntime-web's WebGPU build) and wasm (its wasm-only build). */
export const WEB_PROVIDERS = ['webgpu', 'wasm'] as const;
export type WebProvider = (typeof WEB_PROVIDERS)[number];

type Ort = typeof OrtModule;
type Session = OrtModule.InferenceSession;

/**
 * onnxruntime-web's build for a provider, loaded on demand so a page fetches one binary only: the wasm-only
 * build (ort-wasm-simd-threaded.wasm) or the WebGPU build (its own ort-wasm-simd-threaded.asyncify.wasm,
 * which also runs the CPU kernels of ops WebGPU lacks). Both are mapped to files beside the page (site.ts).
 */
const loadOrt = (p: WebProvider): Promise<Ort> => (p === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm'));

/** Why `p` cannot run in this browser, or null where it may (wasm always may). */
export async function webProviderProblem(p: WebProvider): Promise<string | null> {
  if (p === 'wasm') return null;
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is missing: no support, or not a secure context)';
  try {
    return (await gpu.requestAdapter()) ? null : 'the browser offers no WebGPU adapter (no usable GPU, or WebGPU disabled)';
  } catch (e) {
    return `requestAdapter failed: ${(e as Error).message}`;
  }
}

export type { FaceResult, PredictResult, PredictTimings };

/** A frame's result in the browser: Node's `PredictResult`, its timings always there. */
export type WebPredictResult = PredictResult & { timings: PredictTimings };

/** @deprecated The same type as Node's: `FaceResult`. */
export type WebFacePrediction = FaceResult;
/** @deprecated `PredictResult` (with its timings: `WebPredictResult`), the same type as Node's. */
export type WebPrediction = WebPredictResult;

export type { WebImage };

export interface WebPredictor {
  classes: string[];
  /** The execution provider the three models run on. */
  provider: WebProvider;
  /** Set when `provider` is not the first one asked for: which ones were skipped, and why. */
  providerNote?: string;
  /**
   * Faces with 68 landmarks and emotions. `detect: false`: the whole image is one face (already cropped).
   * `follow`: the faces of the previous frame of a video: the detector is skipped and each face's landmarks are
   * found where its previous ones were (followFaces); faces no longer there are dropped, so re-detect when the
   * result has fewer faces than `follow`, and every few frames to find new ones.
   */
  predict(image: WebImage, options?: { detect?: boolean; follow?: DetectedFace[]; borderRetry?: boolean }): Promise<WebPredictResult>;
  /** Class probabilities [n × classes] of n 48×48 gray faces (the classifier alone). */
  classify(faces: Uint8Array, n: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * The three models' sessions on the first provider asked for that runs here; each one skipped is said
 * (providerNote, which the page shows), never silently.
 */
async function openSessions(
  base: URL,
  config: WebConfig,
  options: WebPredictorOptions,
): Promise<{ ort: Ort; provider: WebProvider; providerNote?: string; sessions: Session[] }> {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const skipped: string[] = [];
  for (const p of options.executionProviders ?? WEB_PROVIDERS) {
    if (!(WEB_PROVIDERS as readonly string[]).includes(p)) {
      skipped.push(`"${p}" is not a provider fer's page runs (${WEB_PROVIDERS.join(', ')})`);
      continue;
    }
    const why = await webProviderProblem(p);
    if (why) {
      skipped.push(`${p}: ${why}`);
      continue;
    }
    try {
      const ort = await loadOrt(p);
      ort.env.wasm.wasmPaths = base.href;
      ort.env.wasm.numThreads = options.threads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
      const sessionOptions: OrtModule.InferenceSession.SessionOptions = { executionProviders: [p], graphOptimizationLevel: 'all' };
      const load = (file: string) => ort.InferenceSession.create(new URL(file, base).href, sessionOptions);
      const files = [config.models.classifier, config.models.detector, config.models.landmarks];
      if (config.models.mesh && options.landmarks !== 'net') files.push(config.models.mesh);
      // onnxruntime-web's WebGPU provider creates one session at a time ("another WebGPU EP inference session
      // is being created"); wasm sessions load together.
      const sessions: Session[] = [];
      if (p === 'webgpu') for (const f of files) sessions.push(await load(f));
      else sessions.push(...(await Promise.all(files.map(load))));
      const providerNote = skipped.length ? `${skipped.join('; ')}; running on ${p}` : undefined;
      return { ort, provider: p, sessions, ...(providerNote ? { providerNote } : {}) };
    } catch (e) {
      skipped.push(`${p}: ${String((e as Error).message ?? e).split('\n')[0]}`);
    }
  }
  throw new Error(`fer: no execution provider runs here: ${skipped.join('; ')}`);
}

/** The face mesh on one rotated square per face (and its mirror image, averaged): each face's 468 points (Node's meshLooks). */
async function meshLook(
  runMesh: (x: Float32Array, n: number) => Promise<Float32Array>,
  pixels: Pixels,
  rois: Roi[],
  mirror = false,
): Promise<MeshPoint[][]> {
  const out = await runMesh(meshLookInput(pixels, rois, mirror), rois.length * (mirror ? 2 : 1));
  return meshLookResults(out, rois, mirror).map((m) => m.points);
}

/**
 * Node's meshLandmarks: the mesh framed from each face's 68 points (face-api's net's first look at a detected
 * face), then from its own points, at the square and its mirror image. `following`: the points are the face's in
 * the last frame, one look, not mirrored (frames/s; the map loses nothing on a single look, BENCHMARKS.md).
 */
async function meshFaces(
  runMesh: (x: Float32Array, n: number) => Promise<Float32Array>,
  pixels: Pixels,
  found: Found[],
  from68: Point[][],
  following = false,
): Promise<DetectedFace[]> {
  let m = await meshLook(runMesh, pixels, from68.map(roiFrom68));
  if (!following) m = await meshLook(runMesh, pixels, m.map(roiFrom468), true);
  return found.map(({ box, score }, i) => ({ box, score, landmarks: meshTo68(m[i]) }));
}

type RunSession = (s: Session, data: Float32Array, dims: number[]) => Promise<Float32Array>;

/** The face-finding half of the page's predictor: the landmark net's looks, and the detector with the 68 points of each face it finds. */
function faceFinder(
  run: RunSession,
  nets: { detector: Session; landmarks: Session; mesh?: Session },
  config: WebConfig,
  threshold: number,
) {
  const { detector, landmarks, mesh } = nets;
  const { inputSize, anchors } = config.detector;
  const L = config.landmarkInput;
  /** The landmark net on one square per face. */
  async function look(canvas: CanvasImageSource, found: Found[], squares: Square[]): Promise<DetectedFace[]> {
    const x = new Float32Array(found.length * L * L * 3);
    squares.forEach((q, i) => squareRgb(canvas, q.x, q.y, q.side, L, x, i * L * L * 3));
    return withLandmarks(found, await run(landmarks, x, [found.length, L, L, 3]), squares);
  }

  const runMesh = (x: Float32Array, n: number) => run(mesh!, x, [n, MESH_SIZE, MESH_SIZE, 3]);
  const firstLook = async (canvas: CanvasImageSource, found: Found[]) =>
    (
      await look(
        canvas,
        found,
        found.map((f) => landmarkSquare(f.box)),
      )
    ).map((f) => f.landmarks);

  /** The tiny detector on the image's square, then the 68 points (the mesh's, or the net's two looks) of each face found. */
  async function detectIn(canvas: CanvasImageSource, pixels: Pixels, timings: PredictTimings): Promise<DetectedFace[]> {
    let t = performance.now();
    const side = Math.max(pixels.width, pixels.height),
      scale = side / inputSize;
    const view = new Float32Array(inputSize * inputSize * 3);
    squareRgb(canvas, 0, 0, side, inputSize, view, 0);
    const found = toImageBoxes(
      decodeTiny(await run(detector, view, [1, inputSize, inputSize, 3]), anchors, inputSize, threshold),
      scale,
      pixels,
    );
    timings.detectMs += performance.now() - t;
    t = performance.now();
    let faces: DetectedFace[] = [];
    if (found.length) {
      faces = mesh
        ? await meshFaces(runMesh, pixels, found, await firstLook(canvas, found)) // as Node's detectFaces
        : await twoLooks(found, (squares) => look(canvas, found, squares));
    }
    timings.landmarksMs += performance.now() - t;
    return faces;
  }

  return { look, detectIn, runMesh };
}

export async function createPredictor(options: WebPredictorOptions = {}): Promise<WebPredictor> {
  const base = new URL(
    options.baseUrl ?? './',
    typeof document !== 'undefined' ? document.baseURI : (globalThis as { location?: { href: string } }).location?.href,
  );
  const res = await fetch(new URL('fer-web.json', base));
  if (!res.ok) throw new Error(`fer: ${new URL('fer-web.json', base)}: HTTP ${res.status} (serve the folder fer export web wrote)`);
  const config = (await res.json()) as WebConfig;
  const { ort, provider, providerNote, sessions } = await openSessions(base, config, options);
  const [classifier, detector, landmarks] = sessions;
  const mesh: Session | undefined = sessions[3];
  const tta = options.tta ?? 'flip';
  const threshold = thresholdsFor('tiny', options.minConfidence).tiny;
  let disposed = false;

  const run = async (s: Session, data: Float32Array, dims: number[]): Promise<Float32Array> => {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, dims) });
    return out[s.outputNames[0]].data as Float32Array;
  };

  const { look, detectIn, runMesh } = faceFinder(run, { detector, landmarks, mesh }, config, threshold);

  /** The classifier through Node's test-time-view loop (runtime/onnx-probs.ts), on onnxruntime-web. */
  const classifierRunner = { run: (data: Float32Array, dims: number[]) => run(classifier, data, dims) };
  const classify = (faces: Uint8Array, n: number): Promise<Float32Array> => onnxProbs(classifierRunner, config.layout, faces, n, tta);

  // Calls in flight: dispose() waits for them before it frees the sessions they run on (as Node's predictor does).
  const inFlight = new Set<Promise<unknown>>();
  const tracked = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  };

  function predict(
    image: WebImage,
    o: { detect?: boolean; follow?: DetectedFace[]; borderRetry?: boolean } = {},
  ): Promise<WebPredictResult> {
    if (disposed) return Promise.reject(new Error('fer: predictor used after dispose()'));
    try {
      if (o.follow !== undefined) checkFaces(o.follow, "fer: predict's follow");
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return tracked(predictOne(image, o));
  }

  async function predictOne(
    image: WebImage,
    o: { detect?: boolean; follow?: DetectedFace[]; borderRetry?: boolean },
  ): Promise<WebPredictResult> {
    const timings: PredictTimings = { decodeMs: 0, detectMs: 0, landmarksMs: 0, classifyMs: 0 };
    const t0 = performance.now();
    const { canvas, pixels } = toCanvas(image);
    timings.decodeMs = performance.now() - t0;
    const { width, height } = pixels;
    let faces: (DetectedFace & { note?: string })[] = [];
    let crops: Uint8Array;
    let pad = 0;
    if (o.detect === false) {
      faces = [{ box: { x: 0, y: 0, width, height }, score: 0, landmarks: [], note: 'the whole image was classified as one face' }];
      crops = wholeGray(canvas, width, height);
    } else if (o.follow?.length) {
      const t = performance.now();
      // following: one look per face, framed from its last points (the mesh's, or the net's)
      const last = o.follow.map((f) => f.landmarks);
      const again = mesh ? await meshFaces(runMesh, pixels, o.follow, last, true) : await look(canvas, o.follow, last.map(refineSquare));
      faces = followFaces(o.follow, again);
      timings.landmarksMs = performance.now() - t;
      crops = alignFaces(pixels, faces);
    } else {
      faces = await detectIn(canvas, pixels, timings);
      let seen = pixels;
      // A face cropped tight (a dropped face crop, a close-up photo): searched again inside a border, as in Node.
      const border = o.borderRetry === false ? 0 : borderFor(width, height);
      if (!faces.length && border) {
        const b = withBorder(canvas, width, height, border);
        const again = await detectIn(b.canvas, b.pixels, timings);
        if (again.length) [faces, seen, pad] = [again, b.pixels, border];
      }
      crops = alignFaces(seen, faces);
    }
    const t = performance.now();
    const probs = await classify(crops, faces.length);
    timings.classifyMs = performance.now() - t;
    const labelled = labelFaces(faces, probs, config.classes);
    return { width, height, timings, faces: pad ? mapFaces(labelled, 1, 1, -pad, -pad) : labelled };
  }

  return {
    classes: config.classes,
    provider,
    ...(providerNote ? { providerNote } : {}),
    predict,
    classify: (faces: Uint8Array, n: number) =>
      disposed ? Promise.reject(new Error('fer: predictor used after dispose()')) : tracked(classify(faces, n)),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.allSettled(inFlight);
      await Promise.all([classifier.release(), detector.release(), landmarks.release(), mesh?.release()]);
    },
  };
}
