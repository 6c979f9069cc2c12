/** Evaluates a saved model (tfjs or ONNX) on a dataset. */
import { writeOutput } from '../io/output.js';
import path from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { loadModel, readModelClasses } from '../model/io.js';
import { mergesOutputs, probabilityMerger } from '../data/classes.js';
import { prepareQuantized } from '../quantize/model.js';
import { predictProbs, type OnProgress, type Tta } from './probs.js';
import { argmaxRows, calibration, computeMetrics, type Calibration, type EvalMetrics } from './metrics.js';
import { shiftPrior } from '../data/prior.js';
import { heatmap, linePanel, svgDoc } from '../plot/svg.js';
import { svgToPng } from '../io/image.js';
import { UsageError } from '../errors.js';

export interface EvalResult extends EvalMetrics {
  model: string;
  data: string;
  tta: Tta;
  /** How well its top-1 probabilities match its accuracy (expected calibration error, reliability bins). */
  calibration: Calibration;
  /** Probabilities and predictions, for reports (not serialized by default). */
  predictions?: Int32Array;
}

/** A class map: the dataset's classes, each the list of the model's classes it sums (data/class-map.ts). */
export type ClassMap = Record<string, readonly string[]>;

/**
 * What is done to a model's probabilities before they are scored: moved from the prior it was trained at to
 * another (`prior`, both over the model's classes: data/prior.ts), then summed into a class map's classes.
 */
export interface ProbsTransform {
  prior?: { from: ArrayLike<number>; to: ArrayLike<number> };
  classMap?: ClassMap;
}

/** `probs` over `modelClasses` after `t`. */
export function transformedProbs(probs: Float32Array, modelClasses: readonly string[], t: ProbsTransform): Float32Array {
  const shifted = t.prior ? shiftPrior(probs, modelClasses.length, t.prior.from, t.prior.to) : probs;
  return mergedProbs(shifted, modelClasses, t.classMap);
}

/**
 * A saved tfjs model on `ds`. With a `classMap` that merges the model's classes (e.g. FER2013's seven into
 * valence), its probabilities are summed into the map's classes, which `ds` is then labelled in; with a
 * `prior`, they are first moved to it.
 */
export async function evaluateModel(
  modelPath: string,
  ds: Dataset,
  tta: Tta = 'none',
  onProgress?: OnProgress,
  t: ProbsTransform = {},
): Promise<EvalResult> {
  const probs = await modelProbs(modelPath, ds, tta, onProgress);
  // The model's classes are read (model.json again) only when a transform needs them.
  return resultFromProbs(t.classMap || t.prior ? transformedProbs(probs, readModelClasses(modelPath), t) : probs, ds, modelPath, tta);
}

/** Probabilities over `modelClasses` summed into the map's classes when the map merges them; else as they are. */
export function mergedProbs(probs: Float32Array, modelClasses: readonly string[], classMap?: ClassMap): Float32Array {
  return classMap && mergesOutputs(modelClasses, classMap) ? probabilityMerger(modelClasses, classMap).merge(probs) : probs;
}

/** A saved tfjs model's class probabilities over `ds` (averaged over the views of `tta`); the model is freed. */
export async function modelProbs(
  modelPath: string,
  ds: Pick<Dataset, 'images' | 'size'>,
  tta: Tta = 'none',
  onProgress?: OnProgress,
): Promise<Float32Array> {
  const { model, meta } = await loadModel(modelPath);
  prepareQuantized(model, meta);
  const probs = predictProbs(model, ds.images, ds.size, tta, undefined, onProgress);
  model.dispose();
  return probs;
}

/** Metrics of probabilities [n × classes] whose columns are `ds.classes` (the dataset is loaded in the model's classes). */
export function resultFromProbs(probs: Float32Array, ds: Dataset, model: string, tta: Tta): EvalResult {
  const k = ds.classes.length;
  if (probs.length !== ds.size * k) {
    throw new UsageError(
      `eval: ${model} outputs ${probs.length / Math.max(1, ds.size)} classes, the data has ${k} (${ds.classes.join(', ')})`,
    );
  }
  const predictions = argmaxRows(probs, k);
  const metrics = computeMetrics(ds.labels, predictions, ds.classes);
  return { model, data: ds.source, tta, ...metrics, calibration: calibration(probs, ds.labels, k), predictions };
}

export async function writeConfusionPng(r: EvalMetrics, file: string, title = 'Confusion matrix (row-normalized, %)'): Promise<void> {
  await svgToPng(
    heatmap(
      r.confusionNormalized,
      r.perClass.map((c) => c.name),
      title,
    ),
    file,
  );
}

/** The reliability diagram: accuracy against mean top-1 probability per confidence bin, beside the diagonal. */
export async function writeCalibrationPng(r: Pick<EvalResult, 'calibration'>, file: string): Promise<void> {
  // Bins of a handful of images are noise on the plot (ECE weighs them by their count already).
  const n = r.calibration.bins.reduce((a, b) => a + b.count, 0);
  const bins = r.calibration.bins.filter((b) => b.count >= Math.min(10, Math.max(1, 0.005 * n)));
  const panel = linePanel(
    0,
    0,
    560,
    420,
    `Reliability (expected calibration error ${(r.calibration.ece * 100).toFixed(1)}%)`,
    [
      { name: 'model', color: '#4c78a8', points: bins.map((b) => [b.confidence, b.accuracy]) },
      {
        name: 'calibrated',
        color: '#999',
        dashed: true,
        points: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
    { xLabel: 'top-1 probability (mean per bin)', yMin: 0, yMax: 1 },
  );
  await svgToPng(svgDoc(560, 420, panel), file);
}

/** Up to `n` labelled examples for reports: misclassified first, both spread over the classes. */
export function pickSamples(r: EvalResult, ds: Dataset, n = 40): EvalSample[] {
  if (!r.predictions) return [];
  const wrong: EvalSample[] = [],
    right: EvalSample[] = [];
  for (let i = 0; i < ds.size; i++) {
    const s = { file: ds.files[i], label: ds.classes[ds.labels[i]], predicted: ds.classes[r.predictions[i]] };
    (s.label === s.predicted ? right : wrong).push(s);
  }
  const spread = (xs: EvalSample[], k: number) =>
    Array.from({ length: Math.min(k, xs.length) }, (_, j) => xs[Math.floor((j * xs.length) / Math.min(k, xs.length))]);
  const w = spread(wrong, Math.ceil(n / 2));
  return [...w, ...spread(right, n - w.length)];
}

export interface EvalSample {
  file: string;
  label: string;
  predicted: string;
}

/** eval.json in a run directory: the metrics (no per-image arrays) and a few samples for the report. */
export function writeEvalJson(r: EvalResult, dir: string, ds?: Dataset): string {
  const { predictions: _p, ...rest } = r;
  const file = path.join(dir, 'eval.json');
  writeOutput(file, JSON.stringify({ ...rest, samples: ds ? pickSamples(r, ds) : [] }, null, 1));
  return file;
}
