/** `fer compress`: its flags (compressModel's options and the command's own), compress/search.ts, and printing. */
import { Command } from 'commander';
import { checkDataPaths } from '../compress/options.js';
import {
  compressModel,
  compressOptionsSchema,
  compressText,
  type CompressProgress,
  type TrainEvent,
  trainOptionsSchema,
} from '../index.js';
import {
  commandLine,
  interrupted,
  note,
  out,
  showSchemaDefaults,
  startEngine,
  stopOnSignal,
  withEngineOptions,
  withModelOption,
  withRecoveryOptions,
  modelToOutFields,
} from './common.js';
import { Progress } from './progress.js';
import { loadWithSummary, printJson, trainingTimeLeft } from './printers.js';
import { libraryOptions } from '../util/options.js';

export const compressSchema = compressOptionsSchema.extend(modelToOutFields);

export function compressCommand(): Command {
  const cmd = new Command('compress').description(
    'search compressed variants of a model (pruning, channel slimming, a faster architecture, int8/int4) and keep the fastest or smallest within an accuracy budget',
  );
  withModelOption(cmd)
    .requiredOption('--data <dir|csv>', 'training data: fine-tunes, batch-norm re-estimation, int8 calibration')
    .requiredOption('--val <dir|csv>', "validation data: every variant's accuracy, from its ONNX export")
    .option('--max-drop <points>', 'largest accuracy drop against the original on --val, in percentage points')
    .option(
      '--target <t>',
      'latency (structured pruning, distillation into mini-xception-s2c2-x2, int8 where not slower) | size (unstructured pruning + int8; int4 after a quantization-aware fine-tune)',
    )
    .option('--budget-minutes <n>', 'start no variant that would end past this budget (estimated from the variants done)')
    .option('--no-reconstruct', 'skip the layer-wise refit of kept weights after unstructured pruning (faster, less accurate)')
    .option('--finetune-epochs <n>', 'fine-tune epochs after each pruning, and of each int4 quantization (at least 1)')
    .option('--sparsities <list>', '--target size: unstructured sparsities tried, comma-separated')
    .option('--ratios <list>', '--target latency: channel-pruning ratios tried, comma-separated')
    .option(
      '--arch-epochs <n>',
      '--target latency: epochs of the distillation into mini-xception-s2c2-x2 (default: what fits --budget-minutes, at most 240, else 60; 0: not run)',
    )
    .option('--only <names>', 'only these variants, comma-separated (e.g. int8,prune50-int8)')
    .option('--tta <mode>', 'test-time augmentation of the --val evaluation (none | flip | tencrop)')
    .option('--calibration-images <n>', 'int8 calibration images from --data')
    .option('--bench-iterations <n>', 'timed runs per model and batch size in the interleaved bench')
    .option('--bench-rounds <n>', 'interleaved rounds of the bench')
    .option('--bench-warmup <n>', 'untimed runs per model and batch size first')
    .option('--resume', 'continue the run in --out: the variants it finished are skipped')
    .requiredOption('--out <dir>', 'where to write compress.json, pareto.md/png, the variants and chosen/')
    .option('--json', 'print compress.json on stdout');
  withEngineOptions(withRecoveryOptions(cmd, 'pruned'));
  showSchemaDefaults(cmd, compressSchema);
  cmd.action(async (flags) => {
    const o = compressSchema.parse(flags);
    checkDataPaths(o); // the library checks only without a loader of its caller's (this command passes one)
    await startEngine(flags, o.json);
    const stop = stopOnSignal();
    const bar = new Progress();
    const r = await compressModel(o.model, o.out, libraryOptions(compressOptionsSchema, o), {
      load: (source, usage, options) => loadWithSummary(source, usage, true, options),
      onVariant: (p) => showProgress(bar, p),
      onEvent: o.json ? undefined : fineTuneBar(bar, o.batchSize ?? trainOptionsSchema.parse({}).batchSize),
      onNote: o.json ? undefined : (m) => (bar.done(), note(m)), // the bar's line cleared first
      shouldStop: stop.shouldStop,
      runJson: { command: commandLine() },
    }).finally(() => stop.dispose());
    bar.done();
    if (interrupted(r)) {
      note(`compress stopped; ${r.variants.length} variant(s) kept in ${o.out}: continue with --resume`);
      return;
    }
    if (!printJson(o.json, r)) out(compressText(r));
  });
  return cmd;
}

/** A variant's fine-tune as the bar's line (its epoch, batch and time left), not a line per epoch: a compress run fine-tunes many. */
function fineTuneBar(bar: Progress, batchSize: number): (e: TrainEvent) => void {
  let epochs = 0;
  return (e) => {
    if (e.type === 'start') epochs = e.epochs;
    else if (e.type === 'batch')
      bar.update(e.batch, e.batches, `compress fine-tune epoch ${e.epoch + 1}/${epochs}`, '', trainingTimeLeft(e, epochs, batchSize));
  };
}

function showProgress(bar: Progress, p: CompressProgress): void {
  if (p.phase === 'bench') {
    bar.done(`fer: compress: benchmarking the ${p.total} variants and the original, interleaved`);
    return;
  }
  const what = { start: 'building', done: 'built', resumed: 'already done:', skipped: 'skipped' }[p.phase];
  // a variant's start draws the bar (a log gets its first line, then one every 30 s); its end is one line
  if (p.phase === 'start') bar.update(p.index, p.total, `compress ${what} ${p.name}`, '', p.etaSeconds);
  else bar.done(`fer: compress ${what} ${p.name} (${p.index + 1}/${p.total})`);
}
