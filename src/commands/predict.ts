/** `fer predict`: photos, folders or videos → faces, 68 landmarks, emotions. */
import { Command } from 'commander';
import { z } from 'zod';
import { TTA_MODES } from '../data/augment.js';
import { DETECTORS, MIN_CONFIDENCE, resolveDetector } from '../detect/faces.js';
import { DLIB_LICENSE_NOTE, loadDlib } from '../detect/dlib.js';
import { loadClassifier, mergedClassifier, type Classifier } from '../predict/classifier.js';
import { readClassMap } from '../data/class-map.js';
import { inputSizeSchema, minConfidenceSchema } from '../predict/predictor.js';
import {
  annotationNamer,
  CROPPED_FACE_MAX_SIDE,
  expandInputs,
  isVideo,
  predictFile,
  predictRaw,
  videoFrames,
  writeAnnotated,
  type ImagePrediction,
} from '../predict/predict.js';
import { mkdirSync } from 'node:fs';
import type { RawImage } from '../io/image.js';
import os from 'node:os';
import path from 'node:path';
import { Progress } from './progress.js';
import { out, startEngine, table, withEngineOptions, showSchemaDefaults, classifierSchema } from './common.js';
import { UsageError } from '../errors.js';
import { checkOutputFile, protectInput } from '../io/output.js';
import { createTracker, DEFAULT_SMOOTH_SECONDS } from '../predict/track.js';

export const predictSchema = z.object({
  inputs: z.array(z.string()).min(1, 'give at least one image, folder or video'),
  model: classifierSchema,
  detector: z.enum(DETECTORS).default('auto'),
  upsample: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(3)]).optional(),
  minConfidence: minConfidenceSchema,
  inputSize: inputSizeSchema(z.coerce.number()),
  tta: z.enum(TTA_MODES).default('flip'),
  annotate: z.string().optional(),
  fps: z.coerce.number().positive().default(5),
  smooth: z.coerce.number().min(0).max(60).default(DEFAULT_SMOOTH_SECONDS),
  detect: z.boolean().default(true),
  concurrency: z.coerce.number().int().min(1).max(64).default(Math.max(1, os.availableParallelism())),
  classMap: z.string().optional(),
  json: z.boolean().default(false),
});

function printResult(r: ImagePrediction, json: boolean): void {
  if (json) {
    const { timings, ...rest } = r;
    out(JSON.stringify({ ...rest, timings }));
    return;
  }
  const where = r.frame != null ? `${r.input}#${r.frame}` : r.input;
  if (r.error && r.faces.length === 0) {
    process.stderr.write(`fer: ${where}: ${r.error}\n`);
    return;
  }
  out(`${where}: ${r.faces.length} face${r.faces.length === 1 ? '' : 's'}`);
  out(
    table(
      ['face', 'box (x,y,w,h)', 'emotion', 'conf', 'top 3'],
      r.faces.map((f, i) => [
        f.track ?? i + 1,
        [f.box.x, f.box.y, f.box.width, f.box.height].map((v) => v.toFixed(0)).join(','),
        f.emotion,
        `${(f.confidence * 100).toFixed(1)}%`,
        Object.entries(f.probabilities)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
          .join(', '),
      ]),
    ),
  );
  for (const note of new Set(r.faces.map((f) => f.note).filter(Boolean))) out(`  note: ${note}`);
}

export function predictCommand(): Command {
  const cmd = new Command('predict')
    .description('find faces (68 landmarks) in photos, folders or videos and classify their emotions')
    .argument('<inputs...>', 'image files, folders of images, or video files (needs ffmpeg)')
    .option(
      '--model <path>',
      'classifier: .onnx (onnxruntime), a fer model dir (tfjs), or a shipped model by name (its fp32 ONNX); default: the shipped model',
    )
    .option('--tta <mode>', 'classify each face and its mirror image, average: flip | tencrop | none')
    .option('--annotate <dir>', 'write images with boxes, landmarks and labels here')
    .option('--fps <n>', 'video: frames per second to analyze')
    .option(
      '--smooth <seconds>',
      "video: each face is tracked across frames (its id in --json's `track`) and its emotion averaged over about this many seconds; 0 = each frame alone",
    )
    .option(
      '--no-detect',
      `no face detection: each image is one already-cropped face (also done, with a note, when nothing is found in an image of at most ${CROPPED_FACE_MAX_SIDE} px)`,
    )
    .option('--concurrency <n>', 'photos processed at once (default: the number of cores)')
    .option('--class-map <file>', "report the model's probabilities summed into these classes, e.g. examples/class-maps/valence.json")
    .option('--json', 'one JSON line per image or frame');
  withDetectorOptions(cmd);
  withEngineOptions(cmd);
  showSchemaDefaults(cmd, predictSchema);
  cmd.action(async (inputs: string[], flags) => {
    const o = predictSchema.parse({ ...flags, inputs, json: !!flags.json, detect: flags.detect !== false });
    await startEngine(flags, true);
    const { note } = resolveDetector(o.detector);
    if (note) process.stderr.write(`fer: ${note}\n`);
    const loaded = await loadClassifier(o.model, o.tta);
    const classifier = o.classMap ? mergedClassifier(loaded, readClassMap(o.classMap)) : loaded;
    const files = expandInputs(o.inputs);
    if (files.length === 0) throw new UsageError('predict: no images or videos found in the inputs');
    guardOutputs(files, o.annotate); // --annotate created and its files checked now, not after the work
    const nameFor = annotationNamer();
    const { tally, count } = tallier();
    const stills = files.filter((f) => !isVideo(f));
    const bar = o.json || stills.length < 2 ? null : new Progress();
    const t0 = Date.now();
    // Photos run `concurrency` at a time (decoding, dlib and onnxruntime each work off the JavaScript thread),
    // results printed in input order as they complete.
    const photo = async (file: string) => {
      const name = nameFor(file);
      const { result, image } = await predictFile(file, classifier, o);
      const written = o.annotate && image ? await writeAnnotated(image, result.faces, o.annotate, name) : undefined;
      return { result, written };
    };
    try {
      for (let i = 0; i < files.length;) {
        const file = files[i];
        if (!isVideo(file)) {
          let j = i;
          while (j < files.length && !isVideo(files[j])) j++;
          for await (const { result, written } of orderedMap(files.slice(i, j), o.concurrency, photo)) {
            count(result);
            bar?.done();
            printResult(result, o.json);
            if (written && !o.json) out(`  annotated → ${written}`);
            const s = (Date.now() - t0) / 1000;
            bar?.update(
              tally.images,
              stills.length,
              'predict',
              `${(tally.images / s).toFixed(1)} images/s`,
              (s / tally.images) * (stills.length - tally.images),
            );
          }
          i = j;
          continue;
        }
        i++;
        await predictVideo(file, classifier, o, nameFor, (r) => {
          count(r);
          printResult(r, o.json);
        });
      }
    } finally {
      bar?.done();
      await classifier.release();
    }
    if ((files.length > 1 || tally.images > 1) && !o.json) {
      const s = (Date.now() - t0) / 1000;
      process.stderr.write(
        `fer: ${tally.images} images/frames, ${tally.faces} faces, ${tally.noFace} without a face, ${tally.unreadable} unreadable` +
          ` in ${s.toFixed(1)} s (${(tally.images / s).toFixed(1)}/s)\n`,
      );
    }
    // Non-zero only when nothing could be read (images without a face are results too).
    if (tally.unreadable > 0 && tally.unreadable === tally.images) process.exitCode = 2;
  });
  return cmd;
}

/** The face detector's flags: which detector, dlib's upsampling, thresholds, the tiny detector's input size. */
function withDetectorOptions(cmd: Command): Command {
  return cmd
    .option(
      '--detector <d>',
      "auto (dlib where built, else tiny) | dlib (the paper's HOG detector + 68-point shape predictor; " +
        `${DLIB_LICENSE_NOTE}) | tiny (face-api's TinyFaceDetector) | ssd (face-api's SSD-MobileNetV1, ~10× slower)`,
    )
    .option(
      '--upsample <n>',
      'dlib: 2× upsamplings before detecting, 0..3 or auto (photos: 1 up to ~1 megapixel, finds faces down to ~40 px; video frames: 0)',
    )
    .option(
      '--min-confidence <x>',
      `face detection threshold of the detector in use (dlib's HOG score, default ${MIN_CONFIDENCE.dlib}; tiny's and ssd's probability, default ${MIN_CONFIDENCE.tiny}), ` +
        `or per detector: dlib=0.2,tiny=0.8 (dlib+tiny adds tiny's faces from ${MIN_CONFIDENCE.dlibTiny})`,
    )
    .option('--input-size <n>', 'tiny detector: input side, a multiple of 32 (smaller = faster, misses small faces)');
}

/** Counts of what predict saw: images/frames, faces, those without a face, those that could not be read. */
function tallier() {
  const tally = { images: 0, faces: 0, noFace: 0, unreadable: 0 };
  const count = (r: ImagePrediction) => {
    tally.images++;
    tally.faces += r.faces.length;
    if (r.faces.length === 0) {
      if (r.error === 'no face found') tally.noFace++;
      else tally.unreadable++;
    }
  };
  return { tally, count };
}

/**
 * A video's frames, like photos, `concurrency` at a time, each result handed to `onResult` in frame order; a
 * video that cannot be read gives one result with its error. `auto` on video is dlib alone without upsampling
 * (faces in video are large; 30 frames/s at 640×480 on 2 cores, BENCHMARKS.md).
 */
async function predictVideo(
  file: string,
  classifier: Classifier,
  o: z.infer<typeof predictSchema>,
  nameFor: ReturnType<typeof annotationNamer>,
  onResult: (r: ImagePrediction) => void,
): Promise<void> {
  const frameOptions = { ...o, upsample: o.upsample ?? 0, detector: o.detector === 'auto' && loadDlib() ? ('dlib' as const) : o.detector };
  const frameResult = async (image: RawImage, frame: number) => ({
    image,
    result: { input: file, frame, width: image.width, height: image.height, faces: await predictRaw(image, classifier, frameOptions) },
  });
  const tracker = createTracker({ smooth: o.smooth });
  try {
    for await (const { image, result } of orderedMap(videoFrames(file, o.fps), o.concurrency, frameResult)) {
      const r: ImagePrediction = { ...result, faces: tracker.update(result.faces, result.frame / o.fps) };
      if (o.annotate) await writeAnnotated(image, r.faces, o.annotate, nameFor(file, r.frame!));
      onResult(r);
    }
  } catch (e) {
    onResult({ input: file, faces: [], error: (e as Error).message }); // an input that could not be read
  }
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and yields the results in input order, each as
 * soon as it and all before it are done.
 */
export async function* orderedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const it = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  const pending: Promise<R>[] = [];
  let index = 0,
    done = false;
  const fill = async () => {
    while (!done && pending.length < limit) {
      const n = await it.next();
      if (n.done) done = true;
      else pending.push(fn(n.value, index++));
    }
  };
  await fill();
  while (pending.length) {
    const r = await pending.shift()!;
    await fill();
    yield r;
  }
}

/**
 * The inputs are never replaced by an output, and --annotate's files for the photos are never a link or a
 * file fer did not write (io/output.ts): checked before the work.
 */
function guardOutputs(files: string[], annotate: string | undefined): void {
  for (const f of files) protectInput(f);
  if (annotate) mkdirSync(annotate, { recursive: true });
  const name = annotationNamer();
  if (annotate) for (const f of files.filter((x) => !isVideo(x))) checkOutputFile(path.join(annotate, `${name(f)}.png`), '--annotate');
}
