/**
 * The documented layout of a run directory, as zod schemas: what `fer train`, `fer eval` and
 * `fer bench` write there, and what `fer report` (or any other tool) reads.
 *
 *   run.json        the command and configuration (fer train)
 *   metrics.jsonl   one EpochMetrics line per epoch (fer train)
 *   best/ last/     models (model.json carries fer metadata: pruning, quantization)
 *   eval.json       metrics, confusion matrix and samples (fer eval --out RUN)
 *   bench.json      benchResultSchema (fer bench --out RUN)
 *   compress.json   the variants measured, the Pareto front and the choice (fer compress --out DIR)
 */
import { z } from 'zod';
import { COMPRESS_TARGETS } from '../compress/choose.js';

export const runJsonSchema = z.object({
  command: z.string(),
  data: z.string().optional(),
  val: z.string().optional(),
  backend: z.string().optional(),
  threads: z.number().optional(),
  started: z.string().optional(),
  options: z.record(z.string(), z.unknown()),
});

export const epochMetricsSchema = z.object({
  epoch: z.number(),
  loss: z.number(),
  acc: z.number(),
  valLoss: z.number().nullable(),
  valAcc: z.number().nullable(),
  lr: z.number(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
  sparsity: z.number().optional(),
  channelsSilenced: z.number().optional(),
});

export const evalJsonSchema = z.object({
  model: z.string(),
  data: z.string(),
  tta: z.string(),
  n: z.number(),
  accuracy: z.number(),
  macroF1: z.number(),
  perClass: z.array(z.object({ name: z.string(), support: z.number(), precision: z.number(), recall: z.number(), f1: z.number() })),
  confusion: z.array(z.array(z.number())),
  confusionNormalized: z.array(z.array(z.number())),
  samples: z.array(z.object({ file: z.string(), label: z.string(), predicted: z.string() })).default([]),
});

export const modelMetaSchema = z.object({
  classes: z.array(z.string()),
  preprocess: z.object({ scale: z.number(), offset: z.number() }),
  arch: z.string().optional(),
  pruning: z.object({ sparsity: z.number(), pattern: z.string(), perLayer: z.record(z.string(), z.number()) }).optional(),
  quantization: z
    .object({ bits: z.number(), granularity: z.string(), activations: z.record(z.string(), z.number()).optional() })
    .optional(),
  trainedWith: z.record(z.string(), z.unknown()).optional(),
  averagedFrom: z.array(z.string()).optional(),
});

/** One variant's measures in compress.json (the fields `fer report` reads; compress writes more). */
const compressVariantSchema = z.looseObject({
  name: z.string(),
  precision: z.string(),
  accuracy: z.number(),
  balancedAccuracy: z.number(),
  bytes: z.number(),
  gzipBytes: z.number().optional(),
  latencyMs: z.number().optional(),
  throughput: z.number().optional(),
  latencyRatio: z.number().optional(),
  throughputRatio: z.number().optional(),
  dropPoints: z.number().optional(),
  slowerThanFp32: z.boolean().optional(),
});

/** compress.json, written by `fer compress --out DIR` (the fields `fer report` reads). */
export const compressJsonSchema = z.looseObject({
  target: z.enum(COMPRESS_TARGETS),
  maxDrop: z.number(),
  original: compressVariantSchema,
  variants: z.array(compressVariantSchema),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })).default([]),
  pareto: z.array(z.string()),
  chosen: z.object({ name: z.string(), reason: z.string() }).loose().optional(),
});
