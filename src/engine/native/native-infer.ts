/**
 * A model's forward pass as one addon call a batch (step-plan.ts compileInference): what tfjs-layers' predict
 * computes (batch norm on the moving statistics, no dropout), without a kernel dispatch per layer. For the
 * validation pass of `fer train`, `fer eval` of tfjs models and the online teachers of distillation, on fer-native
 * where the model is one the step compiler knows; anything else keeps tfjs.
 */
import { tf } from '../tf.js';
import { NATIVE_BACKEND } from './native-backend.js';
import { planArena, planExecutor, type RunPlan } from './native-step.js';
import { compileInference, type InferencePlan } from './step-plan.js';
import { readWeights } from './step-compiler.js';

export class NativeInference {
  private readonly arena: Float32Array;

  private constructor(
    readonly plan: InferencePlan,
    private readonly runPlan: RunPlan,
  ) {
    this.arena = planArena(plan.size);
  }

  /** The forward pass of `model` at batch size `batch`, its weights loaded; or why there is none. */
  static create(model: tf.LayersModel, batch: number): NativeInference | { unsupported: string } {
    const runPlan = planExecutor();
    if (typeof runPlan !== 'function') return runPlan;
    const plan = compileInference(model, batch);
    if ('unsupported' in plan) return plan;
    const inf = new NativeInference(plan, runPlan);
    inf.load();
    return inf;
  }

  /** tfjs → arena: the model's current weights (moving statistics included). */
  load(): void {
    readWeights(this.arena, this.plan.weights);
  }

  /** Logits [n, classes] of n preprocessed [H, W, C] images in `xs`, a batch at a time (the last one padded with zeros). */
  logits(xs: Float32Array, n: number): Float32Array {
    const { plan, arena } = this;
    const per = plan.inputSize / plan.batch,
      k = plan.classes;
    const out = new Float32Array(n * k);
    for (let start = 0; start < n; start += plan.batch) {
      const count = Math.min(plan.batch, n - start);
      arena.set(xs.subarray(start * per, (start + count) * per), plan.input);
      if (count < plan.batch) arena.fill(0, plan.input + count * per, plan.input + plan.inputSize);
      this.runPlan(arena, plan.program);
      out.set(arena.subarray(plan.logits, plan.logits + count * k), start * k);
    }
    return out;
  }

  /** Softmax probabilities [n, classes], as the model's softmax output gives them. */
  probs(xs: Float32Array, n: number): Float32Array {
    return softmaxRows(this.logits(xs, n), this.plan.classes);
  }
}

/** Native forward passes by model, at batch 64 (callers run any number of images through them, 64 at a time). */
const byModel = new WeakMap<object, NativeInference | null>();

/**
 * `model`'s native forward pass on fer-native (made once, with the weights it has then; `reload`: a cached one reads
 * them again, for a model still training), or null: another backend, not a LayersModel, a layer the step compiler
 * does not know, FER_NATIVE_INFER=0. Callers keep tfjs's predict then.
 */
export function nativeInferenceFor(model: object, reload = false): NativeInference | null {
  if (tf.getBackend() !== NATIVE_BACKEND || process.env.FER_NATIVE_INFER === '0' || !(model instanceof tf.LayersModel)) return null;
  const cached = byModel.get(model);
  if (cached !== undefined) {
    if (reload) cached?.load();
    return cached;
  }
  const made = NativeInference.create(model, 64);
  const inf = 'unsupported' in made ? null : made;
  byModel.set(model, inf);
  return inf;
}

/** Row-wise softmax of [rows, k] logits, in place (max subtracted first). */
export function softmaxRows(z: Float32Array, k: number): Float32Array {
  for (let r = 0; r < z.length; r += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[r + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += z[r + j] = Math.exp(z[r + j] - max);
    for (let j = 0; j < k; j++) z[r + j] /= sum;
  }
  return z;
}
