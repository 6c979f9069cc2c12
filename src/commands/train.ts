/** `fer train`: thin wrapper over train/fit.ts. */
import { Command } from 'commander';
import { z } from 'zod';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { isFerRunDir } from '../io/files.js';
import { readRunFile, resumeRunSchema } from '../train/checkpoint.js';
import path from 'node:path';
import { trainOptionsSchema } from '../train/options.js';
import { ARCHS } from '../model/mini-xception.js';
import { train, type TrainEvent } from '../train/fit.js';
import { loadDataset, isCsv, CSV_USAGES, type CsvUsage, type Dataset, type LoadOptions } from '../data/dataset.js';
import { FER2013_CLASSES, parseClassList, type ClassSpec } from '../data/classes.js';
import { readClassMap } from '../data/class-map.js';
import { DETECTORS, type Detector } from '../detect/faces.js';
import { faceCropper, MULTI_FACE, type MultiFace } from '../predict/crops.js';
import { UsageError } from '../errors.js';
import { out, startEngine, stopOnSignal, withEngineOptions, showSchemaDefaults } from './common.js';
import { Progress, formatDuration } from './progress.js';
import { trainingHooks } from '../train/finetune.js';
import { NATIVE_BACKEND, setNativeConvBf16 } from '../engine/native/backend.js';

/**
 * The defaults of what a run reads and where. Applied after --resume has taken from run.json what the flags
 * leave open (a resumed run keeps its own val split and multi-face rule).
 */
export const trainInputsSchema = z.object({
  out: z.string().default('runs/train'),
  valUsage: z.enum(CSV_USAGES).default('PublicTest'),
  multiFace: z.enum(MULTI_FACE).default('largest'),
});
const INPUT_DEFAULTS = trainInputsSchema.parse({});

interface Flags {
  data?: string;
  val?: string;
  out?: string;
  resume?: string;
  usage?: CsvUsage;
  valUsage?: CsvUsage;
  detect?: boolean | string;
  multiFace?: string;
  json?: boolean;
  backend?: string;
  threads?: number;
  [k: string]: unknown;
}

/** Loads a dataset, saying on stderr what it holds (per class), what was skipped and what left out. */
export async function loadWithSummary(
  source: string,
  usage: CsvUsage | undefined,
  quiet: boolean,
  o: Pick<LoadOptions, 'classes' | 'decoder'> = {},
): Promise<Dataset> {
  const t0 = Date.now();
  const bar = quiet || !o.decoder ? null : new Progress();
  const ds = await loadDataset(source, {
    usage,
    ...o,
    onProgress: bar ? (d, t) => bar.update(d, t, 'faces', 'detecting', ((Date.now() - t0) / 1000 / d) * (t - d)) : undefined,
  });
  bar?.done();
  if (!quiet) {
    const fer = ds.classes.join() === FER2013_CLASSES.join();
    const counts = fer ? ds.counts.join('/') : ds.classes.map((c, i) => `${c} ${ds.counts[i]}`).join(', ');
    process.stderr.write(
      `fer: ${source}: ${ds.size} images (${counts}) in ${((Date.now() - t0) / 1000).toFixed(1)}s` +
        (ds.skipped.length ? `, ${ds.skipped.length} skipped (e.g. ${path.basename(ds.skipped[0].file)}: ${ds.skipped[0].reason})` : '') +
        (ds.dropped ? `, ${ds.dropped} of other classes left out` : '') +
        '\n',
    );
  }
  return ds;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a FER model (mini-Xception) on FER2013-style data, with optional pruning and quantization-aware training')
    .option('--data <dir|csv>', 'training data: <dir>/<class>/*.jpg or fer2013.csv')
    .option('--val <dir|csv>', 'validation data (model selection, LR schedule)')
    .option('--usage <usage>', 'CSV split for --data (Training|PublicTest|PrivateTest)')
    .option('--val-usage <usage>', 'CSV split for --val')
    .option('--out <dir>', 'run directory')
    .option('--resume <dir>', 'continue an interrupted run in <dir>')
    .option('--epochs <n>', 'epochs')
    .option('--batch-size <n>', 'batch size')
    .option('--lr <x>', 'initial learning rate')
    .option('--optimizer <o>', 'adam | sgd (with momentum, Nesterov unless --no-nesterov)')
    .option('--momentum <x>', 'sgd: momentum')
    .option('--no-nesterov', "sgd: plain momentum instead of Nesterov's")
    .option('--min-lr <x>', 'lowest learning rate')
    .option('--schedule <s>', 'cosine | plateau | constant')
    .option('--warmup-epochs <n>', 'linear warm-up epochs')
    .option('--lr-patience <n>', 'plateau: epochs without gain before cutting the LR')
    .option('--lr-factor <x>', 'plateau: LR multiplier')
    .option('--patience <n>', 'early stopping patience in epochs (0 = off)')
    .option('--label-smoothing <x>', 'label smoothing')
    .option('--class-weights', 'weight the loss by inverse class frequency')
    .option('--no-flip', 'no horizontal flips')
    .option('--rotation <deg>', 'max random rotation')
    .option('--zoom <x>', 'max random zoom (0.1 = ±10%)')
    .option('--shift <x>', 'max random shift (fraction of side)')
    .option('--crop-scale <min>', 'random-resized crops: least share of the area a crop keeps (0 = off)')
    .option('--l2 <x>', 'L2 penalty on conv kernels')
    .option('--mixup <alpha>', 'mixup: mix image pairs and their labels by λ ~ Beta(alpha, alpha) (0 = off; 0.2 is usual)')
    .option('--cutmix <alpha>', 'cutmix: paste a box of another image, labels mixed by its area (0 = off; 1 is usual)')
    .option('--mix-prob <p>', 'share of batches mixed when --mixup/--cutmix is on')
    .option('--erasing <p>', 'random erasing: probability that an image gets a rectangle of noise (0 = off)')
    .option('--ema <decay>', 'validate and save an exponential moving average of the weights (e.g. 0.999; 0 = off)')
    .option(
      '--arch <name>',
      `${ARCHS.join(' | ')} (-s2c1/-s2c2: stride 2 in the first/second stem conv, -s2p: a stride-2 pool after the stem, -x2: twice the width; resnet18-w32/-w16: ResNet-18-style teachers, 2.8M/0.7M parameters; with --init, starts from its weights)`,
    )
    .option(
      '--init <model>',
      "start from these weights (fine-tuning; with other classes than the data's, a transfer: same features, new head)",
    )
    .option(
      '--classes <a,b,c>',
      "train these classes of the data, in this order (default: every class folder; FER2013's order for its seven)",
    )
    .option(
      '--class-map <file>',
      'JSON merging the data\'s labels into classes, e.g. {"negative":["angry","disgust","fear","sad"],"neutral":["neutral"],"positive":["happy","surprise"]}',
    )
    .option('--freeze-epochs <n>', 'first n epochs train only the classifier head (transfer)')
    .option(
      '--detect [detector]',
      `--data holds ordinary photos: crop each one's face (aligned, 48×48 gray) with a face detector (${DETECTORS.join(' | ')}; default auto) and cache the crops`,
    )
    .option('--multi-face <m>', 'with --detect, a photo with several faces: largest (train on its largest face) | skip')
    .option('--revive-dead', "give the --init model's dead ReLU channels fresh weights first")
    .option('--teacher <model...>', "distill from these models' mean probabilities (knowledge distillation)")
    .option('--distill-alpha <x>', "weight of the teacher's soft targets (labels get 1 - x)")
    .option('--temperature <t>', 'distillation softmax temperature')
    .option('--teacher-tta <t>', 'views the teacher averages: none | flip | tencrop')
    .option('--seed <n>', 'random seed')
    .option('--prune-target <x>', 'final sparsity of pruning during training (0 = off)')
    .option('--prune-begin <x>', 'pruning starts (fraction of training, or step if > 1)')
    .option('--prune-end <x>', 'pruning reaches its target (fraction, or step if > 1)')
    .option('--prune-frequency <n>', 'steps between mask updates')
    .option('--prune-pattern <p>', 'unstructured | 2:4')
    .option('--prune-scope <s>', 'layer | global magnitude threshold')
    .option(
      '--prune-structured <r>',
      'silence this share of each channel group during training (lowest batch-norm |γ|, on the --prune-begin/--prune-end schedule); then fer prune --structured --ratio r removes them',
    )
    .option('--quantize-bits <b>', 'quantization-aware training at b bits (0 = off, 2..8)')
    .option('--granularity <g>', 'per-tensor | per-channel')
    .option('--json', 'one JSON line per epoch on stdout instead of the progress bar')
    .option(
      '--bf16',
      'native engine: convolutions in bf16 (f32 weights, accumulation and everything else; ~1.4× faster steps for wide nets on CPUs with AVX-512 BF16); per invocation, like --threads',
    );
  withEngineOptions(cmd);
  showSchemaDefaults(cmd, trainOptionsSchema);
  showSchemaDefaults(cmd, trainInputsSchema);
  cmd.action(trainAction);
  return cmd;
}

/**
 * Before the data is loaded: a new run's --out must be creatable, and not a file or a folder of other files
 * (a run writes run.json, metrics.jsonl, best/, last/ there; it never mixes them with someone's files).
 */
function checkRunOut(outDir: string): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new UsageError(`train: --out ${outDir} exists and is a file; give a folder fer can create`);
    if (readdirSync(outDir).length > 0 && !isFerRunDir(outDir)) {
      throw new UsageError(`train: --out ${outDir} exists and is not a fer run; refusing to write into it`, { hint: 'pick another --out' });
    }
  }
  mkdirSync(outDir, { recursive: true }); // fails now (exit 2, naming it) if it cannot be created
}

/** Prints training events: a progress bar (or periodic lines) and one line per epoch, or JSON lines. */
export function trainPrinter(json: boolean, batchSize: number, epochs: number, outDir: string): (e: TrainEvent) => void {
  const bar = new Progress();
  let totalEpochs = epochs;
  let startEpoch = 0;
  const t0 = Date.now();
  return (e: TrainEvent) => {
    if (e.type === 'start') {
      totalEpochs = e.epochs;
      startEpoch = e.startEpoch;
      if (!json)
        process.stderr.write(
          `fer: ${e.resumed ? `resuming at epoch ${e.startEpoch + 1}` : 'training'} for ${e.epochs} epochs of ${e.batches} batches → ${outDir}\n`,
        );
      for (const r of e.revived ?? []) process.stderr.write(`fer: revived ${r.channels.length} dead channel(s) of ${r.layer}\n`);
      if (e.transplanted) {
        const t = e.transplanted;
        process.stderr.write(
          `fer: started from --init's weights: ${t.copied} tensors copied` +
            (t.skipped.length ? `, ${t.skipped.length} left as initialised (${t.skipped.join(', ')})` : '') +
            '\n',
        );
        if (t.headFrom) {
          process.stderr.write(
            `fer: transfer to new classes: a new classifier head` +
              (t.headFrom.length ? ` (the rows of ${t.headFrom.join(', ')} kept from --init)` : '') +
              '\n',
          );
        }
      }
    } else if (e.type === 'batch' && !json) {
      const batchesLeft = e.batches - e.batch + (totalEpochs - e.epoch - 1) * e.batches;
      const batchesPerSecond = e.imagesPerSecond / batchSize;
      bar.update(
        e.batch,
        e.batches,
        `epoch ${e.epoch + 1}/${totalEpochs}`,
        `loss ${e.loss.toFixed(4)} acc ${(e.acc * 100).toFixed(1)}% ${e.imagesPerSecond.toFixed(0)} img/s`,
        batchesPerSecond > 0 ? batchesLeft / batchesPerSecond : undefined,
      );
    } else if (e.type === 'epoch') {
      const m = e.metrics;
      if (json) {
        out(JSON.stringify(m));
        return;
      }
      const eta = ((Date.now() - t0) / 1000 / (m.epoch - startEpoch)) * (totalEpochs - m.epoch);
      bar.done(
        `epoch ${m.epoch}/${totalEpochs}  loss ${m.loss.toFixed(4)} acc ${(m.acc * 100).toFixed(2)}%` +
          (m.valAcc != null ? `  val_loss ${m.valLoss!.toFixed(4)} val_acc ${(m.valAcc * 100).toFixed(2)}%` : '') +
          `  lr ${m.lr.toExponential(1)}  ${m.imagesPerSecond.toFixed(0)} img/s  ${formatDuration(m.seconds)}` +
          (m.sparsity != null ? `  sparsity ${(m.sparsity * 100).toFixed(1)}%` : '') +
          (m.channelsSilenced != null ? `  channels silenced ${(m.channelsSilenced * 100).toFixed(1)}%` : '') +
          (e.best ? '  *best' : '') +
          `  ETA ${formatDuration(eta)}`,
      );
    } else if (e.type === 'note') {
      if (!json) process.stderr.write(`fer: ${e.message}\n`);
    } else if (e.type === 'stop') {
      bar.done();
      process.stderr.write(`fer: ${e.message}\n`);
    }
  };
}

/** What a run reads and where: from the flags, or for --resume from its run.json (its options cannot change). */
interface RunInputs {
  outDir: string;
  dataPath: string;
  valPath?: string;
  usage?: CsvUsage;
  valUsage?: CsvUsage;
  detect?: Detector;
  multiFace: MultiFace;
  stored?: Record<string, unknown>;
}

function runInputs(flags: Flags): RunInputs {
  const outDir = flags.resume ?? flags.out ?? INPUT_DEFAULTS.out;
  const runFile = path.join(outDir, 'run.json');
  let dataPath = flags.data,
    valPath = flags.val,
    usage = flags.usage,
    valUsage = flags.valUsage;
  let detect: Detector | undefined =
    flags.detect === undefined || flags.detect === false ? undefined : flags.detect === true ? 'auto' : (flags.detect as Detector);
  let multiFace = flags.multiFace as MultiFace | undefined;
  let stored: Record<string, unknown> | undefined;
  if (flags.resume) {
    if (!existsSync(runFile)) throw new UsageError(`train: ${flags.resume} is not a fer run directory (no run.json)`);
    const prev = readRunFile(runFile, resumeRunSchema) as {
      data?: string;
      val?: string;
      usage?: CsvUsage;
      valUsage?: CsvUsage;
      detect?: Detector;
      multiFace?: MultiFace;
      options?: Record<string, unknown>;
    };
    dataPath ??= prev.data;
    valPath ??= prev.val;
    usage ??= prev.usage;
    valUsage ??= prev.valUsage;
    detect ??= prev.detect;
    multiFace ??= prev.multiFace;
    stored = prev.options;
    // A resumed run keeps the options it started with (its schedule depends on them): say so, never ignore.
    const changed = ['epochs', 'lr', 'schedule', 'batchSize'].filter(
      (k) => flags[k] !== undefined && stored && String(flags[k]) !== String(stored[k]),
    );
    if (changed.length) {
      throw new UsageError(
        `train: --resume continues ${flags.resume} with the options it started with; ${changed.map((k) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`).join(', ')} cannot change`,
        { hint: `to train further with other settings, start a new run: --init ${path.join(flags.resume, 'last')}` },
      );
    }
  }
  valUsage ??= INPUT_DEFAULTS.valUsage;
  multiFace ??= INPUT_DEFAULTS.multiFace;
  if (!dataPath) throw new UsageError('train: --data is required (a <class>/ folder tree or fer2013.csv)');
  for (const u of [usage, valUsage]) {
    if (u && !CSV_USAGES.includes(u)) throw new UsageError(`train: unknown CSV usage "${u}" (expected: ${CSV_USAGES.join(', ')})`);
  }
  // Kaggle's fer2013.csv holds all three splits: train on Training unless told, never on every row.
  if (isCsv(dataPath) && !usage) {
    usage = 'Training';
    if (!flags.json) process.stderr.write(`fer: ${dataPath}: training on its Training rows (--usage to choose)\n`);
  }
  if (valPath && isCsv(valPath) && path.resolve(valPath) === path.resolve(dataPath) && valUsage === usage) {
    throw new UsageError(`train: --val ${valPath} with --val-usage ${valUsage} is the training split itself`, {
      hint: 'validate on PublicTest (the default)',
    });
  }
  if (detect && !DETECTORS.includes(detect))
    throw new UsageError(`train: --detect ${detect}: unknown detector (expected: ${DETECTORS.join(', ')})`);
  if (!MULTI_FACE.includes(multiFace)) throw new UsageError(`train: --multi-face ${multiFace}: expected ${MULTI_FACE.join(' or ')}`);
  return { outDir, dataPath, valPath, usage, valUsage, detect, multiFace, stored };
}

/** The training and val sets in the run's classes (val merged as training is), photos cropped with --detect. */
async function loadRunData(r: RunInputs, spec: ClassSpec, quiet: boolean): Promise<{ trainSet: Dataset; valSet: Dataset | null }> {
  const cropper = r.detect ? faceCropper({ detector: r.detect, multiFace: r.multiFace }) : undefined;
  try {
    const trainSet = await loadWithSummary(r.dataPath, r.usage, quiet, { classes: spec, decoder: cropper });
    if (cropper && !quiet && cropper.stats.photos) {
      const st = cropper.stats;
      process.stderr.write(
        `fer: --detect: ${st.photos} photos cropped now (the rest from the cache): ${st.noFace} without a face, ${st.severalFaces} with several (${r.multiFace === 'skip' ? 'skipped' : 'largest taken'})\n`,
      );
    }
    const valSet = r.valPath
      ? await loadWithSummary(r.valPath, r.valUsage, quiet, { classes: { ...spec, classes: trainSet.classes }, decoder: cropper })
      : null;
    return { trainSet, valSet };
  } finally {
    await cropper?.release();
  }
}

/** --bf16: native convolutions in bf16, or f32 with a note where this CPU has no bf16 kernel. */
function convBf16(): boolean {
  if (setNativeConvBf16(true)) return true;
  process.stderr.write('fer: --bf16: this CPU has no bf16 convolution kernel (oneDNN needs AVX-512); training in float32\n');
  return false;
}

async function trainAction(flags: Flags): Promise<void> {
  const r = runInputs(flags);
  const outDir = r.outDir;
  const options = trainOptionsSchema.parse(
    r.stored ?? {
      ...flags,
      flip: flags.flip !== false,
      nesterov: flags.nesterov !== false,
      classWeights: !!flags.classWeights,
      reviveDead: !!flags.reviveDead,
      classes: typeof flags.classes === 'string' ? parseClassList(flags.classes) : undefined,
    },
  );
  const spec: ClassSpec = { classes: options.classes, map: options.classMap ? readClassMap(options.classMap) : undefined };
  if (options.reviveDead && !options.init && !flags.resume)
    throw new UsageError('train: --revive-dead needs --init <model> (a fresh network has no dead channels)');
  if (!flags.resume) {
    for (const t of options.teacher) if (!existsSync(t)) throw new UsageError(`train: --teacher ${t}: no such model`);
    checkRunOut(outDir);
  }
  const info = await startEngine(flags, !!flags.json);
  if (flags.bf16 && info.name !== NATIVE_BACKEND)
    throw new UsageError(`train: --bf16 needs the native engine (backend ${info.name})`, { hint: '--backend native' });
  const { trainSet, valSet } = await loadRunData(r, spec, !!flags.json);
  if (!flags.resume && existsSync(path.join(outDir, 'checkpoint'))) {
    throw new UsageError(`train: ${outDir} already holds a run`, { hint: `continue it with --resume ${outDir}, or pick another --out` });
  }
  const bf16 = !!flags.bf16 && convBf16(); // from here on, train() turns it off again however it ends
  const runJson = {
    command: `fer ${process.argv.slice(2).join(' ')}`,
    data: r.dataPath,
    val: r.valPath,
    usage: r.usage,
    valUsage: r.valUsage,
    detect: r.detect,
    multiFace: r.multiFace,
    backend: info.name,
    threads: info.threads,
    convolutions: bf16 ? 'bf16' : 'f32',
    started: new Date().toISOString(),
  };
  const stop = stopOnSignal();
  const onEvent = trainPrinter(!!flags.json, options.batchSize, options.epochs, outDir);
  const hooks = trainingHooks(options);
  const result = await train(trainSet, valSet, options, {
    out: outDir,
    resume: !!flags.resume,
    hooks,
    onEvent,
    shouldStop: stop.shouldStop,
    runJson,
  }).finally(() => {
    stop.dispose();
    if (bf16) setNativeConvBf16(false); // the engine outlives the command (library use, tests)
  });
  if (result.stopReason === 'nan') process.exitCode = 4;
  else if (result.stopReason === 'interrupted') process.exitCode = 130;
}
