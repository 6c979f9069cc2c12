/** The JSON that `fer bench --json` prints and writes (bench.json): one zod schema, shared with the report. */
import { z } from 'zod';

export const benchRowSchema = z.object({
  model: z.string(),
  variant: z.string(),
  engine: z.enum(['onnxruntime', 'tfjs']),
  /** The execution provider (onnxruntime) or tfjs backend that ran the model. */
  provider: z.string(),
  /** What was asked for (`--provider`: auto, cuda, …) where it differs in kind from `provider`; absent in older files. */
  requestedProvider: z.string().optional(),
  batch: z.number().int().positive(),
  threads: z.number().int().nonnegative(),
  iterations: z.number().int().positive(),
  latencyMs: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), mean: z.number() }),
  throughput: z.number().positive(),
  cpuPercent: z.number().nonnegative(),
  memPercent: z.number().nonnegative(),
  peakRssMb: z.number().positive(),
  fileBytes: z.number().int().nonnegative(),
  parameters: z.number().int().nonnegative(),
  nonzeroParameters: z.number().int().nonnegative(),
  /** Multiply-adds per image (convolutions and dense layers); absent in bench.json files older than it. */
  macs: z.number().int().nonnegative().optional(),
  accuracy: z.number().min(0).max(1).nullable(),
});

export const benchResultSchema = z.object({
  machine: z.object({ cpu: z.string(), cores: z.number(), memoryGb: z.number(), platform: z.string(), node: z.string(), ort: z.string() }),
  date: z.string(),
  rows: z.array(benchRowSchema),
  notes: z.array(z.string()),
});

export type BenchRow = z.infer<typeof benchRowSchema>;
export type BenchResult = z.infer<typeof benchResultSchema>;
