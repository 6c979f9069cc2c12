/**
 * Many inputs through one classifier, the loop behind `predictor.predictMany` and so `fer predict`: photos
 * `concurrency` at a time, each video frame by frame (`concurrency` frames at a time, its faces tracked and
 * their emotions smoothed: predict/track.ts), every result yielded in input order (a video's frames in frame
 * order) as soon as it and all before it are done. An input that cannot be read is a result with its error,
 * and the batch goes on.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadDlib } from '../detect/dlib.js';
import { MAX_PIXELS, decodedPixels, type RawImage } from '../io/image.js';
import { checkOutputFile, protectInput } from '../io/output.js';
import { orderedMap } from '../util/ordered-map.js';
import { Budget } from '../util/budget.js';
import { ERRNO, UsageError, optionOf } from '../errors.js';
import type { Classifier } from './classifier.js';
import {
  annotationNamer,
  atOwnSize,
  isVideo,
  predictImage,
  predictRaw,
  videoFrames,
  writeAnnotated,
  type PredictInput,
  type PredictOptions,
} from './predict.js';
import { createTracker, DEFAULT_SMOOTH_SECONDS } from './track.js';
import type { PredictResult, PredictTimings, UnreadableInput } from './types.js';
import { makeDirs } from '../io/make-dirs.js';

export const predictManyOptionsSchema = z.object({
  /**
   * Photos (or a video's frames) in flight at once. Default: twice the number of cores: a photo's stages alternate
   * between the JavaScript thread (onnxruntime's runs) and worker threads (decoding, dlib), so with one photo a core
   * both photos at times wait on the JavaScript thread (2 cores, 118 one-face 640×480 photos: 30.6–35.1 images/s at
   * 2, 34.7–36.2 at 4 in five interleaved pairs; a 640×480 video 64–65 → 77–79 frames/s; BENCHMARKS.md).
   */
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.min(64, 2 * Math.max(1, os.availableParallelism()))),
  /** Video: frames per second to analyze (at most 120: above a video's own rate ffmpeg repeats its frames). */
  fps: z.number().positive().max(120).default(5),
  /** Video: each face is tracked across frames (`track`) and its emotion averaged over about this many seconds; 0 = each frame alone. */
  smooth: z.number().min(0).max(60).default(DEFAULT_SMOOTH_SECONDS),
  /** A folder to write each image (and video frame) into with its boxes, landmarks and labels, as PNG (`annotated` on the result). */
  annotate: z.string().min(1, 'give a folder').optional(),
});
export type PredictManyOptions = z.input<typeof predictManyOptionsSchema>;

/** What `predictMany` yields per image or video frame. */
export type PredictManyResult = PredictResult | UnreadableInput;

type BatchOptions = PredictOptions & z.output<typeof predictManyOptionsSchema>;

/**
 * Bytes a photo holds at its peak in the pipeline per decoded pixel (RGB, gray, detector inputs, dlib's pyramid):
 * `fer predict` on one 9600×7200 JPEG (decoded at 50 MP) peaked at 1.38 GB against 0.38 GB for a 640×480 photo.
 */
const BYTES_PER_DECODED_PIXEL = 20;

/**
 * Decoded pixels a batch holds at once: a quarter of this machine's memory at BYTES_PER_DECODED_PIXEL, and at least
 * one photo of the largest decoded size. Six 69-megapixel photos at a concurrency of 4 peaked at 3.9 GB before.
 */
export function photoPixelBudget(totalBytes = os.totalmem()): number {
  return Math.max(MAX_PIXELS, Math.floor(totalBytes / 4 / BYTES_PER_DECODED_PIXEL));
}

/** A path is a video by its extension (needs ffmpeg); bytes and pixels are images. */
const isVideoInput = (x: PredictInput): x is string => typeof x === 'string' && isVideo(x);

/** Annotation names: a path's file name; bytes and pixels by their place in the batch. */
const nameOf = (x: PredictInput, i: number) => (typeof x === 'string' ? x : `image-${i + 1}`);

/**
 * The inputs are never replaced by an output, and the annotations of the photos are never a link or a file fer
 * did not write (io/output.ts): checked before the work.
 */
function guardOutputs(inputs: readonly PredictInput[], annotate: string | undefined): void {
  for (const x of inputs) if (typeof x === 'string') protectInput(x);
  if (!annotate) return;
  checkWritableDir(annotate, 'annotate');
  const name = annotationNamer();
  const present = readdirSync(annotate);
  inputs.forEach((x, i) => {
    if (!isVideoInput(x)) checkOutputFile(path.join(annotate, `${name(nameOf(x, i))}.png`), 'annotate');
    else {
      // a video's frames: <name>-frame00000.png …, any already there must be fer's
      const frame = new RegExp(`^${escapeRegExp(path.basename(x).replace(/\.[^.]+$/, ''))}-frame\\d{5}\\.png$`);
      for (const f of present) if (frame.test(f)) checkOutputFile(path.join(annotate, f), 'annotate');
    }
  });
}

/** `dir` made if missing and writable, before any work: else a UsageError naming `what` (the flag) and why. */
export function checkWritableDir(dir: string, what: string): void {
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${what} ${dir}: cannot write there (${(code && ERRNO[code]) ?? code ?? String(e)})`, { option: optionOf(what) });
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function* predictBatch(
  inputs: readonly PredictInput[],
  classifier: Classifier,
  o: BatchOptions,
): AsyncGenerator<PredictManyResult> {
  guardOutputs(inputs, o.annotate);
  const nameFor = annotationNamer();
  const pixels = new Budget(photoPixelBudget());
  const photo = async ({ x, i }: { x: PredictInput; i: number }) => {
    const name = nameFor(nameOf(x, i));
    // Large photos wait for pixels, not only for a place among the `concurrency` in flight (memory: see photoPixelBudget)
    const n = typeof x === 'string' || x instanceof Uint8Array ? await decodedPixels(x) : 0;
    await pixels.acquire(n);
    try {
      const { result, image } = await predictImage(x, classifier, o);
      if (o.annotate && image) (result as PredictResult).annotated = await writeAnnotated(image, result.faces, o.annotate, name);
      return result;
    } finally {
      pixels.release(n);
    }
  };
  for (let i = 0; i < inputs.length;) {
    const x = inputs[i];
    if (isVideoInput(x)) {
      yield* videoResults(x, classifier, o, nameFor);
      i++;
      continue;
    }
    let j = i;
    while (j < inputs.length && !isVideoInput(inputs[j])) j++;
    yield* orderedMap(
      inputs.slice(i, j).map((y, k) => ({ x: y, i: i + k })),
      o.concurrency,
      photo,
    );
    i = j;
  }
}

/**
 * A video's frames, `concurrency` at a time, in frame order; a video that cannot be read (or stops being
 * readable) gives one result with its error. `auto` on video is dlib alone without upsampling (faces in
 * video are large; 30 frames/s at 640×480 on 2 cores, BENCHMARKS.md).
 */
async function* videoResults(
  file: string,
  classifier: Classifier,
  o: BatchOptions,
  nameFor: ReturnType<typeof annotationNamer>,
): AsyncGenerator<PredictManyResult> {
  // No second search inside a border on frames (predictRaw): most frames without a face are empty scenes, and it
  // would cost each of them a scan of four times the pixels. For the same reason a small frame without a face is
  // not a cropped face classified whole, as a photo of at most CROPPED_FACE_MAX_SIDE pixels is.
  const frameOptions = {
    ...o,
    upsample: o.upsample ?? 0,
    detector: o.detector === 'auto' && loadDlib() ? ('dlib' as const) : o.detector,
    borderRetry: false,
    wholeIfSmall: false,
  };
  const frameResult = async (image: RawImage, frame: number) => {
    const timings: PredictTimings = { decodeMs: 0, detectMs: 0, landmarksMs: 0, classifyMs: 0 };
    const faces = await predictRaw(image, classifier, frameOptions, timings);
    return { image, result: { input: file, frame, time: frame / o.fps, ...atOwnSize(image, faces), timings } };
  };
  const tracker = createTracker({ smooth: o.smooth });
  try {
    for await (const { image, result } of orderedMap(readFrames(file, o.fps), o.concurrency, frameResult)) {
      const r: PredictResult = { ...result, faces: tracker.update(result.faces, result.time) };
      if (r.faces.length === 0) r.error = 'no face found'; // as for a photo: a frame read, not an unreadable input
      if (o.annotate) r.annotated = await writeAnnotated(image, r.faces, o.annotate, nameFor(file, r.frame));
      yield r;
    }
  } catch (e) {
    // Only the video's own reading makes it an unreadable input; a failure of the models or of writing is fer's.
    if (!(e instanceof UnreadableVideo)) throw e;
    yield { input: file, faces: [], error: e.message };
  }
}

/** A video that could not be read (or stopped being readable): its one line, as the input's error. */
class UnreadableVideo extends Error {}

async function* readFrames(file: string, fps: number): AsyncGenerator<RawImage> {
  try {
    yield* videoFrames(file, fps);
  } catch (e) {
    throw new UnreadableVideo((e as Error).message ?? String(e), { cause: e });
  }
}
