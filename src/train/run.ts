/**
 * What a training run reads and where, before train() starts: a new run's --out checked, or an interrupted
 * run's run.json read back for `--resume` (its data, and the options it started with, which cannot change).
 * The data-source record is an object the caller hands in: train/ merges it with run.json key by key and
 * checks the fields it knows (data, val, usage, valUsage); the rest (a face detector, a multi-face rule) the
 * caller checks, so that train/ needs nothing from detect/ or predict/.
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { hasLeftovers, isFerRunDir } from '../io/files.js';
import { CSV_USAGES, isCsv, loadData, type CsvUsage, type Dataset } from '../data/dataset.js';
import { readClassMap } from '../data/class-map.js';
import type { ClassSpec } from '../data/classes.js';
import { useBackend } from '../engine/backend.js';
import { NATIVE_BACKEND, setNativeConvBf16 } from '../engine/native/backend.js';
import { resolveTeachers } from '../model/default.js';
import { loopStateSchema, readRunFile, resumeRunSchema } from './checkpoint.js';
import { readMetrics } from './curves.js';
import { train, type TrainResult } from './fit.js';
import { trainOptionsSchema, type TrainOptions, type TrainOptionsInput } from './options.js';
import { ModelError, UsageError } from '../errors.js';
import type { TrainEvent } from './types.js';
import { makeDirs } from '../io/make-dirs.js';
import { flagOf, parseOptions } from '../util/options.js';

/** The defaults of where a run goes and what it validates on (applied after --resume has filled in run.json's). */
export const runInputsSchema = z.object({
  out: z.string().default('runs/train'),
  valUsage: z.enum(CSV_USAGES).default('PublicTest'),
});
const DEFAULTS = runInputsSchema.parse({});

/** The data a run trains and validates on; other keys (e.g. `detect`) travel along, merged with run.json alike. */
export interface RunSource {
  data?: string;
  val?: string;
  usage?: CsvUsage;
  valUsage?: CsvUsage;
  [key: string]: unknown;
}

export interface RunInputsRequest<S extends RunSource> {
  /** A new run's directory (default runs/train). */
  out?: string;
  /** An interrupted run's directory to continue: its run.json fills in what `source` leaves undefined. */
  resume?: string;
  source: S;
  /** The training options asked for (by their TrainOptions names): for --resume, those set must equal the run's. */
  options?: Record<string, unknown>;
  /** Notes for the user (e.g. which CSV split is trained on). */
  onNote?: (message: string) => void;
}

export interface RunInputs<S extends RunSource> {
  outDir: string;
  /** `source` with run.json's values where it had none, `data` present, `valUsage` defaulted. */
  source: S & { data: string; valUsage: CsvUsage };
  /** For --resume: the options the run started with, as run.json stores them (train with these). */
  stored?: TrainOptions;
}

/** The options a resumed run cannot change (its schedule depends on them). */
const FIXED_ON_RESUME = ['epochs', 'lr', 'schedule', 'batchSize'];

/** The --resume rules and the data checks every run gets (see the file comment). */
export function resolveRunInputs<S extends RunSource>(req: RunInputsRequest<S>): RunInputs<S> {
  const outDir = req.resume ?? req.out ?? DEFAULTS.out;
  const source: RunSource = { ...req.source };
  let stored: Record<string, unknown> | undefined;
  if (req.resume) {
    const runFile = path.join(outDir, 'run.json');
    if (!existsSync(runFile)) throw new UsageError(`train: ${req.resume} is not a fer run directory (no run.json)`);
    const prev = readRunFile(runFile, resumeRunSchema) as Record<string, unknown> & { options?: Record<string, unknown>; cwd?: string };
    for (const k of Object.keys(source)) source[k] ??= k === 'data' || k === 'val' ? fromRunCwd(prev[k], prev.cwd) : prev[k];
    stored = prev.options; // its paths absolute (fit.ts withAbsolutePaths)
    // A resumed run keeps the options it started with: say so, never ignore.
    const asked = req.options ?? {};
    const changed = FIXED_ON_RESUME.filter((k) => asked[k] !== undefined && stored && String(asked[k]) !== String(stored[k]));
    if (changed.length) {
      throw new UsageError(
        `train: --resume continues ${req.resume} with the options it started with; ${changed.map(flagOf).join(', ')} cannot change`,
        { hint: `to train further with other settings, start a new run: --init ${path.join(req.resume, 'last')}` },
      );
    }
  }
  source.valUsage ??= DEFAULTS.valUsage;
  const dataPath = source.data;
  if (!dataPath) throw new UsageError('train: data is required (a <class>/ folder tree or fer2013.csv)', { option: 'data' });
  for (const u of [source.usage, source.valUsage]) {
    if (u && !CSV_USAGES.includes(u)) throw new UsageError(`train: unknown CSV usage "${u}" (expected: ${CSV_USAGES.join(', ')})`);
  }
  // Kaggle's fer2013.csv holds all three splits: train on Training unless told, never on every row.
  if (isCsv(dataPath) && !source.usage) {
    source.usage = 'Training';
    req.onNote?.(`${dataPath}: training on its Training rows (--usage to choose)`);
  }
  const valPath = source.val;
  if (valPath && isCsv(valPath) && path.resolve(valPath) === path.resolve(dataPath) && source.valUsage === source.usage) {
    throw new UsageError(`train: --val ${valPath} with --val-usage ${source.valUsage} is the training split itself`, {
      hint: 'validate on PublicTest (the default)',
    });
  }
  return { outDir, source: source as RunInputs<S>['source'], stored: stored && storedOptions(stored, outDir) };
}

/**
 * A data path run.json stores as typed, relative to the folder the run started in (its `cwd`): resolved there when
 * it exists there, so `--resume` works from any folder; else as it is (a run from before `cwd` was recorded).
 */
function fromRunCwd(p: unknown, cwd: string | undefined): unknown {
  if (typeof p !== 'string' || !cwd || path.isAbsolute(p)) return p;
  const there = path.resolve(cwd, p);
  return existsSync(there) ? there : p;
}

/** A resumed run's options as run.json stores them: a bad value there is the file's fault (exit 3), not a flag's. */
function storedOptions(stored: unknown, outDir: string): TrainOptions {
  const parsed = trainOptionsSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ModelError(`${path.join(outDir, 'run.json')}: options.${issue.path.join('.') || '?'}: ${issue.message}`, {
    hint: 'the run cannot be resumed as it is; start a new one with another --out',
  });
}

/**
 * Before the data is loaded: a new run's --out must be creatable, and not a file or a folder of other files
 * (a run writes run.json, metrics.jsonl, best/, last/ there; it never mixes them with someone's files).
 */
export function checkRunOut(outDir: string): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new UsageError(`train: --out ${outDir} exists and is a file; give a folder fer can create`);
    if (readdirSync(outDir).length > 0 && !isFerRunDir(outDir)) {
      throw new UsageError(`train: --out ${outDir} exists and is not a fer run; refusing to write into it`, { hint: 'pick another --out' });
    }
  }
  makeDirs(outDir); // fails now (exit 2, naming it) if it cannot be created
}

/** A folder removed only when it holds nothing (rmdir fails on any file, which is then kept). */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone
  }
}

/** Before the data is loaded: a new run does not start over a checkpoint someone left there. */
export function checkNoCheckpoint(outDir: string): void {
  if (existsSync(path.join(outDir, 'checkpoint'))) {
    throw new UsageError(`train: ${outDir} already holds a run`, { hint: `continue it with --resume ${outDir}, or pick another --out` });
  }
}

/** bf16 convolutions need the native engine: checked once the engine is chosen, before the data is loaded. */
export function checkConvBf16(backend: string): void {
  if (backend !== NATIVE_BACKEND)
    throw new UsageError(`train: --bf16 needs the native engine (backend ${backend})`, { hint: '--backend native' });
}

/**
 * Turns bf16 convolutions on (true), or leaves float32 where this CPU has no bf16 kernel (false). Turn them
 * off again with `convBf16(false)` however the run ends: the engine outlives a run (library use, tests).
 */
export function convBf16(on: boolean): boolean {
  return setNativeConvBf16(on);
}

/** How trainRun starts the engine, reads the data and reports; every field optional. */
export interface TrainRunHooks {
  /** Chooses the tfjs engine once the run's inputs are checked, before the data loads (default useBackend('auto')). */
  startEngine?: () => Promise<{ name: string; threads: number }>;
  /**
   * Reads the training and validation sets in the run's classes (default: loadDataset of the source's data and
   * val, the val set in the training set's classes), e.g. photos cropped by a face detector.
   */
  loadData?: (classes: ClassSpec) => Promise<{ trainSet: Dataset; valSet: Dataset | null }>;
  /** Called as the training loop starts (the CLI's Ctrl-C handlers): `shouldStop` asked between batches, `dispose` however it ends. */
  interrupts?: () => { shouldStop: () => boolean; dispose: () => void };
  onEvent?: (e: TrainEvent) => void;
  /** One-line notes (no bf16 kernel on this CPU). */
  onNote?: (message: string) => void;
  /** Recorded first in run.json (e.g. the command line), before the data source and the engine. */
  runJson?: Record<string, unknown>;
}

/**
 * A training run as `fer train` makes it, from its inputs (resolveRunInputs: a new run's, or for `resume` the
 * interrupted run's) and its options: the checks that fail before the data loads (a new run's --out and
 * teachers), the engine, the data in the options' classes, bf16 convolutions on for the run when asked, and
 * train() into `r.outDir` with run.json recording the source and the engine.
 */
export async function trainRun<S extends RunSource>(
  r: RunInputs<S>,
  optionsIn: TrainOptionsInput,
  o: { resume?: boolean; bf16?: boolean } = {},
  hooks: TrainRunHooks = {},
): Promise<TrainResult> {
  const options = parseOptions(trainOptionsSchema, optionsIn, 'trainRun'); // a library caller's partial options, at fer train's defaults
  const classes: ClassSpec = { classes: options.classes, map: options.classMap ? readClassMap(options.classMap) : undefined };
  if (options.reviveDead && !options.init && !o.resume)
    throw new UsageError('train: --revive-dead needs --init <model> (a fresh network has no dead channels)');
  const finished = o.resume ? finishedRun(r.outDir) : null;
  if (finished) {
    hooks.onNote?.(finished.note);
    return finished.result;
  }
  const created = !existsSync(r.outDir);
  if (!o.resume) {
    resolveTeachers(options.teacher); // fails fast, before the data loads
    checkRunOut(r.outDir);
    checkNoCheckpoint(r.outDir);
  }
  let info: Awaited<ReturnType<NonNullable<TrainRunHooks['startEngine']>>>, trainSet: Dataset, valSet: Dataset | null;
  try {
    info = await (hooks.startEngine ?? (() => useBackend('auto')))();
    if (o.bf16) checkConvBf16(info.name);
    ({ trainSet, valSet } = await (hooks.loadData ?? loadSource(r.source))(classes));
  } catch (e) {
    // a run that never started (bad --data or --val, no engine) leaves no empty --out behind
    if (created) removeIfEmpty(r.outDir);
    throw e;
  }
  // From here on, bf16 is turned off again however the run ends: the engine outlives it (library use, tests).
  const bf16 = !!o.bf16 && convBf16(true);
  if (o.bf16 && !bf16) hooks.onNote?.('--bf16: this CPU has no bf16 convolution kernel (oneDNN needs AVX-512); training in float32');
  const runJson = {
    ...hooks.runJson,
    cwd: process.cwd(), // what the relative paths in it are relative to (--resume from another folder)
    ...r.source,
    backend: info.name,
    threads: info.threads,
    convolutions: bf16 ? 'bf16' : 'f32',
    started: new Date().toISOString(),
  };
  const stop = hooks.interrupts?.();
  try {
    return await train(trainSet, valSet, options, {
      out: r.outDir,
      resume: !!o.resume,
      onEvent: hooks.onEvent,
      shouldStop: stop?.shouldStop,
      runJson,
    });
  } finally {
    stop?.dispose();
    if (bf16) convBf16(false);
  }
}

/**
 * A run to resume that has nothing left (its last epoch, or its early stop, checkpointed): its result as the
 * run ended, read from its files without the engine or the data. Null when there is something to resume.
 */
export function finishedRun(outDir: string): { result: TrainResult; note: string } | null {
  const stateFile = path.join(outDir, 'checkpoint', 'state.json');
  // A lock (a live run, or a dead one's), or a write cut short (dir.tmp-PID, dir.old-PID): train() sorts those out.
  const unsettled = existsSync(path.join(outDir, 'lock')) || ['checkpoint', 'best', 'last'].some((d) => hasLeftovers(path.join(outDir, d)));
  if (!existsSync(stateFile) || unsettled) return null;
  const s = readRunFile(stateFile, loopStateSchema) as z.infer<typeof loopStateSchema>;
  const { epochs, patience } = s.options;
  const done = s.epoch >= epochs && s.batch === 0;
  const early = !done && s.batch === 0 && patience > 0 && s.epoch - s.bestEpoch >= patience;
  if (!done && !early) return null;
  const best = `best val accuracy ${(s.bestValAcc * 100).toFixed(2)}% at epoch ${s.bestEpoch}`;
  const how = done ? `finished its ${epochs} epochs` : `stopped early after epoch ${s.epoch} of ${epochs}`;
  return {
    result: {
      history: readMetrics(outDir),
      bestValAcc: s.bestValAcc,
      bestEpoch: s.bestEpoch,
      stopReason: done ? 'done' : 'early-stopping',
      outDir,
    },
    note: `train: ${outDir} ${how} (${best}): nothing to resume; to train further, start a new run from ${path.join(outDir, 'last')} (--init)`,
  };
}

/** The default data of a run: its source's training and val sets, loaded in the run's classes (val as training merged). */
const loadSource = (s: RunSource & { data: string }) => async (classes: ClassSpec) => {
  const trainSet = await loadData(s.data, s.usage, { classes });
  const valSet = s.val ? await loadData(s.val, s.valUsage, { classes: { ...classes, classes: trainSet.classes } }) : null;
  return { trainSet, valSet };
};
