/**
 * The evaluate stage (`fer eval`): a saved model (tfjs directory or .onnx) on labelled data, with a class
 * map merging its probabilities or the data's labels, and eval.json + confusion.png written when asked.
 */
import path from 'node:path';
import { z } from 'zod';
import { TTA_MODES } from '../data/augment.js';
import { readClassMap } from '../data/class-map.js';
import { mergesOutputs, type ClassSpec } from '../data/classes.js';
import { CSV_USAGES, loadData, type DataLoader, type LoadOptions } from '../data/dataset.js';
import { readModelClasses, readModelPrior } from '../model/io.js';
import { accuracyAtPrior, onnxRecordedPrior, priorShift, trainedPrior } from '../data/prior.js';
import { inspectOnnx } from '../onnx/inspect.js';
import { checkOutputFile } from '../io/output.js';
import type { SessionOptions } from '../runtime/ort.js';
import {
  evaluateModel,
  writeCalibrationPng,
  writeConfusionPng,
  writeEvalJson,
  type ClassMap,
  type EvalResult,
  type ProbsTransform,
} from './evaluate.js';
import { evaluateOnnx } from './evaluate-onnx.js';
import type { OnProgress } from './probs.js';
import { makeDirs } from '../io/make-dirs.js';
import { parseOptions } from '../util/options.js';

export const evaluateOptionsSchema = z.object({
  /** The CSV split of the data. */
  usage: z.enum(CSV_USAGES).default('PublicTest'),
  tta: z.enum(TTA_MODES).default('flip'),
  /** A folder to write eval.json and confusion.png into. */
  out: z.string().optional(),
  /** A class map file (JSON): onto a model of other classes it merges the probabilities, else the data's labels. */
  classMap: z.string().optional(),
  /**
   * The class prior of the faces the model is for (data/prior.ts): `train` (as trained), `uniform`,
   * `happy=0.3,neutral=0.4,…`, a .json file, or the weights. The model's probabilities are moved to it, and
   * the accuracy expected at it is reported.
   */
  prior: z.union([z.string(), z.record(z.string(), z.number())]).default('train'),
});

/** evaluate's options (defaults as in the schema; `fer eval`'s flags by the same names). */
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema> & {
  /** Reads the data (default loadDataset). */
  load?: DataLoader;
  /** Turns each image into a face crop (e.g. a face detector's, as `fer train --detect` crops photos). */
  decoder?: LoadOptions['decoder'];
  onProgress?: OnProgress;
  /** onnxruntime session options, for an .onnx model. */
  session?: SessionOptions;
};

/** The files `out` receives. */
export const EVAL_FILES = ['eval.json', 'confusion.png', 'calibration.png'] as const;

/** The metrics, and the files written (with `out`); with a `prior` other than `train`, it and the accuracy expected at it. */
export type EvaluateResult = EvalResult & {
  written: string[];
  prior?: { classes: Record<string, number>; accuracy: number };
  /** Images of the data that could not be read (not evaluated): how many (the text output's "N skipped"). */
  skipped: number;
};

/** The classes a model was trained on: its ONNX metadata or model.json's (FER2013's when it names none). */
export function modelClasses(model: string): string[] {
  return model.endsWith('.onnx') ? inspectOnnx(model).classes : readModelClasses(model);
}

/** The prior a model's probabilities carry: the one it records, else FER2013 Training's for FER2013's classes (data/prior.ts). */
export function modelPrior(model: string, classes: readonly string[]): Float64Array | null {
  return trainedPrior(classes, model.endsWith('.onnx') ? onnxRecordedPrior(inspectOnnx(model).metadata) : readModelPrior(model));
}

/**
 * The accuracy expected at the prior `to` (over the model's classes `own`): Σ π_c · recall_c over the data's classes
 * (a merging map's class takes the sum of its members' π), π renormalized over the classes the data has images of
 * (a class without any has no recall to weigh).
 */
function priorAccuracy(r: EvalResult, own: readonly string[], to: ArrayLike<number>, map?: ClassMap): NonNullable<EvaluateResult['prior']> {
  const at = new Map(own.map((c, i) => [c, to[i]]));
  const pi = r.perClass.map((c) => (c.support ? (map ? map[c.name] : [c.name]).reduce((a, m) => a + (at.get(m) ?? 0), 0) : 0));
  const total = pi.reduce((a, b) => a + b, 0) || 1;
  const p = pi.map((v) => v / total);
  return {
    classes: Object.fromEntries(r.perClass.map((c, i) => [c.name, p[i]])),
    accuracy: accuracyAtPrior(
      r.perClass.map((c) => c.recall),
      p,
    ),
  };
}

/** Labelled data for a model: in its classes and their order, source labels merged by a class map file. */
export function modelDataClasses(model: string, classMap?: string): ClassSpec {
  return { classes: modelClasses(model), map: classMap ? readClassMap(classMap) : undefined };
}

/**
 * Evaluates `model` (a tfjs model directory or .onnx file) on the labelled `data` (a folder tree or CSV).
 * A tfjs model needs the engine chosen first (useBackend); an .onnx one runs on onnxruntime.
 */
export async function evaluate(model: string, data: string, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const o = parseOptions(evaluateOptionsSchema, options, 'evaluate', ['load', 'decoder', 'onProgress', 'session']);
  const onnx = model.endsWith('.onnx');
  // Its files go where nothing but fer's own output of them may be replaced: checked before the work.
  if (o.out) for (const f of EVAL_FILES) checkOutputFile(path.join(o.out, f), 'out');
  // A class map onto a model of other classes merges its probabilities (no retraining); onto a model of
  // the map's own classes it only merges the data's labels, as in training.
  const map = o.classMap ? readClassMap(o.classMap) : undefined;
  const own = modelClasses(model);
  const prior = priorShift(o.prior, own, () => modelPrior(model, own), model);
  const merging = !!map && mergesOutputs(own, map);
  const ds = await (options.load ?? loadData)(data, o.usage, {
    classes: merging ? { map } : { classes: own, map },
    decoder: options.decoder,
  });
  const t: ProbsTransform = { prior, classMap: map };
  const evaluated = onnx
    ? await evaluateOnnx(model, ds, o.tta, options.session ?? {}, options.onProgress, t)
    : await evaluateModel(model, ds, o.tta, options.onProgress, t);
  // The accuracy at the prior weighs the per-class recalls; with a merging map the data's classes are the map's,
  // whose prior is the sum of its members'.
  const r: EvalResult & Pick<EvaluateResult, 'prior'> = evaluated;
  if (prior) r.prior = priorAccuracy(r, own, prior.to, merging ? map : undefined);
  const written: string[] = [];
  if (o.out) {
    makeDirs(o.out);
    written.push(writeEvalJson(r, o.out, ds), ...EVAL_FILES.slice(1).map((f) => path.join(o.out!, f)));
    await writeConfusionPng(r, written[1]);
    await writeCalibrationPng(r, written[2]);
  }
  return { ...r, written, skipped: ds.skipped.length };
}
