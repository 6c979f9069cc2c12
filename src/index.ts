/**
 * fer's public API (named re-exports only). Importing it changes no process-wide state: tfjs backends,
 * sharp's thread count and onnxruntime's log level are set when a function first needs them.
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
export { buildModel, miniXception, ARCHS, type Arch } from './model/mini-xception.js';
export { transplantWeights } from './model/transplant.js';
export { loadModel, saveModel, type FerMetadata } from './model/io.js';
export { useBackend, BACKENDS } from './engine/backend.js';
export { train, type TrainEvent, type TrainResult } from './train/fit.js';
export { trainOptionsSchema, type TrainOptions } from './train/options.js';
export { finetune } from './train/finetune.js';
export { evaluateModel } from './eval/evaluate.js';
export { computeMetrics } from './eval/metrics.js';
export { pruneModel, modelSparsity } from './prune/model.js';
export { magnitudeMask, twoFourMask, scheduledSparsity, compressionRatio, sparsityReport } from './prune/prune.js';
export { quantize, dequantize, fakeQuantize, toFloat16, roundTripFloat16 } from './quantize/quantize.js';
export { calibrate } from './quantize/calibrate.js';
export { convertToOnnx, PRECISIONS, INT8_TARGETS, type Precision, type Int8Target } from './convert/onnx/convert.js';
export { exportOnnx, type ExportOptions, type ExportResult } from './convert/onnx/export.js';
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
// One predict path for `fer predict` and the library (predictor.predictMany), its result types, and what the command prints with.
export {
  predictManyOptionsSchema,
  type PredictManyOptions,
  type PredictManyResult,
  type PredictTimings,
  type UnreadableInput,
} from './predict/predictor.js';
export { expandInputs, isVideo, CROPPED_FACE_MAX_SIDE } from './predict/predict.js';
export { MIN_CONFIDENCE } from './detect/faces.js';
export { DLIB_LICENSE_NOTE } from './detect/dlib.js';
export { renderReport, reportSections } from './report/report.js';
export { FerError, UsageError, ModelError, RuntimeFailure } from './errors.js';
// `fer bench`'s interleaved timing as a library (issue #36 item 3).
export { benchInterleaved, type BenchInterleavedOptions, type BenchInterleavedResult } from './bench/bench.js';
export {
  interleave,
  roundOrder,
  summarizeRounds,
  spread,
  ROUND_ORDERS,
  type InterleaveCase,
  type InterleaveOptions,
  type InterleaveTimings,
  type RoundOrder,
  type RoundSummary,
  type Spread,
} from './bench/interleave.js';
export { type BenchRow, type BenchResult } from './bench/schema.js';
