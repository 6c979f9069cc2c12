/**
 * The compress stage (`fer compress`, issue 36 item 2): builds the variants that make sense for a target with the
 * prune and quantize stages, exports each to ONNX, measures accuracy on --val and latency/throughput in one
 * interleaved bench with the original, and keeps the cheapest variant within the accuracy budget. Each finished
 * variant is recorded in <out>/compress-state.json (written atomically), so `resume` skips it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadData, memoizeLoader, type DataLoader, type Dataset } from '../data/dataset.js';
import { exportOnnx } from '../convert/export.js';
import { modelDataClasses } from '../eval/evaluate-data.js';
import { benchInterleaved } from '../bench/bench.js';
import { writeOutput } from '../io/output.js';
import { readJsonFile } from '../io/files.js';
import { UsageError } from '../errors.js';
import { checkDataPaths, compressOptionsSchema, teachersOf, type CompressOptions, type CompressParsed } from './options.js';
import { buildVariant, measure, type Recovery } from './variant.js';
import { type CompressHooks } from './finetune.js';
import { chooseVariant, dropPoints, paretoFront, type CompressTarget } from './choose.js';
import type { CompressResult, VariantPlan, VariantRecord } from './compress-types.js';
import { DISTIL_ARCH, distilEpochs, NO_EPOCHS_FIT } from './distil-arch.js';
import { writeOutputs } from './outputs.js';
import { flagOf, parseOptions } from '../util/options.js';

export { compressOptionsSchema, type CompressOptions } from './options.js';

type Parsed = CompressParsed;

export interface CompressProgress {
  phase: 'start' | 'done' | 'resumed' | 'skipped' | 'bench';
  name: string;
  index: number;
  total: number;
  /** Seconds left for the remaining variants (estimated from those done). */
  etaSeconds?: number;
}

export interface CompressStageHooks extends CompressHooks {
  onVariant?: (p: CompressProgress) => void;
  /** The clock (tests: a fake one for the budget). */
  now?: () => number;
}

export const STATE_FILE = 'compress-state.json';
const pct = (x: number) => Math.round(x * 100);

/** The variants `target` tries, in order (a variant's `from` comes before it). */
export function planVariants(o: Pick<Parsed, 'target' | 'sparsities' | 'ratios' | 'only' | 'archEpochs'>): VariantPlan[] {
  const plans: VariantPlan[] =
    o.target === 'size'
      ? [
          { name: 'int8', kind: 'dense', precision: 'int8' },
          { name: 'int4', kind: 'dense', precision: 'int4' },
          ...o.sparsities.map((s) => ({ name: `prune${pct(s)}-int8`, kind: 'prune' as const, sparsity: s, precision: 'int8' as const })),
          // The smallest sparsity at 4 bits: a share of the zeros' savings with the gzip'd file's at int4.
          ...o.sparsities
            .slice(0, 1)
            .map((s) => ({ name: `prune${pct(s)}-int4`, kind: 'prune' as const, sparsity: s, precision: 'int4' as const })),
        ]
      : [
          ...o.ratios.flatMap((r) => [
            { name: `slim${pct(r)}`, kind: 'slim' as const, ratio: r, precision: 'fp32' as const },
            { name: `slim${pct(r)}-int8`, kind: 'slim' as const, ratio: r, precision: 'int8' as const, from: `slim${pct(r)}` },
          ]),
          // Last: its epochs are what the budget leaves after the quick variants.
          ...(o.archEpochs === 0
            ? []
            : [
                { name: 's2c2x2', kind: 'arch' as const, arch: DISTIL_ARCH, precision: 'fp32' as const },
                { name: 's2c2x2-int8', kind: 'arch' as const, arch: DISTIL_ARCH, precision: 'int8' as const, from: 's2c2x2' },
              ]),
        ];
  if (!o.only) return plans;
  const unknown = o.only.filter((n) => !plans.some((p) => p.name === n));
  if (unknown.length)
    throw new UsageError(
      `compress: unknown variant(s) ${unknown.join(', ')} (for --target ${o.target}: ${plans.map((p) => p.name).join(', ')})`,
    );
  // A variant built from another keeps the one it needs.
  const keep = new Set(
    o.only.flatMap((n) => [n, ...(plans.find((p) => p.name === n)?.from ? [plans.find((p) => p.name === n)!.from!] : [])]),
  );
  // The variants that cannot run stay listed, so the table says why they are missing.
  return plans.filter((p) => keep.has(p.name) || p.notRun);
}

interface State {
  version: 1;
  target: CompressTarget;
  /** The distillation's epochs, once decided (0: none fit the budget). */
  archEpochs?: number;
  done: Record<string, Omit<VariantRecord, 'latencyMs' | 'throughput' | 'latencyRatio' | 'throughputRatio' | 'dropPoints'>>;
}

/** The run's state: read back for --resume (same target), else new in an `out` that must be empty or absent. */
function openState(out: string, target: CompressTarget, resume: boolean): State {
  const file = path.join(out, STATE_FILE);
  if (!resume && existsSync(out) && readdirSync(out).length > 0)
    throw new UsageError(existsSync(file) ? `compress: ${out} already holds a compress run` : `compress: ${out} exists and is not empty`, {
      hint: 'add --resume to continue a run there, or give another --out',
    });
  if (!resume || !existsSync(file)) return { version: 1, target, done: {} };
  const s = readJsonFile(file) as State;
  if (s.target !== target)
    throw new UsageError(`compress: ${out} holds a --target ${s.target} run, not ${target}`, { hint: 'use another --out' });
  return s;
}

/** Compresses the saved model `model` into `out` (see the file comment); the engine must be chosen first (useBackend). */
export async function compressModel(
  model: string,
  out: string,
  options: CompressOptions,
  hooks: CompressStageHooks = {},
): Promise<CompressResult> {
  const o = parseOptions(compressOptionsSchema, options, 'compress');
  const now = hooks.now ?? Date.now;
  const started = now();
  if (!hooks.load) checkDataPaths(o); // first: the original's export comes before the data (a custom loader reads its own)
  const plans = planVariants(o);
  const state = openState(out, o.target, o.resume);
  const saveState = () => writeOutput(path.join(out, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  const load = memoizeLoader(hooks.load ?? loadData);
  const valSet = await load(o.val, 'PublicTest', { classes: modelDataClasses(model) });
  const recovery = { distill: o.distill, teacher: o.teacher, alpha: o.alpha, temperature: o.temperature, bnReestimate: o.bnReestimate };

  // The original: its fp32 ONNX export, measured like every variant.
  const originalOnnx = path.join(out, 'original.onnx');
  if (!existsSync(originalOnnx)) await exportOnnx(model, originalOnnx, { version: 'compress', sample: valSet });
  const original = await measure(model, originalOnnx, out, { name: 'original', kind: 'dense', precision: 'fp32' }, 0, valSet, o, hooks);

  const runnable = plans.filter((p) => !p.notRun);
  const skipped: CompressResult['skipped'] = plans.filter((p) => p.notRun).map((p) => ({ name: p.name, reason: p.notRun! }));
  let interrupted = false;
  const run: VariantRun = { model, out, o, state, saveState, skipped, started, now, hooks, load, valSet, recovery, runnable };
  for (const [index, plan] of runnable.entries()) {
    if ((await runVariant(run, plan, index)) === 'stop') {
      interrupted = true;
      break;
    }
  }

  const variants = plans.filter((p) => state.done[p.name]).map((p) => ({ ...state.done[p.name] }) as VariantRecord);
  const result: CompressResult = {
    interrupted,
    target: o.target,
    maxDrop: o.maxDrop,
    original,
    variants,
    skipped,
    pareto: [],
    options: { model, out, ...o, resume: undefined, command: commandFor(model, out, o) },
    written: [],
  };
  if (interrupted) return result;

  hooks.onVariant?.({ phase: 'bench', name: 'bench', index: runnable.length, total: runnable.length });
  await benchAll(out, original, variants, o);
  for (const v of variants) {
    v.dropPoints = dropPoints(v, original);
    const fp32 = v.plan.from ? variants.find((w) => w.name === v.plan.from) : undefined;
    if (o.target === 'latency' && fp32 && v.latencyMs! > fp32.latencyMs!) v.slowerThanFp32 = true;
  }
  const candidates = variants.filter((v) => !v.slowerThanFp32);
  result.pareto = paretoFront([original, ...candidates], o.target).map((v) => v.name);
  const choice = chooseVariant(original, candidates, o.target, o.maxDrop);
  const chosenDir = path.join(out, 'chosen');
  result.chosen = { name: choice.chosen.name, reason: choice.reason, dir: chosenDir };
  result.written = await writeOutputs(out, result, choice.chosen, model);
  return result;
}

/** The state of a compress run's variant loop, shared by its variants. */
interface VariantRun {
  model: string;
  out: string;
  o: Parsed;
  state: State;
  saveState: () => void;
  skipped: CompressResult['skipped'];
  started: number;
  now: () => number;
  hooks: CompressStageHooks;
  /** hooks.load (or loadData), each source read once. */
  load: DataLoader;
  valSet: Dataset;
  recovery: Recovery;
  runnable: VariantPlan[];
}

/** One variant of the loop: skipped (done, budget, a missing `from`), or built and measured; 'stop' when interrupted. */
async function runVariant(run: VariantRun, plan: VariantPlan, index: number): Promise<'next' | 'stop'> {
  const { model, out, o, state, saveState, skipped, started, now, hooks, load, valSet, recovery, runnable } = run;
  // The quick variants' mean time (the distillation's minutes would make every other variant look too long).
  const doneSecs = Object.values(state.done)
    .filter((r) => r.plan.kind !== 'arch')
    .map((r) => r.seconds);
  const mean = doneSecs.length ? doneSecs.reduce((a, b) => a + b, 0) / doneSecs.length : undefined;
  const left = runnable.slice(index).filter((p) => !state.done[p.name]).length;
  const eta = mean === undefined ? undefined : mean * left;
  if (state.done[plan.name]) {
    hooks.onVariant?.({ phase: 'resumed', name: plan.name, index, total: runnable.length, etaSeconds: eta });
    return 'next';
  }
  if (plan.from && !state.done[plan.from]) {
    skipped.push({ name: plan.name, reason: `${plan.from}, which it is made from, was not run` });
    return 'next';
  }
  const elapsed = (now() - started) / 1000;
  // An int8 copy of a variant built (`from`) takes seconds: only a spent budget stops it.
  const estimate = plan.from ? 0 : mean;
  if (o.budgetMinutes !== undefined && estimate !== undefined && elapsed + estimate > o.budgetMinutes * 60) {
    skipped.push({
      name: plan.name,
      reason: `budget: ${o.budgetMinutes} min would be exceeded (${(elapsed / 60).toFixed(1)} min spent, ~${(estimate / 60).toFixed(1)} min per variant)`,
    });
    hooks.onVariant?.({ phase: 'skipped', name: plan.name, index, total: runnable.length });
    return 'next';
  }
  if (hooks.shouldStop?.()) return 'stop';
  hooks.onVariant?.({ phase: 'start', name: plan.name, index, total: runnable.length, etaSeconds: eta });
  const t0 = now();
  const dir = path.join(out, 'variants', plan.name);
  if (plan.kind === 'arch' && !plan.from) {
    // The distillation's epochs: decided once (kept in the state, so --resume continues the same schedule).
    state.archEpochs ??= await distilEpochs(model, teachersOf(o, model), dir, { ...o, left: budgetLeft(o, elapsed) }, load);
    saveState();
    if (state.archEpochs === 0) {
      skipped.push({ name: plan.name, reason: NO_EPOCHS_FIT });
      return 'next';
    }
  } else rmSync(dir, { recursive: true, force: true }); // what an interrupted attempt left: this variant is redone whole
  const built = await buildVariant(model, dir, plan, state, out, o, recovery, valSet, { ...hooks, load });
  if (!built) {
    skipped.push({ name: plan.name, reason: 'interrupted (redone on --resume)' });
    return 'stop';
  }
  const rec = await measure(built.model, built.onnx, out, plan, (now() - t0) / 1000, valSet, o, hooks);
  state.done[plan.name] = rec;
  saveState();
  hooks.onVariant?.({ phase: 'done', name: plan.name, index, total: runnable.length });
  return 'next';
}

/** Seconds of --budget-minutes left after `elapsed` (undefined: no budget). */
const budgetLeft = (o: Parsed, elapsed: number) => (o.budgetMinutes === undefined ? undefined : o.budgetMinutes * 60 - elapsed);

/** The `fer compress` command line equivalent to the options (every option spelled out, defaults included). */
export function commandFor(model: string, out: string, o: Parsed): string {
  const flags = Object.entries(o).flatMap(([k, v]) => {
    if (v === undefined || k === 'resume') return [];
    if (typeof v === 'boolean')
      return v ? (k === 'distill' || k === 'bnReestimate' || k === 'reconstruct' ? [] : [flagOf(k)]) : [flagOf(k).replace(/^--/, '--no-')];
    return [`${flagOf(k)} ${Array.isArray(v) ? v.join(',') : String(v)}`];
  });
  return ['fer compress', `--model ${model}`, ...flags, `--out ${out}`].join(' ');
}

/** One interleaved bench of the original and every variant's ONNX file: p50 latency at batch 1, throughput at 64. */
async function benchAll(out: string, original: VariantRecord, variants: VariantRecord[], o: Parsed): Promise<void> {
  const all = [original, ...variants];
  const r = await benchInterleaved(
    all.map((v) => path.join(out, v.onnx)),
    { batch: [1, 64], engine: 'onnxruntime', warmup: o.benchWarmup, iterations: o.benchIterations, rounds: o.benchRounds },
  );
  for (const [k, v] of all.entries()) {
    const b1 = r.rows[k * 2],
      b64 = r.rows[k * 2 + 1];
    v.latencyMs = b1.rounds?.latencyP50Ms.median ?? b1.latencyMs.p50;
    v.throughput = b64.rounds?.throughput.median ?? b64.throughput;
    // The ratio taken round by round (both models timed in the same round), its median: steadier on a busy
    // machine than the ratio of the two medians, which it falls back to.
    v.latencyRatio = k === 0 ? 1 : (b1.rounds?.vsFirst?.latency.median ?? v.latencyMs / all[0].latencyMs!);
    v.throughputRatio = k === 0 ? 1 : (b64.rounds?.vsFirst?.throughput.median ?? v.throughput / all[0].throughput!);
  }
}
