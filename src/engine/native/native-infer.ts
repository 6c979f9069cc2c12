/**
 * A model's forward pass as one addon call a batch (step-plan.ts compileInference): what tfjs-layers' predict
 * computes (batch norm on the moving statistics, no dropout), without a kernel dispatch per layer. For the
 * validation pass of `fer train` and the online teachers of distillation, on fer-native where the model is one
 * the step compiler knows; anything else keeps tfjs.
 */
import type { tf } from '../tf.js';
import { loadNativeAddon, type NativeAddon } from './addon.js';
import { compileInference, PLAN_OP, type InferencePlan } from './step-plan.js';

const PLAN_OPS = Math.max(...Object.values(PLAN_OP));
type RunPlan = (arena: Float32Array, program: Int32Array) => void;

export class NativeInference {
  private readonly arena: Float32Array;

  private constructor(
    readonly plan: InferencePlan,
    private readonly runPlan: RunPlan,
  ) {
    this.arena = new Float32Array(plan.size);
  }

  /** The forward pass of `model` at batch size `batch`, its weights loaded; or why there is none. */
  static create(model: tf.LayersModel, batch: number): NativeInference | { unsupported: string } {
    const addon: NativeAddon | null = loadNativeAddon();
    if (!addon?.runPlan) return { unsupported: 'no native addon with runPlan' };
    if ((addon.planOps ?? 0) < PLAN_OPS) return { unsupported: 'an addon build older than this plan compiler (rebuild native/)' };
    const plan = compileInference(model, batch);
    if ('unsupported' in plan) return plan;
    const runPlan = addon.runPlan.bind(addon) as RunPlan;
    const inf = new NativeInference(plan, runPlan);
    inf.load();
    return inf;
  }

  /** tfjs → arena: the model's current weights (moving statistics included). */
  load(): void {
    for (const w of this.plan.weights) this.arena.set(w.variable.read().dataSync() as Float32Array, w.off);
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
