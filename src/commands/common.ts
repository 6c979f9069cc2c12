/** Options every command shares, and the small helpers commands use to print. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { BACKENDS, useBackend, type BackendChoice, type BackendInfo } from '../engine/backend.js';
import { modelSchema } from '../model/default.js';
import { UsageError } from '../errors.js';
import { holdNote, releaseNote } from './held-note.js';

export function parseThreads(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError(`expected a whole number of threads from 1 to 256, got "${v}"`);
  return n;
}

export function withEngineOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(BACKENDS as unknown as string[])
        .env('FER_BACKEND')
        .default('auto'),
    )
    .option('--threads <n>', 'native threads, 1..256 (default: all cores)', parseThreads);
}

/**
 * Shows each option's default in --help as the command's zod schema defines it, so that the schema stays
 * the one place a default is written. Flags (booleans) and options the schema has no default for are left.
 * Set after the option is registered, the default is only shown: commander does not fill it in, so an
 * option the user did not give reaches the action undefined and the schema (or a resumed run) decides.
 */
export function showSchemaDefaults(cmd: Command, schema: z.ZodObject): Command {
  for (const opt of cmd.options) {
    type Def = { type: string; defaultValue?: unknown; in?: { _zod: { def: Def } } };
    let def = (schema.shape[opt.attributeName()] as { _zod?: { def: Def } } | undefined)?._zod?.def;
    if (def?.type === 'pipe') def = def.in?._zod.def; // a default before a .transform()
    // An option whose help already explains its default (e.g. "the shipped model") keeps that wording.
    if (
      opt.defaultValue === undefined &&
      !opt.negate &&
      def?.type === 'default' &&
      typeof def.defaultValue !== 'boolean' &&
      !/\bdefault\b/.test(opt.description)
    ) {
      opt.default(def.defaultValue);
    }
  }
  return cmd;
}

export async function startEngine(opts: { backend?: string; threads?: number }, quiet = false): Promise<BackendInfo> {
  const info = await useBackend((opts.backend ?? 'auto') as BackendChoice, opts.threads);
  if (info.note) note(info.note);
  if (!quiet) holdNote(`backend ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  return info;
}

/** A result on stdout (one line break at the end). */
export const out = (s: string) => {
  releaseNote();
  return process.stdout.write(s.endsWith('\n') ? s : s + '\n');
};

/** A note on stderr: "fer: <message>". */
export const note = (message: string) => {
  releaseNote();
  return process.stderr.write(`fer: ${message}\n`);
};

/** `--force`: replace an earlier fer output of the same kind at --out (never anything else). */
export const withForce = (cmd: Command): Command =>
  cmd.option('--force', 'replace a fer output already at --out (nothing else is ever replaced)');

/**
 * Ctrl-C (and SIGTERM) during training: the first asks the loop to stop after the current batch and write a
 * checkpoint, the second aborts. `dispose` removes the handlers.
 */
export function stopOnSignal(): { shouldStop: () => boolean; dispose: () => void } {
  let stopRequested = false;
  const onSignal = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write('\nfer: stopping after this batch and saving a checkpoint (Ctrl-C again to abort)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    shouldStop: () => stopRequested,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The command line, as a run.json records it. */
export const commandLine = () => `fer ${process.argv.slice(2).join(' ')}`;

/** `--class-map FILE` for commands that load labelled data for a model. */
export function withClassMap(cmd: Command): Command {
  return cmd.option('--class-map <file>', "JSON merging the data's labels into the model's classes (as fer train --class-map)");
}

/** The recovery flags `fer prune` and `fer quantize` share (compress/options.ts recoverySchema). */
export function withRecoveryOptions(cmd: Command, what: 'pruned' | 'quantized'): Command {
  const source = what === 'pruned' ? 'the dense --model' : 'the unquantized --model';
  return cmd
    .option('--no-distill', `fine-tune on the labels alone (default: ${source}, or --teacher, teaches on every augmented batch)`)
    .option('--teacher <model...>', `the fine-tune's online teachers, mean probabilities (default: ${source})`)
    .option('--alpha <x>', "weight of the teacher's soft targets in the fine-tuning loss (the labels get 1 − alpha)")
    .option('--temperature <t>', "softmax temperature of the teacher's soft targets")
    .option('--lr-decay', "decay the fine-tune's learning rate along a cosine over its steps")
    .option(
      '--no-lr-decay',
      `keep it at its starting rate throughout (default: ${what === 'pruned' ? 'decay at up to 50% sparsity, not beyond' : 'kept'})`,
    )
    .option('--optimizer <o>', "the fine-tune's optimizer: adam | sgd (Nesterov momentum 0.9)")
    .option('--batch-size <n>', "the fine-tune's batch size (smaller: more steps in the same epochs)")
    .option('--seed <n>', "the fine-tune's seed (batch order, augmentation)")
    .option('--ema <d>', "keep an exponential moving average of the fine-tune's weights with this decay; the average is the result")
    .option(
      '--no-bn-reestimate',
      `keep the batch-norm statistics (default: re-estimated on --data after ${what === 'pruned' ? 'pruning and after the fine-tune' : 'the fine-tune, before calibration'})`,
    );
}

/** The schema fields of the commands that read a fer model and write another at --out (prune, quantize, compress). */
export const modelToOutFields = { model: modelSchema, out: z.string(), json: z.boolean().default(false) };

/** The --model flag of the commands that read a fer model and write another (prune, quantize, compress). */
export const withModelOption = (cmd: Command): Command =>
  cmd.option('--model <dir>', 'fer model directory, or a shipped model by name (default: the shipped model)');

/**
 * A stage stopped by Ctrl-C (its fine-tune checkpointed, `fer train --resume` continues it) exits 130 and
 * prints no result: true when `r` was interrupted.
 */
export function interrupted<T extends { interrupted: boolean }>(r: T): r is T & { interrupted: true } {
  if (r.interrupted) process.exitCode = 130;
  return r.interrupted;
}

/**
 * Flags given on the command line that do nothing in this invocation (`prune --ratio` without `--structured`, `export
 * onnx --target` at fp32, …): a usage error naming the flag and what it applies to, where they were ignored without a
 * word. `rules`: [option key, true when it does not apply here, what it applies to]. Defaults never count.
 */
export function refuseUnused(cmd: Command, rules: [key: string, unused: boolean, appliesTo: string][]): void {
  for (const [key, unused, appliesTo] of rules) {
    if (!unused || cmd.getOptionValueSource(key) !== 'cli') continue;
    const flag = cmd.options.find((opt) => opt.attributeName() === key)?.long ?? key;
    throw new UsageError(`${flag} does nothing here: it applies to ${appliesTo}`);
  }
}
