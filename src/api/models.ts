/**
 * The public entry's stage functions whose signatures name a tfjs model, declared with LayersModelLike
 * (model/types.ts) in place of tf.LayersModel, so that the root entry's declarations never load tfjs's own
 * .d.ts (those of `@tensorflow/tfjs-layers` do not compile under `strict` with `skipLibCheck: false`). Each is
 * the stage function itself, only its declared type differs: a model it returns is a real tf.LayersModel, and a
 * model it takes must be one (from fer or from tfjs). The casts are checked: a signature that drifts from the
 * stage function's in anything but the model type fails to compile here.
 */
import * as io from '../model/io.js';
import * as archs from '../model/mini-xception.js';
import * as transplant from '../model/transplant.js';
import * as prune from '../prune/model.js';
import * as calibration from '../quantize/calibrate.js';
import * as convert from '../convert/convert.js';
import type { FerMetadata, LayersModelLike, TransplantReport } from '../model/types.js';
import type { Arch, ArchOptions } from '../model/archs.js';
import type { PruneSettings, SparsityReport } from '../prune/prune.js';
import type { Calibration } from '../quantize/quantize.js';
import type { ConvertOptions } from '../convert/options.js';

/** A model of one of the `--arch` architectures (ARCHS), untrained. */
export const buildModel: (arch: Arch, options?: ArchOptions) => LayersModelLike = archs.buildModel;

/** The paper's mini-Xception (58,423 parameters at width 1), untrained. */
export const miniXception: (options?: ArchOptions) => LayersModelLike = archs.miniXception;

/** A saved fer model (a directory, or its model.json) and its metadata (classes, preprocessing, compression). */
export const loadModel: (path: string) => Promise<{ model: LayersModelLike; meta: FerMetadata }> = io.loadModel;

/**
 * Writes a model directory atomically (filled under a temporary name, then swapped in). It replaces only a
 * fer model directory or an empty folder: anything else at `dir` is an error, never deleted.
 */
export const saveModel = io.saveModel as (model: LayersModelLike, dir: string, meta: FerMetadata) => Promise<void>;

/** Copies `source`'s weights into `target` wherever the shapes agree (by position); what was copied. */
export const transplantWeights = transplant.transplantWeights as (
  source: LayersModelLike,
  target: LayersModelLike,
  keep?: ReadonlySet<string>,
) => TransplantReport;

/** One-shot pruning of a model in place; returns the masks. */
export const pruneModel = prune.pruneModel as (model: LayersModelLike, settings: PruneSettings) => (Uint8Array | null)[];

/** The share of zero weights in the model's kernels, per layer and overall. */
export const modelSparsity = prune.modelSparsity as (model: LayersModelLike) => SparsityReport;

/** Activation ranges for int8 export over `n` images (max |x| and the 99.99th percentile per tensor). */
export const calibrate = calibration.calibrate as (
  model: LayersModelLike,
  images: Uint8Array,
  n: number,
  batchSize?: number,
) => Calibration;

/** The model as ONNX bytes (fp32, fp16, int8 or int4), fer's metadata included. */
export const convertToOnnx = convert.convertToOnnx as (model: LayersModelLike, meta: FerMetadata, options?: ConvertOptions) => Uint8Array;
