/**
 * The task-level API, modelled on transformers.js's `pipeline()`: one call makes a predictor (face detector,
 * 68 landmarks, emotion classifier), `predict` takes a file, a Buffer or decoded pixels (or an array of
 * them), `dispose` frees every session and tensor it made.
 *
 *   const predictor = await createPredictor();
 *   const { faces } = await predictor.predict('photo.jpg');
 *   for await (const r of predictor.predictMany(['a.jpg', 'clip.mp4'], { concurrency: 4 })) console.log(r.input, r.frame, r.faces);
 *   await predictor.dispose();
 *
 * `fer predict` is this predictor, its `predictMany` and printing (commands/predict.ts): one code path.
 */
import { z } from 'zod';
import { TTA_MODES } from '../data/augment.js';
import { DETECTORS, LANDMARK_MODELS, releaseFaceNets, resolveDetector, retainFaceNets } from '../detect/faces.js';
import { thresholdsFor } from '../detect/thresholds.js';
import { useBackend, BACKENDS } from '../engine/backend.js';
import { PROVIDERS } from '../runtime/ort.js';
import { readClassMap } from '../data/class-map.js';
import { UsageError } from '../errors.js';
import { loadClassifier, mergedClassifier, priorClassifier } from './classifier.js';
import { atOwnSize, decodeInput, predictRaw, type PredictInput } from './predict.js';
import { predictBatch, predictManyOptionsSchema, type PredictManyOptions, type PredictManyResult } from './batch.js';
import type { PredictResult } from './types.js';
import { parseOptions } from '../util/options.js';

export type { FaceResult, PredictResult, PredictTimings, UnreadableInput } from './types.js';
export type { PredictInput } from './predict.js';
export { predictManyOptionsSchema, type PredictManyOptions, type PredictManyResult } from './batch.js';

/** `0.6` or `dlib=0.2,tiny=0.7` (the command line's form) → a number or thresholds by detector; anything else as it is. */
function parseThresholds(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (!v.includes('=')) return v.trim() === '' ? v : Number(v);
  return Object.fromEntries(
    v
      .split(',')
      .map((kv) => kv.split('=').map((x) => x.trim()))
      .map(([k, x]) => [k, x === undefined || x === '' ? NaN : Number(x)]),
  );
}

/**
 * Face detection thresholds (detect/faces.ts thresholdsFor): a number for the detector in use, or one per detector;
 * unset: MIN_CONFIDENCE, calibrated on real photos.
 */
export const minConfidenceSchema = z.preprocess(
  parseThresholds,
  z
    .union([
      z.number(),
      z.strictObject({ dlib: z.number().optional(), tiny: z.number().optional(), ssd: z.number().optional(), mesh: z.number().optional() }),
    ])
    .optional(),
);
/** The tiny detector's input side, a multiple of 32, over a number schema. */
export const inputSizeSchema = (n: z.ZodNumber | z.ZodCoercedNumber) =>
  n
    .int()
    .min(128)
    .max(1024)
    .refine((v) => v % 32 === 0, { error: 'must be a multiple of 32' })
    .default(416);

export const predictorOptionsSchema = z.object({
  /** Classifier: an .onnx file (onnxruntime) or a fer model or run directory (tfjs). Default: the shipped model. */
  model: z.string().optional(),
  /** auto: dlib+tiny where fer was built with dlib (its 68-point model: non-commercial use only), else ssd (thresholds.ts DETECTORS). */
  detector: z.enum(DETECTORS).default('auto'),
  /** dlib: 2× upsamplings before detection, or auto (1 for images up to ~1 megapixel). Unset: auto on photos, 0 on video frames. */
  upsample: z.union([z.literal('auto'), z.number().int().min(0).max(3)]).optional(),
  /** Face detection threshold: a number for the detector in use, or `{dlib, tiny, ssd, mesh}` (defaults MIN_CONFIDENCE; mesh: the face mesh's face score, 0: off). */
  minConfidence: minConfidenceSchema,
  /** Tiny detector's input side (a multiple of 32). */
  inputSize: inputSizeSchema(z.number()),
  /** The 68 points where dlib's model does not place them: the face mesh (default) or face-api's net. */
  landmarks: z.enum(LANDMARK_MODELS).optional(),
  /** false: no face detection, each image is one already-cropped face. */
  detect: z.boolean().default(true),
  /** Test-time augmentation of each face: flip (the face and its mirror image, averaged), tencrop or none. */
  tta: z.enum(TTA_MODES).default('flip'),
  /** onnxruntime threads for the classifier (default: onnxruntime's choice). */
  threads: z.number().int().min(1).max(256).optional(),
  /**
   * onnxruntime-node execution providers for an .onnx classifier, in order of preference (default ['cpu']):
   * the first one this install can run is used and `predictor.provider` says which; none: an error (exit 2).
   */
  executionProviders: z.array(z.enum(PROVIDERS)).min(1).optional(),
  /** When no provider in `executionProviders` is available: run on cpu (`providerNote` says so) instead of failing. */
  fallback: z.boolean().default(false),
  /** tfjs backend for tfjs models and face-api's nets. */
  backend: z.enum(BACKENDS).default('auto'),
  /** Threads of the tfjs `native` backend (a tfjs classifier; default: all cores). */
  backendThreads: z.number().int().min(1).max(256).optional(),
  /**
   * The model's probabilities summed into these classes (e.g. FER2013's seven into negative / neutral / positive):
   * `{class: [model classes]}`, or a class-map file holding that JSON (examples/class-maps/valence.json).
   */
  classMap: z
    .union([z.string(), z.record(z.string(), z.array(z.string()).min(1))])
    .refine((m) => typeof m === 'string' || Object.keys(m).length > 0, { error: 'a class map needs at least one class' })
    .optional(),
  /**
   * The class prior of your faces (data/prior.ts): `train` (the model's own; FER2013's for the shipped models),
   * `uniform`, `'happy=0.3,neutral=0.4'`, a .json file, or `{happy: 0.3, …}` (over the model's classes; classes
   * left out share the rest). The probabilities are moved to it by Bayes' rule, before any class map.
   */
  prior: z.union([z.string(), z.record(z.string(), z.number())]).default('train'),
});
export type PredictorOptions = z.input<typeof predictorOptionsSchema>;

export interface Predictor {
  /** What runs the emotion classifier: cpu, cuda or tensorrt (onnxruntime-node), or tfjs. */
  readonly provider: string;
  /** Set when `provider` is not the first one asked for: which one was missing, and why. */
  readonly providerNote?: string;
  /** Set when `detector: 'auto'` fell back (no dlib here): which detector runs, and why. */
  readonly detectorNote?: string;
  /** The classes of `probabilities`, in the model's order (a class map's, with `classMap`). */
  readonly classes: readonly string[];
  /** An image's faces; an input that cannot be read is an error (UsageError, exit 2). */
  predict(input: PredictInput): Promise<PredictResult>;
  predict(inputs: PredictInput[]): Promise<PredictResult[]>;
  /**
   * Many images and videos (a path ending .mp4, .mov, .avi, .mkv, .webm or .m4v; needs ffmpeg): photos
   * `concurrency` at a time, a video's frames at `fps` with each face tracked and smoothed, results in input
   * order (with `input`, `frame` for video, `timings` for photos) as soon as each and all before it are done.
   * An input that cannot be read yields a result with `error` and the batch goes on. `dispose()` waits for a result
   * being computed, then ends the loop: its next call throws.
   */
  predictMany(inputs: readonly PredictInput[], options?: PredictManyOptions): AsyncGenerator<PredictManyResult>;
  /** Frees the classifier's session or tensors and, when no other predictor uses them, the face nets'. */
  dispose(): Promise<void>;
}

export async function createPredictor(options: PredictorOptions = {}): Promise<Predictor> {
  // strict: a misspelt option (`detecter`) is an error, not silently the default
  const o = parseOptions(predictorOptionsSchema, options, 'createPredictor');
  // face-api (its nets' weights, the ssd detector) and tfjs models run on a tfjs backend.
  await useBackend(o.backend, o.backendThreads);
  const { detector, note: detectorNote } = resolveDetector(o.detector);
  // A threshold out of its detector's range is refused now, not at the first photo.
  if (o.detect !== false) thresholdsFor(detector, o.minConfidence, o.landmarks);
  const loaded = await loadClassifier(o.model, o.tta, o.threads, { executionProviders: o.executionProviders, fallback: o.fallback });
  let classifier = loaded;
  try {
    classifier = priorClassifier(loaded, o.prior);
    if (o.classMap) classifier = mergedClassifier(classifier, typeof o.classMap === 'string' ? readClassMap(o.classMap) : o.classMap);
  } catch (e) {
    await loaded.release();
    throw e;
  }
  retainFaceNets();
  let disposed = false;
  // Calls in flight: dispose() lets them finish (a whole array included) before it frees what they run on.
  const inFlight = new Set<Promise<unknown>>();
  const one = async (input: PredictInput): Promise<PredictResult> => {
    const image = await decodeInput(input);
    return atOwnSize(image, await predictRaw(image, classifier, o));
  };
  async function many(inputs: PredictInput[]): Promise<PredictResult[]> {
    const results: PredictResult[] = [];
    for (const input of inputs) results.push(await one(input));
    return results;
  }
  function predict(input: PredictInput): Promise<PredictResult>;
  function predict(inputs: PredictInput[]): Promise<PredictResult[]>;
  function predict(x: PredictInput | PredictInput[]): Promise<PredictResult | PredictResult[]> {
    if (disposed) return Promise.reject(new UsageError('predict: this predictor was disposed'));
    const p = Array.isArray(x) ? many(x) : one(x);
    const done = () => inFlight.delete(p);
    inFlight.add(p);
    void p.then(done, done);
    return p;
  }
  // predictMany loops not finished: `busy` while one computes its next result. A loop paused at a result (its
  // caller stopped iterating) holds nothing dispose() must wait for; dispose() ends it (ffmpeg stopped, frames let go).
  type Loop = { busy?: Promise<unknown>; inner: AsyncGenerator<PredictManyResult> };
  const loops = new Set<Loop>();
  async function* predictMany(inputs: readonly PredictInput[], manyOptions: PredictManyOptions = {}): AsyncGenerator<PredictManyResult> {
    if (disposed) throw new UsageError('predict: this predictor was disposed');
    const given: unknown = inputs;
    if (!Array.isArray(given))
      throw new UsageError(
        `predictMany: expected an array of inputs (paths, bytes or pixels), got ${given === null ? 'null' : typeof given}`,
      );
    const m = parseOptions(predictManyOptionsSchema, manyOptions, 'predictMany');
    const loop: Loop = { inner: predictBatch(inputs, classifier, { ...o, ...m }) };
    loops.add(loop);
    try {
      for (;;) {
        if (disposed) throw new UsageError('predict: this predictor was disposed while its predictMany loop was paused');
        loop.busy = loop.inner.next();
        const r = (await loop.busy) as IteratorResult<PredictManyResult>;
        loop.busy = undefined;
        if (r.done) return;
        yield r.value;
      }
    } finally {
      loops.delete(loop);
      await loop.inner.return(undefined);
    }
  }
  return {
    provider: classifier.provider,
    ...(classifier.providerNote ? { providerNote: classifier.providerNote } : {}),
    ...(detectorNote ? { detectorNote } : {}),
    classes: classifier.classes,
    predict,
    predictMany,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.allSettled([...inFlight, ...[...loops].map((l) => l.busy)]);
      await Promise.allSettled([...loops].map((l) => l.inner.return(undefined)));
      await classifier.release();
      await releaseFaceNets();
    },
  };
}
