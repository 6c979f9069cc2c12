/**
 * The bench stage (`fer bench`): which models (given, the shipped ONNX variants, or a run's own model exported
 * for the occasion), which execution provider, labelled data for accuracy, the interleaved timing
 * (bench.ts benchInterleaved), and bench.json + bench.png written when asked.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadData, type DataLoader } from '../data/dataset.js';
import { useBackend } from '../engine/backend.js';
import { modelDataClasses } from '../eval/evaluate-data.js';
import { exportOnnx } from '../convert/export.js';
import { isFerRunDir } from '../io/files.js';
import { checkOutputFile, writeOutput } from '../io/output.js';
import { DEFAULT_MODEL, DEFAULT_ONNX, MODELS_DIR, modelDir, modelName } from '../model/default.js';
import { packageVersion } from '../paths.js';
import { PROVIDER_CHOICES, chooseProvider, type SessionOptions } from '../runtime/ort.js';
import { UsageError } from '../errors.js';
import { benchInterleaved, benchMachine } from './bench.js';
import { DEFAULT_ROUNDS, ROUND_ORDERS } from './interleave.js';
import { benchResultSchema, type BenchResult, type BenchRow } from './schema.js';
import { writeBenchPng } from './chart.js';
import { makeDirs } from '../io/make-dirs.js';
import { parseOptions } from '../util/options.js';

/** bench's options (`fer bench`'s flags by the same names), their defaults included. */
export const benchOptionsSchema = z.object({
  classMap: z.string().optional(),
  provider: z.enum(PROVIDER_CHOICES).default('cpu'),
  engine: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime'),
  /** Batch sizes: comma-separated (as the flag) or a list. */
  batch: z
    .union([z.string(), z.array(z.number())])
    .default('1,32')
    .transform((s, ctx) => {
      const v = typeof s === 'string' ? s.split(',').map((x) => Number(x.trim())) : s;
      if (v.some((n) => !Number.isInteger(n) || n < 1))
        ctx.addIssue({ code: 'custom', message: `expected comma-separated positive integers, got "${s}"` });
      return v;
    }),
  threads: z.coerce.number().int().min(0).default(0),
  warmup: z.coerce.number().int().min(0).default(10),
  iterations: z.coerce.number().int().min(1).default(100),
  duration: z.coerce.number().positive().optional(),
  rounds: z.coerce.number().int().min(1).default(DEFAULT_ROUNDS),
  order: z.enum(ROUND_ORDERS).default('rotate'),
  seed: z.coerce.number().int().optional(),
  fallback: z.boolean().default(false),
  graphOptimization: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  executionMode: z.enum(['sequential', 'parallel']).default('sequential'),
  profile: z.string().optional(),
  deviceId: z.coerce.number().int().min(0).default(0),
  trtFp16: z.boolean().default(false),
  trtInt8: z.boolean().default(false),
  trtCacheDir: z.string().optional(),
  /** Labelled data to measure accuracy on (in the first model's classes). */
  data: z.string().optional(),
  /** A folder for bench.json and bench.png; a fer run directory with no models given benchmarks the run's model. */
  out: z.string().optional(),
});
export type BenchOptions = z.input<typeof benchOptionsSchema>;

/** How bench reports and reads; every field optional. */
export interface BenchHooks {
  /** Starts the tfjs engine: to export a run's model, or to run the tfjs engine (default useBackend('auto')). */
  startEngine?: (purpose: 'export' | 'bench') => Promise<{ name: string }>;
  /** Reads --data (default loadDataset). */
  load?: DataLoader;
  /** One-line notes (the run's model benchmarked, a provider fallen back from). */
  onNote?: (message: string) => void;
  /** After each interleaved round (1-based). */
  onRound?: (round: number, rounds: number) => void;
  /** Each row, once all are timed. */
  onRow?: (row: BenchRow) => void;
}

/** The shipped model's ONNX variants (models/onnx/*.onnx), or the tfjs model. */
export function defaultBenchModels(engine: 'onnxruntime' | 'tfjs'): string[] {
  if (engine === 'tfjs') return [DEFAULT_MODEL];
  const dir = path.join(MODELS_DIR, 'onnx');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => path.join(dir, f));
  // The default model's fp32 export first: every "× first" ratio is against it (alphabetical order put the slim fp16 there).
  return [...files.filter((f) => f === DEFAULT_ONNX), ...files.filter((f) => f !== DEFAULT_ONNX)];
}

/** The onnxruntime session options of bench's options. */
function sessionOptions(o: z.infer<typeof benchOptionsSchema>): SessionOptions {
  return {
    provider: o.provider,
    fallback: o.fallback,
    threads: o.threads || undefined,
    graphOptimization: o.graphOptimization,
    executionMode: o.executionMode,
    profile: o.profile,
    deviceId: o.deviceId,
    trtFp16: o.trtFp16,
    trtInt8: o.trtInt8,
    trtCacheDir: o.trtCacheDir,
  };
}

/**
 * Benchmarks `models` (.onnx files, or fer model directories with the tfjs engine; none: the shipped model's
 * variants, or with `out` a fer run directory, the run's own model) and returns the result, written to
 * `out`/bench.json and bench.png when `out` is given.
 */
export async function bench(models: string[], options: BenchOptions = {}, hooks: BenchHooks = {}): Promise<BenchResult> {
  const o = parseOptions(benchOptionsSchema, options, 'bench');
  const startEngine = hooks.startEngine ?? (() => useBackend('auto'));
  // With no models and --out a run: the run's own model (its best/, else last/), exported to fp32 ONNX for
  // onnxruntime, not the shipped one, so the run's report shows what the run made.
  const runModel = !models.length && o.out && isFerRunDir(o.out) ? modelDir(o.out) : null;
  let list = models.length ? models : defaultBenchModels(o.engine);
  if (runModel) {
    await startEngine('export');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-bench-')), `${modelName(o.out!)}.fp32.onnx`);
    if (o.engine === 'onnxruntime') {
      await exportOnnx(runModel, file, { version: packageVersion(), verify: false }); // fp32 NHWC, the schema's defaults
    }
    list = [o.engine === 'onnxruntime' ? file : runModel];
    hooks.onNote?.(`benchmarking the run's model ${runModel}`);
  }
  if (list.length === 0) throw new UsageError('bench: no models given and no shipped ONNX models found (run `fer export onnx` first)');
  for (const m of list) if (!existsSync(m)) throw new UsageError(`bench: no such model: ${m}`);
  // The provider is chosen before any model runs: a missing one fails now (exit 2), or with fallback or
  // auto runs on another one with a note; every row says which provider ran it.
  const choice = o.engine === 'onnxruntime' ? await chooseProvider(o.provider, { fallback: o.fallback, what: 'bench' }) : null;
  if (o.out) makeDirs(o.out); // a place it cannot write fails now, not after the runs
  if (o.out) for (const f of ['bench.json', 'bench.png']) checkOutputFile(path.join(o.out, f), 'out'); // never a user's file
  const notes: string[] = [];
  const backend = o.engine === 'tfjs' ? (await startEngine('bench')).name : '';
  if (choice?.note) {
    notes.push(choice.note);
    hooks.onNote?.(`bench: ${choice.note}`);
  }
  // Labelled data in the first model's classes (a model of other classes gets no accuracy).
  const load = hooks.load ?? loadData;
  const data = o.data ? await load(o.data, 'PublicTest', { classes: modelDataClasses(list[0], o.classMap) }) : undefined;
  const run = await benchInterleaved(list, { ...o, backend, data, session: sessionOptions(o), onRound: hooks.onRound });
  for (const row of run.rows) {
    if (runModel) row.model = runModel; // the run's model, not the temporary export
    hooks.onRow?.(row);
  }
  const result: BenchResult = benchResultSchema.parse({
    machine: benchMachine(),
    date: new Date().toISOString(),
    rows: run.rows,
    notes,
    interleave: { rounds: run.rounds, order: run.order, orders: run.orders },
  });
  if (o.out) {
    makeDirs(o.out);
    writeOutput(path.join(o.out, 'bench.json'), JSON.stringify(result, null, 1));
    await writeBenchPng(result, path.join(o.out, 'bench.png'));
  }
  return result;
}
