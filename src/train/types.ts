/**
 * Types shared by training and the stages that hook into it (train/hooks/*, curves): a types-only module of
 * the lower stage, so those import it and never fit.ts (no import cycles). No tfjs import: `train`'s public
 * declarations name these (a hook's model is a LayersModelLike; the hooks take it as the LayersModelLike it is).
 */
import type { FerMetadata, LayersModelLike, TransplantReport } from '../model/types.js';

export interface RevivedLayer {
  layer: string;
  channels: number[];
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  acc: number;
  valLoss: number | null;
  valAcc: number | null;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  sparsity?: number;
  /** Share of channels silenced by structured pruning during training. */
  channelsSilenced?: number;
}

/** Something that acts around each optimizer step (pruning masks, quantization-aware training). */
export interface StepHook {
  name: string;
  init?(model: LayersModelLike, totalSteps: number, saved?: unknown): void;
  beforeStep?(step: number): void;
  beforeApply?(step: number): void;
  afterStep?(step: number): void;
  /**
   * afterStep done on the weights where the native step keeps them (its arena), not through tfjs's variables:
   * `values(name)` is the values of the tfjs variable of that name, changed in place. Returns false when this
   * step needs afterStep itself (the caller then runs it on tfjs's variables).
   */
  afterStepIn?(step: number, values: (variable: string) => Float32Array | undefined): boolean;
  /** Extra epoch metrics (e.g. sparsity). */
  metrics?(): Record<string, number>;
  /** JSON state for checkpoints. */
  state?(): unknown;
  metadata?(meta: FerMetadata): FerMetadata;
}

/** What a training run reports as it goes (the CLI draws its progress from these). */
export type TrainEvent =
  | {
      type: 'start';
      epochs: number;
      startEpoch: number;
      batches: number;
      resumed: boolean;
      revived?: RevivedLayer[];
      transplanted?: TransplantReport;
    }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; acc: number; imagesPerSecond: number }
  | { type: 'epoch'; metrics: EpochMetrics; best: boolean }
  | { type: 'stop'; reason: 'done' | 'early-stopping' | 'interrupted' | 'nan'; epoch: number; message: string }
  | { type: 'note'; message: string };
