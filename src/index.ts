// fer's declarations use Node's types (Buffer, streams): referenced here so that a consumer's tsconfig need not list
// them (TypeScript 7 includes no @types by default); @types/node is a dependency for that reason.
/// <reference types="node" preserve="true" />
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
export { type Box, type Point, DETECTORS, type Detector, LANDMARK_MODELS, type LandmarkModel } from './detect/faces.js';
export { loadDataset, spreadSample, SkippedFile, skipUnreadable, type Dataset } from './data/dataset.js';
export { CLASSES, IMAGE_SIZE, NUM_CLASSES } from './data/classes.js';
export { makeBatch, PREPROCESS } from './data/augment.js';
export { ARCHS, type Arch } from './model/archs.js';
export { type FerMetadata, type LayersModelLike } from './model/types.js';
export { useBackend, BACKENDS } from './engine/backend.js';
export { train, type TrainEvent, type TrainResult } from './train/fit.js';
export { trainOptionsSchema, type TrainOptions, type TrainOptionsInput } from './train/options.js';
export { finetune } from './train/finetune.js';
export { evaluateModel } from './eval/evaluate.js';
export { computeMetrics, calibration } from './eval/metrics.js';
export { resolvePrior, shiftPrior, trainedPrior, FER2013_TRAIN_COUNTS, type PriorSpec } from './data/prior.js';
export { magnitudeMask, twoFourMask, scheduledSparsity, compressionRatio, sparsityReport } from './prune/prune.js';
export { quantize, dequantize, fakeQuantize, toFloat16, roundTripFloat16 } from './quantize/quantize.js';
export { PRECISIONS, INT8_TARGETS, type Precision, type Int8Target } from './onnx/precision.js';
export { exportOnnx, type ExportOptions, type ExportResult } from './convert/export.js';
export { inspectOnnx } from './onnx/inspect.js';
export { createSession, availableProviders } from './runtime/ort.js';
export { evaluateOnnx } from './eval/evaluate-onnx.js';
export { benchOnnx, benchTfjs } from './bench/bench.js';
export { detectFaces, alignFace } from './detect/faces.js';
export { expandInputs, isVideo, predictFile, predictRaw } from './predict/predict.js';
export {
  createTracker,
  followFaces,
  labelChangesPerSecond,
  type FaceTracker,
  type TrackOptions,
  type TrackedFace,
} from './predict/track.js';
export { loadClassifier } from './predict/classifier.js';
export { timelineSvg, writeTimeline, type TimelineOptions } from './predict/timeline.js';
// One predict path for `fer predict` and the library (predictor.predictMany), its result types, and what the command prints with.
export {
  predictManyOptionsSchema,
  type PredictManyOptions,
  type PredictManyResult,
  type PredictTimings,
  type UnreadableInput,
} from './predict/predictor.js';
export { MIN_CONFIDENCE } from './detect/faces.js';
export { renderReport, reportSections, writeReport, type ReportResult } from './report/report.js';
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
export { FerError, UsageError, ModelError, RuntimeFailure, Interrupted } from './errors.js';
// `fer bench`'s interleaved timing as a library (issue #36 item 3).
export { benchInterleaved, benchMachine, type BenchInterleavedOptions, type BenchInterleavedResult } from './bench/bench.js';
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
export { benchResultSchema, type BenchRow, type BenchResult } from './bench/schema.js';
export { benchText, summaryColumns } from './bench/table.js';
// `fer bench` as a stage function: the models chosen, the provider, accuracy data, bench.json and bench.png.
export { bench, benchOptionsSchema, type BenchOptions, type BenchHooks } from './bench/run.js';
export { writeBenchPng } from './bench/chart.js';
// The CLI's verbs as stage functions (issue 35); what only the commands need besides them is in cli-support.ts.
export { quantizeModel, quantizeOptionsSchema, type QuantizeOptions, type QuantizeResult } from './compress/quantize.js';
export { pruneModelDir, slimModel, pruneOptionsSchema, type PruneOptions, type PruneResult, type SlimResult } from './compress/prune.js';
export { type CompressHooks } from './compress/finetune.js';
export { averageModels, averageOptionsSchema, type AverageOptions, type AverageResult } from './train/average-models.js';
export { evaluate, evaluateOptionsSchema, type EvaluateOptions, type EvaluateResult } from './eval/evaluate-data.js';
export { type EvalResult } from './eval/evaluate.js';
export { resolveRunInputs, trainRun, type TrainRunHooks, type RunSource, type RunInputs, type RunInputsRequest } from './train/run.js';
export { GRANULARITIES, PRUNE_PATTERNS, PRUNE_SCOPES } from './train/options.js';
export { loadData, CSV_USAGES, type CsvUsage, type DataLoader, type LoadOptions } from './data/dataset.js';
export { TTA_MODES, type Tta } from './data/augment.js';
export { readClassMap } from './data/class-map.js';
export { parseClassList, type ClassSpec } from './data/classes.js';
export { DEFAULT_MODEL, DEFAULT_ONNX, SHIPPED_MODELS, resolveModel, resolveTeacher } from './model/default.js';
export { faceCropper, MULTI_FACE, type MultiFace } from './predict/crops.js';
// `fer train --detect`'s data: the photo source checked and loaded with each face cropped (trainRun's loadData hook).
export { checkPhotoSource, photoRunData, resolvePhotoRunInputs, type PhotoRunSource } from './predict/photo-data.js';
export { exportOptionsSchema } from './convert/options.js';
export { exportWeb, serveSite } from './web/site.js';
// `fer compress` (issue 36 item 2): the variant search, its choice rule and its report.
export {
  compressModel,
  compressOptionsSchema,
  type CompressOptions,
  type CompressProgress,
  type CompressStageHooks,
} from './compress/search.js';
export { chooseVariant, paretoFront, COMPRESS_TARGETS, type CompressTarget, type VariantMeasure, type Choice } from './compress/choose.js';
export { type CompressResult, type VariantPlan, type VariantRecord } from './compress/compress-types.js';
export { paretoMarkdown, paretoSvg } from './compress/pareto-report.js';
// The text each command prints of its stage's result (--json prints the result), for a library user to print the same.
export { textTable } from './util/text-table.js';
export { evaluationText } from './eval/text.js';
export { exportText } from './convert/text.js';
export { pruneText, slimText, quantizeText, compressText } from './compress/text.js';
export { predictionText, tallyText } from './predict/text.js';
export { predictTally, type PredictTally } from './predict/tally.js';
