/** `fer train` options: the zod schema holds every default; the library takes z.infer of it. */
import { z } from 'zod';
import { ARCHS } from '../model/mini-xception.js';
import { TRAIN_AUGMENT, TTA_MODES } from '../data/augment.js';

export const SCHEDULES = ['cosine', 'plateau', 'constant'] as const;
export const PRUNE_PATTERNS = ['unstructured', '2:4'] as const;
export const PRUNE_SCOPES = ['layer', 'global', 'lamp', 'erk'] as const;
export const GRANULARITIES = ['per-tensor', 'per-channel'] as const;
export const OPTIMIZERS = ['adam', 'sgd'] as const;

export const trainOptionsSchema = z.object({
  epochs: z.coerce.number().int().min(1).default(250),
  batchSize: z.coerce.number().int().min(1).max(4096).default(64),
  lr: z.coerce.number().positive().default(1e-3),
  minLr: z.coerce.number().min(0).default(1e-5),
  schedule: z.enum(SCHEDULES).default('plateau'),
  warmupEpochs: z.coerce.number().int().min(0).default(0),
  /** Cosine (and warmup) per step on the fractional epoch instead of once per epoch (train/schedule.ts lrForStep). */
  lrPerStep: z.boolean().default(false),
  /** Plateau schedule: epochs without val improvement before the LR is cut by lrFactor. */
  lrPatience: z.coerce.number().int().min(1).default(12),
  lrFactor: z.coerce.number().gt(0).lt(1).default(0.1),
  /** Early stopping: epochs without val-accuracy improvement (0 = off). */
  patience: z.coerce.number().int().min(0).default(50),
  labelSmoothing: z.coerce.number().min(0).lt(1).default(0),
  classWeights: z.boolean().default(false),
  flip: z.boolean().default(TRAIN_AUGMENT.flip),
  rotation: z.coerce.number().min(0).max(45).default(TRAIN_AUGMENT.rotation),
  zoom: z.coerce.number().min(0).max(0.5).default(TRAIN_AUGMENT.zoom),
  shift: z.coerce.number().min(0).max(0.5).default(TRAIN_AUGMENT.shift),
  /** Random-resized crops: the smallest share of an image's area a crop keeps (0 = off; e.g. 0.7). */
  cropScale: z.coerce.number().min(0).max(1).default(0),
  /** L2 penalty on conv kernels: the shipped model's recipe (the original mini-Xception used 0.01). */
  l2: z.coerce.number().min(0).default(0.001),
  /** Optimizer: Adam, or SGD with (Nesterov) momentum as the large FER2013 models train. */
  optimizer: z.enum(OPTIMIZERS).default('adam'),
  momentum: z.coerce.number().min(0).lt(1).default(0.9),
  nesterov: z.boolean().default(true),
  /** Mixup's Beta(α, α) (0 = off). */
  mixup: z.coerce.number().min(0).max(10).default(0),
  /** CutMix's Beta(α, α) (0 = off); with mixup too, each mixed batch takes one of the two. */
  cutmix: z.coerce.number().min(0).max(10).default(0),
  /** Share of batches mixed when mixup or cutmix is on. */
  mixProb: z.coerce.number().min(0).max(1).default(1),
  /** Random erasing: probability that an image gets a rectangle of noise (0 = off). */
  erasing: z.coerce.number().min(0).max(1).default(0),
  /** EMA of the weights with this decay (e.g. 0.999; 0 = off): validated and saved instead of the raw weights. */
  ema: z.coerce.number().min(0).lt(1).default(0),
  /** Architecture (mini-xception when unset); with --init, a different one starts from the init model's weights. */
  arch: z.enum(ARCHS).optional(),
  seed: z.coerce.number().int().min(0).default(1),
  /** Pruning during training (0 = none). */
  pruneTarget: z.coerce.number().min(0).max(0.99).default(0),
  pruneBegin: z.coerce.number().min(0).default(0.2),
  pruneEnd: z.coerce.number().min(0).default(0.7),
  pruneFrequency: z.coerce.number().int().min(1).default(100),
  prunePattern: z.enum(PRUNE_PATTERNS).default('unstructured'),
  /** layer: each layer to the target; global: one |w| threshold; lamp: one threshold on LAMP scores (prune/prune.ts). */
  pruneScope: z.enum(PRUNE_SCOPES).default('layer'),
  /**
   * Keep the zeros the model arrives with as the masks and never choose new ones (fine-tuning a pruned model
   * without a pruning target of its own, e.g. `fer quantize --finetune-epochs` after `fer prune`).
   */
  pruneHold: z.boolean().default(false),
  /** Sparsity the polynomial schedule starts from (e.g. the zeros a model already has when it is fine-tuned). */
  pruneInitial: z.coerce.number().min(0).max(0.99).default(0),
  /** Structured pruning during training: share of each channel group silenced by the end of the schedule (0 = off). */
  pruneStructured: z.coerce.number().min(0).max(0.9).default(0),
  /** Quantization-aware training (0 = off; 2..8 bits). */
  quantizeBits: z.coerce
    .number()
    .int()
    .refine((b) => b === 0 || (b >= 2 && b <= 8), 'bits must be 0 or 2..8')
    .default(0),
  granularity: z.enum(GRANULARITIES).default('per-tensor'),
  /** Start training from these weights instead of a fresh network (fine-tuning; with other classes, a new head). */
  init: z.string().optional(),
  /** Select and order the data's classes (after --class-map); default all of them. */
  classes: z.array(z.string()).min(2).optional(),
  /** JSON file merging source labels into classes: {"negative": ["angry", …], …}. */
  classMap: z.string().optional(),
  /** Epochs at the start in which only the classifier head trains (transfer with a frozen body). */
  freezeEpochs: z.coerce.number().int().min(0).default(0),
  /** Before training, give the --init model's dead ReLU channels fresh weights (train/revive.ts). */
  reviveDead: z.boolean().default(false),
  /** Knowledge distillation: teacher model(s) whose mean probabilities are soft targets (none = off). */
  teacher: z.array(z.string()).default([]),
  /** Weight of the teacher's soft targets in the loss (the one-hot labels get 1 − alpha). */
  distillAlpha: z.coerce.number().min(0).max(1).default(0.5),
  /** Softmax temperature of the soft targets and of the student's log-probabilities they are matched with. */
  temperature: z.coerce.number().positive().max(20).default(2),
  /** Test-time views the teacher averages over on each training image (offline teachers only). */
  teacherTta: z.enum(TTA_MODES).default('flip'),
  /**
   * offline: the --teacher models' probabilities on each plain training image, computed once before training
   * (teacher.f32). online: the --teacher models run in inference mode on every augmented batch the student
   * trains on (one forward pass per teacher per step), so the soft targets match the images the student sees.
   */
  teacherMode: z.enum(['offline', 'online']).default('offline'),
  /**
   * Online distillation (fer prune/quantize fine-tunes): these models (e.g. the dense original) run in inference
   * mode on each augmented training batch, and their mean probabilities softened at --temperature are the soft targets.
   */
  onlineTeacher: z.union([z.string().transform((s) => [s]), z.array(z.string())]).optional(),
});

export type TrainOptions = z.infer<typeof trainOptionsSchema>;
/** What `train`/`trainRun` take: any of the options, the rest at `fer train`'s defaults (checked and filled by the schema). */
export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;
