/**
 * fer's public API (named re-exports only). Importing it changes no process-wide state: tfjs backends and
 * onnxruntime's log level are set when a function first needs them; sharp's threads and cache are never set
 * by the library (the CLI sets them, io/image.ts configureSharp).
 */
export {
  createPredictor,
  predictorOptionsSchema,
  type Predictor,
  type PredictorOptions,
  type PredictInput,
  type PredictResult,
  type FaceResult,
} from './predict/predictor.js';
export { type RawImage } from './io/image.js';
export { type Box, type Point, DETECTORS, type Detector } from './detect/faces.js';
export { loadDataset, spreadSample, type Dataset } from './data/dataset.js';
export { CLASSES, IMAGE_SIZE, NUM_CLASSES } from './data/classes.js';
export { makeBatch, PREPROCESS } from './data/augment.js';
export { ARCHS, type Arch } from './model/archs.js';
export { type FerMetadata, type LayersModelLike } from './model/types.js';
export { useBackend, BACKENDS } from './engine/backend.js';
export { train, type TrainEvent, type TrainResult } from './train/fit.js';
export { trainOptionsSchema, type TrainOptions } from './train/options.js';
export { finetune } from './train/finetune.js';
export { evaluateModel } from './eval/evaluate.js';
export { computeMetrics } from './eval/metrics.js';
export { magnitudeMask, twoFourMask, scheduledSparsity, compressionRatio, sparsityReport } from './prune/prune.js';
export { quantize, dequantize, fakeQuantize, toFloat16, roundTripFloat16 } from './quantize/quantize.js';
export { PRECISIONS, INT8_TARGETS, type Precision, type Int8Target } from './onnx/precision.js';
export { exportOnnx, type ExportOptions, type ExportResult } from './convert/export.js';
export { inspectOnnx } from './onnx/inspect.js';
export { createSession, availableProviders } from './runtime/ort.js';
export { evaluateOnnx } from './eval/evaluate-onnx.js';
export { benchOnnx, benchTfjs } from './bench/bench.js';
export { detectFaces, alignFace } from './detect/faces.js';
export { predictFile, predictRaw } from './predict/predict.js';
export {
  createTracker,
  followFaces,
  labelChangesPerSecond,
  type FaceTracker,
  type TrackOptions,
  type TrackedFace,
} from './predict/track.js';
export { loadClassifier } from './predict/classifier.js';
export { renderReport, reportSections } from './report/report.js';
// The stage functions that take or return a tfjs model, typed with LayersModelLike (no tfjs .d.ts in the root entry).
export {
  buildModel,
  miniXception,
  loadModel,
  saveModel,
  transplantWeights,
  pruneModel,
  modelSparsity,
  calibrate,
  convertToOnnx,
} from './api/models.js';
export { FerError, UsageError, ModelError, RuntimeFailure } from './errors.js';
