/** `fer bench`: its flags (bench's options and the command's own), bench/run.ts, and the table, JSON or Markdown. */
import { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { bench, benchOptionsSchema } from '../bench/run.js';
import type { BenchResult } from '../bench/schema.js';
import { benchCells, markdownTable, summaryColumns } from '../bench/table.js';
import { withClassMap, out, startEngine, table, withEngineOptions, showSchemaDefaults } from './common.js';
import { loadWithSummary } from './printers.js';

export const benchSchema = benchOptionsSchema.extend({
  models: z.array(z.string()),
  json: z.boolean().default(false),
  markdown: z.boolean().default(false),
});

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
    const table = !o.json && !o.markdown;
    const note = (m: string) => process.stderr.write(`fer: ${m}\n`);
    const result = await bench(o.models, o, {
      startEngine: (purpose) => startEngine(flags, purpose === 'export' || o.json),
      load: (source, usage, options) => loadWithSummary(source, usage, o.json, options),
      onNote: o.json ? undefined : note,
      onRound: table ? (r, n) => note(`bench round ${r}/${n}`) : undefined,
      onRow: table
        ? (row) =>
            note(
              `${row.variant} batch ${row.batch} on ${row.provider}: ${row.throughput.toFixed(0)} img/s, p50 ${row.latencyMs.p50.toFixed(3)} ms`,
            )
        : undefined,
    });
    printBench(result, o);
  });
  return cmd;
}

/** The result as JSON, a Markdown table or the plain table (and where bench.json went). */
function printBench(result: BenchResult, o: { json: boolean; markdown: boolean; out?: string }): void {
  const rows = result.rows;
  if (o.json) {
    out(JSON.stringify(result));
    return;
  }
  if (o.markdown) {
    out(markdownTable(rows));
    return;
  }
  const { head, cells } = benchCells(rows, summaryColumns(rows, 'terminal'));
  out(table(head, cells));
  if (result.interleave && result.interleave.rounds > 1 && rows.some((r) => r.rounds?.vsFirst))
    out(
      `\n${result.interleave.rounds} interleaved rounds (${result.interleave.order} order); ratios are to the first model, taken per round: median (interquartile range)`,
    );
  if (o.out) out(`\nwrote ${path.join(o.out, 'bench.json')}, ${path.join(o.out, 'bench.png')}`);
}
