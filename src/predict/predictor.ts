/**
 * The task-level API, modelled on transformers.js's `pipeline()`: one call makes a predictor (face detector,
 * 68 landmarks, emotion classifier), `predict` takes a file, a Buffer or decoded pixels (or an array of
 * them), `dispose` frees every session and tensor it made.
 *
 *   const predictor = await createPredictor();
 *   const { faces } = await predictor.predict('photo.jpg');
 *   await predictor.dispose();
 */
import { z } from 'zod';
import { TTA_MODES } from '../data/augment.js';
import { DETECTORS, releaseFaceNets, retainFaceNets, type Box, type Point } from '../detect/faces.js';
import { useBackend, BACKENDS } from '../engine/backend.js';
import { PROVIDERS } from '../runtime/ort.js';
import { decodeRgb, type RawImage } from '../io/image.js';
import { UsageError } from '../errors.js';
import { loadClassifier } from './classifier.js';
import { describeDecodeError, predictRaw } from './predict.js';

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
    .union([z.number(), z.strictObject({ dlib: z.number().optional(), tiny: z.number().optional(), ssd: z.number().optional() })])
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
  /** auto: dlib where fer was built with it (its 68-point model: non-commercial use only), else tiny. */
  detector: z.enum(DETECTORS).default('auto'),
  /** dlib: 2× upsamplings before detection (auto: 1 for images up to ~1 megapixel). */
  upsample: z.union([z.literal('auto'), z.number().int().min(0).max(3)]).default('auto'),
  /** Face detection threshold: a number for the detector in use, or `{dlib, tiny, ssd}` (defaults MIN_CONFIDENCE). */
  minConfidence: minConfidenceSchema,
  /** Tiny detector's input side (a multiple of 32). */
  inputSize: inputSizeSchema(z.number()),
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
});
export type PredictorOptions = z.input<typeof predictorOptionsSchema>;

export interface FaceResult {
  box: Box;
  /** Detector confidence. */
  score: number;
  /** 68 points, iBUG 300-W order. */
  landmarks: Point[];
  /** Set when no face was detected and the whole image was classified as one (already-cropped faces). */
  note?: string;
  emotion: string;
  confidence: number;
  probabilities: Record<string, number>;
}

export interface PredictResult {
  width: number;
  height: number;
  faces: FaceResult[];
}

/** What `predict` takes: a file path, encoded image bytes, or 8-bit pixels (1, 3 or 4 channels, interleaved). */
export type PredictInput = string | Uint8Array | RawImage;

export interface Predictor {
  /** What runs the emotion classifier: cpu, cuda or tensorrt (onnxruntime-node), or tfjs. */
  readonly provider: string;
  /** Set when `provider` is not the first one asked for: which one was missing, and why. */
  readonly providerNote?: string;
  predict(input: PredictInput): Promise<PredictResult>;
  predict(inputs: PredictInput[]): Promise<PredictResult[]>;
  /** Frees the classifier's session or tensors and, when no other predictor uses them, the face nets'. */
  dispose(): Promise<void>;
}

function isRaw(x: PredictInput): x is RawImage {
  return typeof x === 'object' && !(x instanceof Uint8Array) && 'data' in x && 'width' in x;
}

async function decode(input: PredictInput): Promise<RawImage> {
  if (isRaw(input)) {
    const { data, width, height, channels } = input;
    if (![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
      throw new UsageError(
        `predict: raw image: expected ${width}×${height}×${channels} = ${width * height * channels} bytes with 1, 3 or 4 channels, got ${data.length}`,
      );
    }
    return input;
  }
  try {
    return await decodeRgb(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.length));
  } catch (e) {
    const what = typeof input === 'string' ? input : `${input.length}-byte buffer`;
    throw new UsageError(`predict: ${what}: ${describeDecodeError(e)}`, { cause: e });
  }
}

export async function createPredictor(options: PredictorOptions = {}): Promise<Predictor> {
  const o = predictorOptionsSchema.parse(options);
  // face-api (its nets' weights, the ssd detector) and tfjs models run on a tfjs backend.
  await useBackend(o.backend);
  const classifier = await loadClassifier(o.model, o.tta, o.threads, { executionProviders: o.executionProviders, fallback: o.fallback });
  retainFaceNets();
  let disposed = false;
  // Calls in flight: dispose() lets them finish (a whole array included) before it frees what they run on.
  const inFlight = new Set<Promise<unknown>>();
  const one = async (input: PredictInput): Promise<PredictResult> => {
    const image = await decode(input);
    const faces = await predictRaw(image, classifier, o);
    return { width: image.width, height: image.height, faces };
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
  return {
    provider: classifier.provider,
    ...(classifier.providerNote ? { providerNote: classifier.providerNote } : {}),
    predict,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.allSettled(inFlight);
      await classifier.release();
      await releaseFaceNets();
    },
  };
}
