/** `fer predict`: photos, folders or videos → faces, 68 landmarks, emotions: the library's predictor and its `predictMany`, printed. */
import { Command } from 'commander';
import { z } from 'zod';
import { MIN_CONFIDENCE } from '../detect/faces.js';
import { DLIB_LICENSE_NOTE } from '../detect/dlib.js';
import { createPredictor, predictManyOptionsSchema, predictorOptionsSchema, type PredictManyResult } from '../predict/predictor.js';
import { CROPPED_FACE_MAX_SIDE, expandInputs, hasSubfolders, isVideo } from '../predict/predict.js';
import { predictTally } from '../predict/tally.js';
import { predictionText, resultSource, tallyText } from '../predict/text.js';
import { timelineWriter } from '../predict/timeline.js';
import { UsageError } from '../errors.js';
import { Progress } from './progress.js';
import { classifierSchema } from '../model/default.js';
import { note, out, refuseUnused, startEngine, withEngineOptions, showSchemaDefaults } from './common.js';

/** The predictor's options and predictMany's, plus what only the command has: its inputs (folders too), --model by name, --json. */
export const predictSchema = predictorOptionsSchema.extend(predictManyOptionsSchema.shape).extend({
  inputs: z.array(z.string()).min(1, 'give at least one image, folder or video'),
  recursive: z.boolean().default(false),
  /** Video: a folder to write each video's emotions over time into, as <name>-timeline.png (predict/timeline.ts). */
  timeline: z.string().min(1, 'give a folder').optional(),
  model: classifierSchema,
  json: z.boolean().default(false),
});

/** A numeric flag as a number (NaN when it is not one: the schema then says what it expects). */
const num = (v: string) => Number(v);

function printResult(r: PredictManyResult, json: boolean): void {
  if (json) {
    const { timings, annotated: _annotated, ...rest } = r; // the path written is printed only as text
    out(JSON.stringify({ ...rest, timings }));
  } else if (r.frame != null && r.error === 'no face found')
    out(`${resultSource(r)}: 0 faces`); // a frame's result, not a problem
  else if (r.error && r.faces.length === 0) note(`${resultSource(r)}: ${r.error}${r.note ? ` (${r.note})` : ''}`);
  else out(predictionText(r));
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
    .option('--timeline <dir>', "video: write each video's emotions over time here, as <name>-timeline.png (a panel per face)")
    .option('--fps <n>', 'video: frames per second to analyze', num)
    .option(
      '--smooth <seconds>',
      "video: each face is tracked across frames (its id in --json's `track`) and its emotion averaged over about this many seconds; 0 = each frame alone",
      num,
    )
    .option(
      '--no-detect',
      `no face detection: each image is one already-cropped face (also done, with a note, when nothing is found in an image of at most ${CROPPED_FACE_MAX_SIDE} px)`,
    )
    .option('--concurrency <n>', 'photos (or video frames) processed at once (default: twice the number of cores)', num)
    .option('--class-map <file>', "report the model's probabilities summed into these classes, e.g. examples/class-maps/valence.json")
    .option(
      '--prior <prior>',
      "the class prior of your faces: train (the model's own, FER2013's for the shipped models: happy 25%, disgust 1.5%) | uniform | happy=0.3,neutral=0.4,… over the model's classes, before any --class-map (classes left out share the rest) | a .json file",
    )
    .option('-r, --recursive', "folders: their subfolders' images and videos too (default: the folder's own files only)")
    .option('--json', 'one JSON line per image or frame');
  withDetectorOptions(cmd);
  withEngineOptions(cmd);
  showSchemaDefaults(cmd, predictSchema);
  cmd.action(async (inputs: string[], flags) => {
    // --threads is the tfjs engine's (withEngineOptions), not the predictor's onnxruntime threads.
    const { threads, ...rest } = flags;
    const o = predictSchema.parse({ ...rest, backendThreads: threads, inputs });
    refuseUnused(
      cmd,
      (['detector', 'minConfidence', 'upsample', 'inputSize', 'landmarks'] as const).map((k) => [
        k,
        !o.detect,
        'face detection, which --no-detect turns off',
      ]),
    );
    await startEngine(flags, true);
    const predictor = await createPredictor(predictorOptionsSchema.parse(o)); // the predictor's own options (parse strips the rest)
    if (predictor.detectorNote) note(predictor.detectorNote);
    const files = expandInputs(o.inputs, { recursive: o.recursive });
    const tally = predictTally();
    const stills = files.filter((f) => !isVideo(f)).length;
    const bar = o.json || stills < 2 ? null : new Progress();
    const t0 = Date.now();
    try {
      if (files.length === 0) {
        const deeper = !o.recursive && o.inputs.some(hasSubfolders);
        const hint = deeper ? 'folders are read one level deep; --recursive reads their subfolders too' : undefined;
        throw new UsageError('predict: no images or videos found in the inputs', { hint });
      }
      const timelines = o.timeline ? timelineWriter(o.timeline, files.filter(isVideo)) : null;
      const said = (file: string | null | undefined) => file && !o.json && out(`  timeline → ${file}`);
      // Photos run `concurrency` at a time, results printed in input order as they complete (predict/batch.ts).
      for await (const r of predictor.predictMany(files, predictManyOptionsSchema.parse(o))) {
        said(await timelines?.add(r));
        tally.add(r);
        const still = !isVideo(r.input!);
        if (still) bar?.done();
        printResult(r, o.json);
        if (still && r.annotated && !o.json) out(`  annotated → ${r.annotated}`);
        if (still) bar?.tick(tally.images, stills, 'predict', `${(tally.images / bar.seconds()).toFixed(1)} images/s`);
      }
      said(await timelines?.finish());
    } finally {
      bar?.done();
      await predictor.dispose();
    }
    if ((files.length > 1 || tally.images > 1) && !o.json) note(tallyText(tally, (Date.now() - t0) / 1000));
    if (tally.nothingRead()) process.exitCode = 2;
  });
  return cmd;
}

/** The face detector's flags: which detector, dlib's upsampling, thresholds, the tiny detector's input size. */
function withDetectorOptions(cmd: Command): Command {
  return cmd
    .option(
      '--detector <d>',
      "auto (dlib+tiny where fer was built with dlib, else ssd) | dlib (the paper's HOG detector + 68-point shape predictor; " +
        `${DLIB_LICENSE_NOTE}) | dlib+tiny (dlib's faces plus the turned ones tiny finds) | tiny (face-api's TinyFaceDetector) | ssd (face-api's SSD-MobileNetV1, ~2× tiny's time per image)`,
    )
    .option(
      '--upsample <n>',
      'dlib: 2× upsamplings before detecting, 0..3 or auto (photos: 1 up to ~1 megapixel, finds faces down to ~40 px; with dlib+tiny ' +
        "only around the tiny detector's small boxes, unless they cover half the photo; a number: the whole image; video frames: 0)",
      (v: string) => (v === 'auto' ? v : num(v)),
    )
    .option(
      '--min-confidence <x>',
      `face detection threshold of the detector in use (dlib's HOG score, default ${MIN_CONFIDENCE.dlib}; tiny's probability, default ${MIN_CONFIDENCE.tiny}; ` +
        `ssd's, default ${MIN_CONFIDENCE.ssdMesh}, ${MIN_CONFIDENCE.ssd} with --landmarks net), or per detector: dlib=0.2,tiny=0.8 (dlib+tiny adds tiny's faces from ` +
        `${MIN_CONFIDENCE.dlibTinyMesh}, ${MIN_CONFIDENCE.dlibTiny} with --landmarks net); mesh=x: faces whose 68 points the face mesh places are dropped under its face score x (default ${MIN_CONFIDENCE.mesh}; 0: off)`,
    )
    .option('--input-size <n>', 'tiny detector: input side, a multiple of 32 (smaller = faster, misses small faces)', num)
    .option(
      '--landmarks <m>',
      "the 68 points where dlib's model does not place them: mesh (MediaPipe's face mesh, the default; its map to 68 points was fitted on 300-W's non-commercial annotations) | net (face-api's 68-point net)",
    );
}
