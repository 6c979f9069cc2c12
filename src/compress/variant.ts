/**
 * One variant of `fer compress` (search.ts): built with the prune, quantize or distillation stage from the model or
 * from the variant it is made from, exported to ONNX, and measured on --val.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { exportOnnx } from '../convert/export.js';
import { evaluate, modelDataClasses } from '../eval/evaluate-data.js';
import { teachersOf, type CompressParsed } from './options.js';
import { pruneModelDir, slimModel } from './prune.js';
import { quantizeModel } from './quantize.js';
import type { CompressHooks } from './finetune.js';
import type { VariantPlan, VariantRecord } from './compress-types.js';
import { distilIntoArch } from './distil-arch.js';

type Parsed = CompressParsed;
/** What a variant reads of the run's state: the variants done (a `from` variant's model) and the distillation's epochs. */
export interface VariantState {
  archEpochs?: number;
  done: Record<string, { model: string }>;
}

export type Recovery = Pick<Parsed, 'distill' | 'teacher' | 'alpha' | 'temperature' | 'bnReestimate'>;

/** Builds one variant under `dir`: its tfjs model and its ONNX file; null when the fine-tune was interrupted. */
export async function buildVariant(
  model: string,
  dir: string,
  plan: VariantPlan,
  state: VariantState,
  out: string,
  o: Parsed,
  recovery: Recovery,
  valSet: Dataset,
  hooks: CompressHooks,
): Promise<{ model: string; onnx: string } | null> {
  const ft = { data: o.data, val: o.val, finetuneEpochs: o.finetuneEpochs, ...recovery };
  let m = model;
  if (plan.from) m = path.join(out, state.done[plan.from].model);
  else if (plan.kind === 'prune') {
    const r = await pruneModelDir(
      model,
      path.join(dir, 'pruned'),
      { ...ft, targetSparsity: plan.sparsity, reconstruct: o.reconstruct },
      hooks,
    );
    if (r.interrupted) return null;
    m = r.model;
  } else if (plan.kind === 'arch') {
    const classes = modelDataClasses(model);
    const trainSet = await hooks.load!(o.data, 'Training', { classes });
    const r = await distilIntoArch(
      teachersOf(o, model),
      path.join(dir, 'train'),
      trainSet,
      valSet,
      { arch: plan.arch!, epochs: state.archEpochs!, data: o.data, val: o.val },
      hooks,
    );
    if (!r) return null;
    m = r.model;
  } else if (plan.kind === 'slim') {
    const r = await slimModel(model, path.join(dir, 'slim'), { ...ft, structured: true, ratio: plan.ratio }, hooks);
    if (r.interrupted) return null;
    m = r.model;
  }
  if (plan.precision !== 'fp32') {
    // int8: post-training (8 bits cost nothing on these nets); int4: quantization-aware, taught by the model before it.
    const int4 = plan.precision === 'int4';
    const q = await quantizeModel(
      m,
      path.join(dir, plan.precision),
      {
        bits: int4 ? 4 : 8,
        data: o.data,
        val: int4 ? o.val : undefined,
        finetuneEpochs: int4 ? Math.max(1, o.finetuneEpochs) : 0,
        // One epoch of QAT at a constant 1e-4 left the shipped model 1.11 points down, with the rate decaying 0.42 (val).
        lrDecay: int4 ? true : undefined,
        calibrationImages: o.calibrationImages,
        ...recovery,
      },
      hooks,
    );
    if (q.interrupted) return null;
    m = q.model;
  }
  const onnx = path.join(dir, `model-${plan.precision}.onnx`);
  await exportOnnx(m, onnx, { version: 'compress', precision: plan.precision, sample: valSet });
  return { model: m, onnx };
}

/** Accuracy and balanced accuracy of the ONNX file on --val, and its size (and gzip'd). */
export async function measure(
  modelDir: string,
  onnx: string,
  out: string,
  plan: VariantPlan,
  seconds: number,
  valSet: Dataset,
  o: Parsed,
  hooks: CompressHooks,
): Promise<VariantRecord> {
  const e = await evaluate(onnx, o.val, { tta: o.tta, load: hooks.load ?? (async () => valSet) });
  const bytes = readFileSync(onnx);
  const recalls = e.perClass.filter((c) => c.support > 0).map((c) => c.recall);
  return {
    name: plan.name,
    plan,
    model: path.relative(out, modelDir),
    onnx: path.relative(out, onnx),
    precision: plan.precision,
    seconds,
    accuracy: e.accuracy,
    balancedAccuracy: recalls.reduce((a, b) => a + b, 0) / Math.max(1, recalls.length),
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes).length,
  };
}
