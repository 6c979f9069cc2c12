/** `fer bench`: its flags (bench's options and the command's own), bench/run.ts, and the table, JSON or Markdown. */
import { Command } from 'commander';
import { z } from 'zod';
import { bench, benchOptionsSchema } from '../bench/run.js';
import { benchText, markdownTable } from '../bench/table.js';
import { withClassMap, note, out, refuseUnused, startEngine, withEngineOptions, showSchemaDefaults } from './common.js';
import { Progress } from './progress.js';
import { loadWithSummary } from './printers.js';
import { libraryOptions } from '../util/options.js';

export const benchSchema = benchOptionsSchema.extend({
  models: z.array(z.string()),
  json: z.boolean().default(false),
  markdown: z.boolean().default(false),
});

/** `bench round r/n, ETA …`: the rounds are alike, so the time left is the mean round's times those left. */
/** The rounds' progress: a bar with its ETA on a terminal, a line every 30 s in a log (a line a round flooded it). */
function roundProgress(bar: Progress): (round: number, rounds: number) => void {
  return (r, n) => {
    if (r === 0) bar.restart();
    else bar.tick(r, n, 'bench round');
    if (r === n) bar.done();
  };
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
    const o = benchSchema.parse({ ...flags, models });
    refuseUnused(
      cmd,
      (['trtFp16', 'trtInt8', 'trtCacheDir'] as const).map((k) => [k, o.provider !== 'tensorrt', '--provider tensorrt']),
    );
    const table = !o.json && !o.markdown;
    const result = await bench(o.models, libraryOptions(benchOptionsSchema, o), {
      startEngine: (purpose) => startEngine(flags, purpose === 'export' || o.json),
      load: (source, usage, options) => loadWithSummary(source, usage, o.json, options),
      onNote: o.json ? undefined : note,
      onRound: table ? roundProgress(new Progress()) : undefined,
    });
    out(o.json ? JSON.stringify(result) : o.markdown ? markdownTable(result.rows) : benchText(result, o.out));
  });
  return cmd;
}
