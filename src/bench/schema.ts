/** The JSON that `fer bench --json` prints and writes (bench.json): one zod schema, shared with the report. */
import { z } from 'zod';

/** A figure over the rounds of an interleaved run (src/bench/interleave.ts): median, quartiles, min–max. */
export const spreadSchema = z.object({ median: z.number(), p25: z.number(), p75: z.number(), min: z.number(), max: z.number() });

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
  /**
   * The interleaved rounds (`--rounds`): each round's p50 and img/s summarised, and per round the ratio to the
   * first model at the same batch size (`vsFirst`, absent on the first model's rows); absent in older files.
   */
  rounds: z
    .object({
      n: z.number().int().positive(),
      latencyP50Ms: spreadSchema,
      throughput: spreadSchema,
      vsFirst: z.object({ model: z.string(), latency: spreadSchema, throughput: spreadSchema }).optional(),
    })
    .optional(),
});

export const benchResultSchema = z.object({
  machine: z.object({ cpu: z.string(), cores: z.number(), memoryGb: z.number(), platform: z.string(), node: z.string(), ort: z.string() }),
  date: z.string(),
  rows: z.array(benchRowSchema),
  notes: z.array(z.string()),
  /** How the models were interleaved: rounds, the order rule and each round's model order (indices into the models). */
  interleave: z
    .object({ rounds: z.number().int().positive(), order: z.enum(['rotate', 'random']), orders: z.array(z.array(z.number().int())) })
    .optional(),
});

export type BenchRow = z.infer<typeof benchRowSchema>;
export type BenchResult = z.infer<typeof benchResultSchema>;
