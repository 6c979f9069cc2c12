/**
 * Compiles a tfjs LayersModel of the mini-Xception family (Conv2D, SeparableConv2D, BatchNormalization, ReLU,
 * MaxPooling2D, Add, GlobalAveragePooling2D, a final softmax) and of the ResNet-18 teachers (also Dense, a softmax
 * Dense output, Dropout: step-layers-resnet.ts) once into a program for the addon's whole-step
 * executor (native/src/step.cc): forward with batch statistics and the moving-statistics update as tfjs-layers
 * does it, softmax cross-entropy against a given [N, classes] target distribution (fer's trainingLoss), backward,
 * the L2 penalties' value and gradient, and Adam's or momentum's update, every operand an offset into one float
 * arena that also holds the weights, the optimizer slots, the batch and its targets between steps.
 * Anything else (another layer, an L1 term, a non-linear conv activation, …) is refused with the reason.
 */
import type { tf } from '../tf.js';
import {
  Compiler,
  PLAN_OP,
  type PlanCore,
  Unsupported,
  bitsOf,
  refuse,
  type Layer,
  type StepDistill,
  type StepOptimizer,
  type StepPlan,
  type Value,
} from './step-compiler.js';
import { HANDLERS, relu } from './step-layers.js';
import { isSoftmaxDense, logitsOf } from './step-layers-resnet.js';

export { PLAN_OP, PLAN_OPS, type PlannedWeight, type StepDistill, type StepOptimizer, type StepPlan } from './step-compiler.js';

/** A forward pass for prediction (compileInference): the batch in at `input`, the [batch, classes] logits out at `logits`. */
export interface InferencePlan extends PlanCore {
  logits: number;
}

/** The loss instruction: softmax cross-entropy, with a teacher's soft targets and/or per-row (class) weights. */
function softmaxLoss(
  c: Compiler,
  l: Layer,
  z: Value,
  distill?: StepDistill,
  weighted = false,
): { target: number; soft: number; rowWeights: number; probs: number; loss: number } {
  if (z.shape.length !== 2) refuse(`${l.name}: softmax over a rank-${z.shape.length} tensor`);
  const [n, classes] = z.shape;
  const target = c.b.alloc(n * classes),
    soft = distill ? c.b.alloc(n * classes) : -1,
    rowWeights = weighted ? c.b.alloc(n) : -1,
    probs = c.b.alloc(n * classes),
    loss = c.b.alloc(1),
    dz = c.b.alloc(n * classes);
  const [alpha, temperature] = [bitsOf(distill?.alpha ?? 0), bitsOf(distill?.temperature ?? 1)];
  if (weighted) c.b.emit(PLAN_OP.SoftmaxXentWeighted, z.off, target, soft, rowWeights, n, classes, probs, loss, dz, alpha, temperature);
  else if (distill) c.b.emit(PLAN_OP.SoftmaxXentDistill, z.off, target, soft, n, classes, probs, loss, dz, alpha, temperature);
  else c.b.emit(PLAN_OP.SoftmaxXent, z.off, target, n, classes, probs, loss, dz);
  c.setGrad(logitsOf(c, l).layer, dz);
  return { target, soft, rowWeights, probs, loss };
}

/** The forward pass, layer by layer in the model's (topological) order; returns the softmax layer. */
function forward(c: Compiler, model: tf.LayersModel, batch: number): Layer {
  const out = model.outputs.length === 1 ? model.outputs[0].sourceLayer : refuse('a model with several outputs');
  for (const l of model.layers) {
    const cls = l.getClassName();
    if (cls === 'InputLayer') {
      const shape = [batch, ...(l.outputShape as number[]).slice(1)];
      if (shape.length !== 4) refuse('an input that is not an image');
      c.inputName = l.name;
      c.output(l, shape);
      continue;
    }
    if ((l === out && !isSoftmaxDense(l)) || c.fused.has(l.name)) continue;
    const cfg = l.getConfig() as Record<string, unknown>;
    c.current = l;
    if (cls === 'Activation' && cfg.activation === 'relu') relu(c, l, c.input(l));
    else if (HANDLERS[cls]) HANDLERS[cls](c, l, cls === 'Add' ? (undefined as never) : c.input(l));
    else refuse(`layer ${l.name} (${cls}${cls === 'Activation' ? ` ${String(cfg.activation)}` : ''})`);
    c.consumed(l);
  }
  const cfg = out.getConfig() as Record<string, unknown>;
  if ((out.getClassName() !== 'Activation' || cfg.activation !== 'softmax') && !isSoftmaxDense(out))
    refuse('an output that is not a softmax activation');
  return out;
}

/**
 * The plan of one training step of `model` at batch size `batch` with `optimizer`, or the reason it has none
 * (a layer, regularizer or shape the executor does not know).
 */
export function compileStep(
  model: tf.LayersModel,
  batch: number,
  optimizer: StepOptimizer,
  options: { fuse?: boolean; distill?: StepDistill; classWeights?: boolean } = {},
): StepPlan | { unsupported: string } {
  const c = new Compiler(model, batch, options.fuse ?? true);
  try {
    const out = forward(c, model, batch);
    const logits = logitsOf(c, out).value;
    const { target, soft, rowWeights, probs, loss } = softmaxLoss(c, out, logits, options.distill, options.classWeights);
    c.runBackward();
    for (const { w, l2 } of c.penalties) c.b.emit(PLAN_OP.L2, w.off, w.size, bitsOf(l2), w.grad!, loss, c.b.alloc(w.size));
    const k = c.b.alloc(8);
    const optimizerAt = c.b.prog.length;
    const weights = model.weights.map((v) => c.weights.get(v)!);
    for (const w of weights.filter((x) => x.trainable)) {
      if (w.grad === undefined) refuse(`no gradient for ${w.variable.name}`);
      w.m = c.b.alloc(w.size);
      if (optimizer.kind === 'adam') {
        w.v = c.b.alloc(w.size);
        c.b.emit(PLAN_OP.Adam, w.off, w.m, w.v, w.grad!, w.size, k);
      } else c.b.emit(PLAN_OP.Momentum, w.off, w.m, w.grad!, w.size, k, optimizer.nesterov ? 1 : 0);
    }
    return {
      ...c.core(logits.shape[1]),
      target,
      soft,
      rowWeights,
      optimizerAt,
      probs,
      loss,
      k,
      optimizer,
      perStep: c.perStep,
    };
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message };
    throw e;
  }
}

/**
 * The plan of `model`'s forward pass as tfjs-layers' predict runs it (batch norm on the moving statistics, dropout
 * off) at batch size `batch`, up to the logits; or the reason it has none.
 */
export function compileInference(model: tf.LayersModel, batch: number): InferencePlan | { unsupported: string } {
  const c = new Compiler(model, batch, true, true);
  try {
    const out = forward(c, model, batch);
    const logits = logitsOf(c, out).value;
    return { ...c.core(logits.shape[1]), logits: logits.off };
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message };
    throw e;
  }
}
