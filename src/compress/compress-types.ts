/** The compress stage's variant and result types (types only: search.ts and pareto-report.ts both read them). */
import type { Precision } from '../onnx/precision.js';
import type { Arch } from '../model/archs.js';
import type { CompressTarget, VariantMeasure } from './choose.js';

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
