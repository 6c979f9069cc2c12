/** The compress stages' variant and result types (types only: search.ts, prune.ts and pareto-report.ts read them). */
import type { Precision } from '../onnx/precision.js';
import type { Arch } from '../model/archs.js';
import type { CompressTarget, VariantMeasure } from './choose.js';
import type { SparsityReport } from '../prune/prune.js';
import type { MiniXceptionChannels } from '../model/archs.js';
import type { TrainResult } from '../train/fit.js';

/** A variant to build: a prune or slim stage, optionally followed by int8/int4 quantization, exported to ONNX. */
export interface VariantPlan {
  name: string;
  kind: 'dense' | 'prune' | 'slim' | 'arch';
  sparsity?: number;
  ratio?: number;
  /** kind 'arch': the architecture distilled into (compress/distil-arch.ts). */
  arch?: Arch;
  /**
   * The exported weights: fp32, or quantized and exported as int8 (post-training: 8 bits cost nothing here) or int4
   * (after a quantization-aware fine-tune of --finetune-epochs), from the model of `from` when given, else this one's.
   */
  precision: 'fp32' | 'int8' | 'int4';
  from?: string;
  /** Why it was not run (a stage the toolkit has no short path for). */
  notRun?: string;
}

export interface VariantRecord extends VariantMeasure {
  plan: VariantPlan;
  /** The tfjs model and its ONNX file (the candidate), relative to `out`. */
  model: string;
  onnx: string;
  precision: Precision;
  seconds: number;
  /** Filled after the bench. */
  latencyRatio?: number;
  throughputRatio?: number;
  dropPoints?: number;
  /** int8 measured slower at batch 1 than the fp32 variant it was made from: not a candidate (latency target). */
  slowerThanFp32?: boolean;
}

export interface CompressResult {
  interrupted: boolean;
  target: CompressTarget;
  maxDrop: number;
  original: VariantRecord;
  variants: VariantRecord[];
  /** Variants not run, and why (budget, not available, interrupted). */
  skipped: { name: string; reason: string }[];
  pareto: string[];
  chosen?: { name: string; reason: string; dir: string };
  options: Record<string, unknown>;
  written: string[];
}

/** The prune stage's fine-tune was stopped (shouldStop): `out` is a run directory holding a checkpoint (`fer prune … --resume`). */
export interface PruneInterrupted {
  interrupted: true;
  run: string;
  finetune: TrainResult;
}

export type PruneResult =
  | ({
      interrupted: false;
      /** The pruned model's directory (`out`, or `out/best` after a fine-tune). */
      model: string;
      finetune?: TrainResult;
      /** `sparsity`, `total` and `nonzero` count the exported model's weights (kernelTarget); this, the kernels alone. */
      kernelSparsity: number;
    } & SparsityReport)
  | PruneInterrupted;

export type SlimResult =
  | {
      interrupted: false;
      model: string;
      channels: MiniXceptionChannels;
      parameters: { before: number; after: number };
      /** Multiply-adds per image. */
      macs: { before: number; after: number };
      layers: {
        role: string;
        macsBefore: number;
        macsAfter: number;
        paramsBefore: number;
        paramsAfter: number;
      }[];
      finetune?: TrainResult;
    }
  | PruneInterrupted;
