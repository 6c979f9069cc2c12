/** `fer train`: its flags, the data it loads (and crops with --detect), train/run.ts's run rules and trainRun(); printing. */
import { Command } from 'commander';
import { trainOptionsSchema } from '../train/options.js';
import { trainRun } from '../train/run.js';
import { ARCHS } from '../model/archs.js';
import type { TrainEvent } from '../train/fit.js';
import type { CsvUsage } from '../data/dataset.js';
import { parseClassList } from '../data/classes.js';
import { DETECTORS, type Detector } from '../detect/faces.js';
import type { MultiFace } from '../predict/crops.js';
import { photoRunData, photoRunInputsSchema, resolvePhotoRunInputs } from '../predict/photo-data.js';
import { commandLine, note, refuseUnused, startEngine, stopOnSignal, withEngineOptions, showSchemaDefaults } from './common.js';
import { loadWithSummary, trainPrinter } from './printers.js';

interface Flags {
  data?: string;
  val?: string;
  out?: string;
  resume?: string;
  usage?: CsvUsage;
  valUsage?: CsvUsage;
  detect?: boolean | Detector;
  multiFace?: MultiFace;
  json?: boolean;
  backend?: string;
  threads?: number;
  [k: string]: unknown;
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
      `${ARCHS.join(' | ')} (-s2c1/-s2c2: stride 2 in the first/second stem conv, -s2p: a stride-2 pool after the stem, -x2: twice the width, -x2x3: 2× in the first two modules and 3× in the last two; resnet18-w32/-w16: ResNet-18-style teachers, 2.8M/0.7M parameters; with --init, starts from its weights)`,
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
    .option(
      '--teacher <model...>',
      "distill from these models' mean probabilities (knowledge distillation): paths, or teachers kept in models/teachers by name (resnet18-w32)",
    )
    .option('--distill-alpha <x>', "weight of the teacher's soft targets (labels get 1 - x)")
    .option('--temperature <t>', 'distillation softmax temperature')
    .option('--teacher-tta <t>', 'views the teacher averages, offline: none | flip | tencrop')
    .option(
      '--teacher-mode <m>',
      'offline (teacher probabilities on plain images, computed once) | online (teachers run on every augmented batch: slower, targets match what the student sees)',
    )
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
  showSchemaDefaults(cmd, photoRunInputsSchema);
  cmd.action(trainAction);
  return cmd;
}

async function trainAction(flags: Flags, cmd: Command): Promise<void> {
  const { data, val, usage, valUsage, detect, multiFace, json } = flags;
  // What the run reads and where: from the flags, or for --resume from its run.json (train/run.ts's rules).
  const source = { data, val, usage, valUsage, detect, multiFace };
  const r = resolvePhotoRunInputs({ out: flags.out, resume: flags.resume, source, options: flags, onNote: json ? undefined : note });
  const classes = typeof flags.classes === 'string' ? parseClassList(flags.classes) : undefined;
  const options = r.stored ?? trainOptionsSchema.parse({ ...flags, classes });
  if (!r.stored)
    refuseUnused(cmd, [
      ['lrPatience', options.schedule !== 'plateau', '--schedule plateau'],
      ['lrFactor', options.schedule !== 'plateau', '--schedule plateau'],
      ['momentum', options.optimizer !== 'sgd', '--optimizer sgd'],
      ['nesterov', options.optimizer !== 'sgd', '--optimizer sgd'],
    ]);
  let print: ((e: TrainEvent) => void) | undefined; // made as training starts: its ETA counts from there
  const result = await trainRun(
    r,
    options,
    { resume: !!flags.resume, bf16: !!flags.bf16 },
    {
      startEngine: () => startEngine(flags, !!json),
      loadData: photoRunData(r.source, {
        load: (source, usage, o) => loadWithSummary(source, usage, !!json, o),
        onNote: json ? undefined : note,
      }),
      interrupts: stopOnSignal,
      onEvent: (e) => (print ??= trainPrinter(!!json, options.batchSize, options.epochs, r.outDir))(e),
      onNote: note,
      runJson: { command: commandLine() },
    },
  );
  if (result.stopReason === 'nan') process.exitCode = 4;
  else if (result.stopReason === 'interrupted') process.exitCode = 130;
}
