/** `fer prune`: its flags (the prune stage's options and the command's own), compress/prune.ts, and printing. */
import { Command } from 'commander';
import { z } from 'zod';
import {
  checkPruneOptions,
  checkPruneResume,
  pruneModelDir,
  pruneOptionsSchema,
  slimModel,
  type PruneResult,
  type SlimResult,
} from '../compress/prune.js';
import { pruneText, slimText } from '../compress/text.js';
import { prepareOut } from '../io/files.js';
import {
  withClassMap,
  out,
  startEngine,
  withEngineOptions,
  withForce,
  withModelOption,
  withRecoveryOptions,
  showSchemaDefaults,
  interrupted,
  note,
  modelToOutFields,
  refuseUnused,
} from './common.js';
import { printJson, withCompressHooks } from './printers.js';
import { libraryOptions } from '../util/options.js';

export const pruneSchema = pruneOptionsSchema.extend({ ...modelToOutFields, force: z.boolean().default(false) });

export function pruneCommand(): Command {
  const cmd = new Command('prune').description(
    'prune a trained model by weight magnitude (unstructured or 2:4), optionally fine-tuning with the masks held',
  );
  withModelOption(cmd)
    .option('--target-sparsity <x>', "fraction of the exported model's weights set to zero")
    .option('--pattern <p>', 'unstructured | 2:4')
    .option(
      '--scope <s>',
      'sensitivity (with --data; the default above 0.5: each kernel pruned alone to a few levels, the KL divergence of the output on 512 images as its cost, zeros where they cost least) | lamp (the default up to 0.5: one threshold on layer-normalized LAMP scores) | erk (Erdős–Rényi-kernel densities) | layer (each layer to the target) | global (one |w| threshold)',
    )
    .option(
      '--no-reconstruct',
      'keep the surviving weights as they are (default with --data: refitted layer by layer so each layer reproduces the dense one on 512 --data images)',
    )
    .option(
      '--selection <s>',
      "with --data, which weights go: magnitude (smallest |w|, then refitted) | obs (second order, w²/[H⁻¹]ii on each layer's inputs) | sparsegpt (sequential OBS: later columns chosen after earlier removals are compensated); per-kernel counts as --scope allocates",
    )
    .option('--selection-block <n>', '--selection sparsegpt: input columns per block')
    .option('--finetune-epochs <n>', 'fine-tune this many epochs after pruning (needs --data)')
    .option('--ramp <x>', 'share of the fine-tune over which sparsity rises to the target on a cubic ramp (0: prune at once)')
    .option('--lr <x>', 'fine-tuning learning rate (default: 1e-4 up to --target-sparsity 0.5, 3e-4 beyond)')
    .option('--data <dir|csv>', 'training data for fine-tuning')
    .option('--val <dir|csv>', 'validation data for fine-tuning')
    .option(
      '--structured',
      'remove whole channels instead (a smaller dense network, faster everywhere): see --ratio, --criterion, --multiple',
    )
    .option('--ratio <x>', '--structured: share of each channel group removed')
    .option('--criterion <c>', '--structured: channel importance, bn (|batch-norm scale|) | l1 (filter L1 norm)')
    .option('--multiple <n>', "--structured: round kept channel counts up to a multiple of n (8 or 16 fill onnxruntime's CPU blocks)")
    .requiredOption('--out <dir>', 'where to write the pruned model (a run directory when fine-tuning)')
    .option('--resume', 'continue an interrupted --finetune-epochs run in <out> (the same command, with --resume)')
    .option('--json', 'print the sparsity report as JSON');
  withClassMap(withEngineOptions(withForce(withRecoveryOptions(cmd, 'pruned'))));
  showSchemaDefaults(cmd, pruneSchema);
  cmd.action(async (flags) => {
    const o = pruneSchema.parse(flags);
    checkPruneOptions(o);
    refuseUnused(cmd, [
      ['ratio', !o.structured, '--structured (a channel prune; a weight prune takes --target-sparsity)'],
      ['criterion', !o.structured, '--structured'],
      ['multiple', !o.structured, '--structured'],
      ['pattern', o.structured, 'a weight prune, not --structured'],
      ['targetSparsity', o.structured, 'a weight prune (--structured takes --ratio)'],
    ]);
    if (o.resume) checkPruneResume(o.out);
    else prepareOut(o.out, o.finetuneEpochs > 0 ? 'run' : 'model', o.force, [o.model]);
    await startEngine(flags, o.json);
    await withCompressHooks(o, o.out, async (hooks) => {
      if (o.structured) printSlim(await slimModel(o.model, o.out, libraryOptions(pruneOptionsSchema, o), hooks), o.json);
      else printPruned(await pruneModelDir(o.model, o.out, libraryOptions(pruneOptionsSchema, o), hooks), o.json);
    });
  });
  return cmd;
}

/** An interrupted fine-tune: where its checkpoint is, and how to continue (exit 130). */
function stoppedNote<T extends PruneResult | SlimResult>(r: T): r is T & { interrupted: true } {
  if (!interrupted(r)) return false;
  note(`the fine-tune stopped with a checkpoint in ${r.run}: the same command with --resume continues it`);
  return true;
}

function printPruned(r: PruneResult, json: boolean): void {
  if (stoppedNote(r)) return;
  const { interrupted: _i, finetune: _f, model, ...report } = r;
  if (!printJson(json, { model, ...report })) out(pruneText(r));
}

function printSlim(r: SlimResult, json: boolean): void {
  if (stoppedNote(r)) return;
  const { model, channels, parameters, macs, layers } = r;
  if (!printJson(json, { model, channels, parameters, macs, layers })) out(slimText(r));
}
