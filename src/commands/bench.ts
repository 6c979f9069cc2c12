/** `fer bench`: inference benchmarks of ONNX (and tfjs) models, a table, JSON, Markdown and bench.png. */
import { Command } from 'commander';
import { existsSync, readdirSync, mkdirSync, mkdtempSync } from 'node:fs';
import { isFerRunDir } from '../io/files.js';
import { checkOutputFile, writeOutput } from '../io/output.js';
import { exportOnnx } from '../convert/export.js';
import { packageVersion } from '../paths.js';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { benchMachine, benchInterleaved } from '../bench/bench.js';
import { DEFAULT_ROUNDS, ROUND_ORDERS } from '../bench/interleave.js';
import { benchResultSchema, type BenchResult } from '../bench/schema.js';
import { benchCells, markdownTable } from '../bench/table.js';
import { writeBenchPng } from '../bench/chart.js';
import { DEFAULT_MODEL, MODELS_DIR, modelDir, modelName } from '../model/default.js';
import { PROVIDER_CHOICES, chooseProvider, type SessionOptions } from '../runtime/ort.js';
import { UsageError } from '../errors.js';
import { dataClassesFor, withClassMap, out, startEngine, table, withEngineOptions, showSchemaDefaults } from './common.js';
import { loadWithSummary } from './printers.js';

export const benchSchema = z.object({
  classMap: z.string().optional(),
  models: z.array(z.string()),
  provider: z.enum(PROVIDER_CHOICES).default('cpu'),
  engine: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime'),
  batch: z
    .string()
    .default('1,32')
    .transform((s, ctx) => {
      const v = s.split(',').map((x) => Number(x.trim()));
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
  data: z.string().optional(),
  out: z.string().optional(),
  json: z.boolean().default(false),
  markdown: z.boolean().default(false),
});

/** The shipped model's ONNX variants (models/onnx/*.onnx), or the tfjs model. */
export function defaultBenchModels(engine: 'onnxruntime' | 'tfjs'): string[] {
  if (engine === 'tfjs') return [DEFAULT_MODEL];
  const dir = path.join(MODELS_DIR, 'onnx');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.onnx'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
}

export function benchCommand(): Command {
  const cmd = new Command('bench')
    .description(
      'benchmark inference: latency p50/p90/p99, throughput, CPU %, memory % (Table IV), on ONNX Runtime (cpu, cuda, tensorrt) or tfjs',
    )
    .argument('[models...]', ".onnx files (or fer model dirs with --engine tfjs); default: the shipped model's variants")
    .option('--provider <p>', 'cpu | cuda | tensorrt | auto (cuda where it runs, else cpu); the one that ran is reported')
    .option('--engine <e>', 'onnxruntime | tfjs')
    .option('--batch <list>', 'batch sizes, comma-separated')
    .option('--warmup <n>', 'warm-up runs')
    .option('--iterations <n>', 'timed runs per model and batch size, shared out over the rounds')
    .option('--duration <s>', 'time each model and batch size for this many seconds in all instead')
    .option(
      '--rounds <n>',
      'interleave the models in this many rounds (each round times every model in turn; iterations/duration are shared out)',
    )
    .option('--order <o>', "each round's model order: rotate (round r starts at model r) | random")
    .option('--seed <n>', 'seed of the random order')
    .option('--fallback', 'run on cpu (with a note) when the requested provider is missing, instead of exit 2')
    .option('--graph-optimization <level>', 'disabled | basic | extended | all')
    .option('--execution-mode <m>', 'sequential | parallel')
    .option('--profile <prefix>', 'write ORT profiles with this file prefix')
    .option('--device-id <n>', 'GPU device id')
    .option('--trt-fp16', 'TensorRT: enable fp16 kernels')
    .option('--trt-int8', 'TensorRT: enable int8 kernels')
    .option('--trt-cache-dir <dir>', 'TensorRT: engine cache directory')
    .option('--data <dir|csv>', 'also measure accuracy on this labelled data')
    .option('--out <dir>', 'write bench.json and bench.png here')
    .option('--json', 'print JSON')
    .option('--markdown', 'print a Markdown table');
  withClassMap(withEngineOptions(cmd));
  showSchemaDefaults(cmd, benchSchema);
  cmd.action(async (models: string[], flags) => {
    const o = benchSchema.parse({
      ...flags,
      models,
      json: !!flags.json,
      markdown: !!flags.markdown,
      fallback: !!flags.fallback,
      trtFp16: !!flags.trtFp16,
      trtInt8: !!flags.trtInt8,
    });
    // `fer bench --out RUN` with no models: the run's own model (its best/, else last/), exported to fp32 ONNX
    // for onnxruntime, not the shipped one, so the run's report shows what the run made.
    const runModel = !o.models.length && o.out && isFerRunDir(o.out) ? modelDir(o.out) : null;
    let list = o.models.length ? o.models : defaultBenchModels(o.engine);
    if (runModel) {
      await startEngine(flags, true);
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-bench-')), `${modelName(o.out!)}.fp32.onnx`);
      if (o.engine === 'onnxruntime') {
        await exportOnnx(runModel, file, { version: packageVersion(), verify: false }); // fp32 NHWC, the schema's defaults
      }
      list = [o.engine === 'onnxruntime' ? file : runModel];
      if (!o.json) process.stderr.write(`fer: benchmarking the run's model ${runModel}\n`);
    }
    if (list.length === 0) throw new UsageError('bench: no models given and no shipped ONNX models found (run `fer export onnx` first)');
    for (const m of list) if (!existsSync(m)) throw new UsageError(`bench: no such model: ${m}`);
    // The provider is chosen before any model runs: a missing one fails now (exit 2), or with --fallback
    // or auto runs on another one with a note; every row says which provider ran it.
    const choice = o.engine === 'onnxruntime' ? await chooseProvider(o.provider, { fallback: o.fallback, what: 'bench' }) : null;
    if (o.out) mkdirSync(o.out, { recursive: true }); // a place it cannot write fails now, not after the runs
    if (o.out) for (const f of ['bench.json', 'bench.png']) checkOutputFile(path.join(o.out, f), '--out'); // never a user's file
    const notes: string[] = [];
    const backend = o.engine === 'tfjs' ? (await startEngine(flags, o.json)).name : '';
    if (choice?.note) {
      notes.push(choice.note);
      if (!o.json) process.stderr.write(`fer: bench: ${choice.note}\n`);
    }
    // Labelled data in the first model's classes (a model of other classes gets no accuracy).
    const data = o.data ? await loadWithSummary(o.data, 'PublicTest', o.json, { classes: dataClassesFor(list[0], o.classMap) }) : undefined;
    const run = await benchInterleaved(list, {
      ...o,
      backend,
      data,
      session: sessionOptions(o),
      onRound: (r, n) => {
        if (!o.json && !o.markdown) process.stderr.write(`fer: bench round ${r}/${n}\n`);
      },
    });
    const rows = run.rows;
    for (const row of rows) {
      if (runModel) row.model = runModel; // the run's model, not the temporary export
      if (!o.json && !o.markdown)
        process.stderr.write(
          `fer: ${row.variant} batch ${row.batch} on ${row.provider}: ${row.throughput.toFixed(0)} img/s, p50 ${row.latencyMs.p50.toFixed(3)} ms\n`,
        );
    }
    const result: BenchResult = benchResultSchema.parse({
      machine: benchMachine(),
      date: new Date().toISOString(),
      rows,
      notes,
      interleave: { rounds: run.rounds, order: run.order, orders: run.orders },
    });
    if (o.out) {
      mkdirSync(o.out, { recursive: true });
      writeOutput(path.join(o.out, 'bench.json'), JSON.stringify(result, null, 1));
      await writeBenchPng(result, path.join(o.out, 'bench.png'));
    }
    printBench(result, o);
  });
  return cmd;
}

/** The onnxruntime session options of the bench flags. */
function sessionOptions(o: z.infer<typeof benchSchema>): SessionOptions {
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

/** The result as JSON, a Markdown table or the plain table (and where bench.json went). */
function printBench(result: BenchResult, o: z.infer<typeof benchSchema>): void {
  const rows = result.rows;
  if (o.json) {
    out(JSON.stringify(result));
    return;
  }
  if (o.markdown) {
    out(markdownTable(rows));
    return;
  }
  const { head, cells } = benchCells(rows, [
    'variant',
    'provider',
    'batch',
    'p50',
    'p99',
    'throughput',
    'cpu',
    'mem',
    'rss',
    'size',
    'params',
    'nonzero',
    'macs',
    'accuracy',
    ...(rows.some((r) => r.rounds && r.rounds.n > 1) ? (['roundsP50'] as const) : []),
    ...(rows.some((r) => r.rounds?.vsFirst) ? (['latencyRatio', 'throughputRatio'] as const) : []),
  ]);
  out(table(head, cells));
  if (result.interleave && result.interleave.rounds > 1 && rows.some((r) => r.rounds?.vsFirst))
    out(
      `\n${result.interleave.rounds} interleaved rounds (${result.interleave.order} order); ratios are to the first model, taken per round: median (interquartile range)`,
    );
  if (o.out) out(`\nwrote ${path.join(o.out, 'bench.json')}, ${path.join(o.out, 'bench.png')}`);
}
