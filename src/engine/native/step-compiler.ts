/**
 * The pieces of the whole-step compiler (step-plan.ts): the executor's opcodes, the plan's types, the program
 * and arena being laid out, and the per-compile state (values, gradients, backward steps, weights' places).
 */
import { tf } from '../tf.js';
import { outboundLayers, inboundLayers } from '../tfjs-internals.js';
export type Layer = tf.layers.Layer;

/** The executor's opcodes (native/src/kernels.h PlanOp). */
export const PLAN_OP = {
  Conv: 1,
  BnForward: 2,
  BnBackward: 3,
  BnMoving: 4,
  Relu: 5,
  ReluGrad: 6,
  MaxPool: 7,
  MaxPoolGrad: 8,
  Add: 9,
  BiasAdd: 10,
  SumRows: 11,
  Gap: 12,
  GapGrad: 13,
  SoftmaxXent: 14,
  L2: 15,
  Adam: 16,
  Momentum: 17,
  Copy: 18,
  SoftmaxXentDistill: 21,
  SoftmaxXentWeighted: 22,
  Zero: 23,
  MatMul: 27,
  Mul: 28,
  MaxPoolArg: 29,
  MaxPoolGradArg: 30,
  BnReluForward: 31,
  BnReluBackward: 32,
  BnInfer: 33,
} as const;

/** The highest opcode the compiler emits: an addon's `planOps` must reach it. */
export const PLAN_OPS = Math.max(...Object.values(PLAN_OP));

/** Distillation's loss terms (train/distill.ts trainingLoss): the soft targets' weight and temperature. */
export interface StepDistill {
  alpha: number;
  temperature: number;
}

export type StepOptimizer = { kind: 'adam' } | { kind: 'momentum'; nesterov: boolean };

/** A weight of the model in the arena, in model.weights order; trainable ones carry their gradient and slots. */
export interface PlannedWeight {
  variable: tf.LayerVariable;
  off: number;
  size: number;
  trainable: boolean;
  grad?: number;
  /** Adam's m and v, momentum's accumulation (in `m`). */
  m?: number;
  v?: number;
}

/** What every plan has: its program and arena size, its batch and classes, where the batch goes, the weights' places. */
export interface PlanCore {
  program: Int32Array;
  /** Floats in the arena. */
  size: number;
  batch: number;
  classes: number;
  /** The [N, H, W, C] batch's offset and size. */
  input: number;
  inputSize: number;
  /** model.weights in order; `trainable` ones in model.trainableWeights order are `weights.filter(w => w.trainable)`. */
  weights: PlannedWeight[];
}

export interface StepPlan extends PlanCore {
  /** Offsets: the [N, classes] targets, the output probabilities, the loss, the optimizer's constants. */
  target: number;
  /** The [N, classes] soft targets with distillation, else -1. */
  soft: number;
  /** The [N] rows' weights in the hard loss term with class weights, else -1. */
  rowWeights: number;
  /** Where in `program` the optimizer's instructions begin (all gradients, L2's included, are final there). */
  optimizerAt: number;
  probs: number;
  loss: number;
  k: number;
  optimizer: StepOptimizer;
  /** What to write into the arena before each step besides the batch (dropout masks, drawn by tfjs). */
  perStep: ((arena: Float32Array) => void)[];
}

/** tfjs → arena: each planned weight's current values at its offset. */
export function readWeights(arena: Float32Array, weights: PlannedWeight[]): void {
  for (const w of weights) arena.set(w.variable.read().dataSync() as Float32Array, w.off);
}

const f32bits = new Float32Array(1);
const i32bits = new Int32Array(f32bits.buffer);
export const bitsOf = (x: number) => ((f32bits[0] = x), i32bits[0]);
export const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
export const pairOf = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

export class Unsupported extends Error {}
export const refuse = (why: string): never => {
  throw new Unsupported(why);
};

/** A tfjs-layers L1L2 regularizer as its l2 factor (0: none); an L1 part or another regularizer is refused. */
export function l2Of(reg: unknown): number {
  if (reg == null) return 0;
  const r = reg as { getClassName(): string; hasL1: boolean; hasL2: boolean; l2: number };
  if (r.getClassName() !== 'L1L2' || r.hasL1) refuse('a regularizer other than L2');
  return r.hasL2 ? r.l2 : 0;
}

/** A Conv2D's or Dense's weights as tfjs-layers holds them (bias regularizers refused: the plan has no such term). */
export interface KernelLayer {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
}

/** `l`'s kernel and bias variables, and the kernel as a planned weight with its L2 term. */
export function kernelOf(c: Compiler, l: Layer): { f: KernelLayer; w: PlannedWeight } {
  const f = l as unknown as KernelLayer & { kernelRegularizer: unknown; biasRegularizer: unknown };
  if (f.biasRegularizer) refuse(`${l.name}: a bias regularizer`);
  return { f, w: c.weight(f.kernel, l2Of(f.kernelRegularizer)) };
}

/** The program being written and the arena being laid out. */
export class Builder {
  prog: number[] = [];
  size = 0;
  /** A block of n floats, 64-byte aligned. */
  alloc(n: number): number {
    const off = this.size;
    this.size += Math.ceil(n / 16) * 16;
    return off;
  }
  emit(op: number, ...args: number[]): void {
    this.prog.push(op, ...args);
  }
}

/** Per layer output: its buffer and shape, and (in the backward pass) its gradient's buffer. */
export interface Value {
  off: number;
  shape: number[];
}

/** The compile state: values by layer name, gradients by layer name, the backward steps, the weights' places. */
export class Compiler {
  b = new Builder();
  values = new Map<string, Value>();
  grads = new Map<string, number>();
  /** The backward steps in forward order, each with the layers whose gradient it is the last to read. */
  backward: { run: () => void; reads: Layer[] }[] = [];
  /** The layer whose forward instructions are being written (onBackward's default reader). */
  current: Layer | null = null;
  /** Gradient buffers: free ones by size, and how many layers' gradients each live one still is. */
  private free = new Map<number, number[]>();
  private refs = new Map<number, number>();
  weights = new Map<tf.LayerVariable, PlannedWeight>();
  penalties: { w: PlannedWeight; l2: number }[] = [];
  inputName = '';
  /** Layers whose work another layer's instruction does (a ReLU fused into the batch norm before it). */
  fused = new Set<string>();
  /** Arena writes before each step (StepPlan.perStep). */
  perStep: ((arena: Float32Array) => void)[] = [];
  /** Inference: how many layers still read each value. */
  private readers = new Map<string, number>();

  constructor(
    readonly model: tf.LayersModel,
    readonly batch: number,
    /** Fuse a ReLU into the batch norm before it (off: the two as separate instructions, for tests). */
    readonly fuse = true,
    /** A forward pass as tfjs-layers' predict runs it (batch norm on its moving statistics, no dropout), nothing else. */
    readonly inference = false,
  ) {
    for (const v of model.weights) {
      const size = prod(v.shape as number[]);
      this.weights.set(v, { variable: v, off: this.b.alloc(size), size, trainable: v.trainable });
    }
    if (!inference) for (const v of model.trainableWeights) this.weights.get(v)!.grad = this.b.alloc(prod(v.shape as number[]));
  }

  /** A buffer of n floats (a gradient's; in inference, a value's): a released one of that size, else a new one. */
  scratch(n: number): number {
    return this.free.get(Math.ceil(n / 16))?.pop() ?? this.b.alloc(n);
  }

  /** `off` (n floats) can be handed out again: no instruction written after this reads what it holds. */
  release(off: number, n: number): void {
    const k = Math.ceil(n / 16);
    this.free.set(k, [...(this.free.get(k) ?? []), off]);
  }

  /** `off` is now (also) the gradient of `l`'s output. */
  setGrad(l: Layer, off: number): void {
    this.grads.set(l.name, off);
    this.refs.set(off, (this.refs.get(off) ?? 0) + 1);
  }

  /** A backward step; after it the gradients of `reads` (default: the current layer's) are dead and their buffers free. */
  onBackward(run: () => void, reads: Layer[] = [this.current!]): void {
    this.backward.push({ run, reads });
  }

  /** The backward steps in reverse order, each gradient buffer released once no later step reads it. */
  runBackward(): void {
    for (let i = this.backward.length - 1; i >= 0; i--) {
      const { run, reads } = this.backward[i];
      run();
      for (const l of reads) {
        const g = this.grads.get(l.name);
        if (g === undefined) continue;
        const left = this.refs.get(g)! - 1;
        this.refs.set(g, left);
        if (left === 0) this.release(g, prod(this.values.get(l.name)!.shape));
      }
    }
  }

  /** The plan's common part once the program is written, with `classes` logits. */
  core(classes: number): PlanCore {
    const input = this.values.get(this.inputName)!;
    return {
      program: Int32Array.from(this.b.prog),
      size: this.b.size,
      batch: this.batch,
      classes,
      input: input.off,
      inputSize: prod(input.shape),
      weights: this.model.weights.map((v) => this.weights.get(v)!),
    };
  }

  weight(v: tf.LayerVariable | null | undefined, l2 = 0): PlannedWeight {
    const w = v ? this.weights.get(v) : undefined;
    if (!w) return refuse('a layer weight outside model.weights');
    if (l2 > 0) this.penalties.push({ w, l2 });
    return w;
  }

  input(l: Layer): Value {
    const from = inboundLayers(l);
    if (from.length !== 1) refuse(`${l.name} has ${from.length} inputs`);
    return this.values.get(from[0].name)!;
  }

  output(l: Layer, shape: number[]): Value {
    const n = prod(shape);
    // Inference: a value no later layer reads (consumed) hands its buffer on; a step keeps every value for backward.
    const v = { off: this.inference ? this.scratch(n) : this.b.alloc(n), shape };
    this.values.set(l.name, v);
    this.readers.set(l.name, outboundLayers(l).length);
    return v;
  }

  /** Inference: `l`'s instructions are written; the values it read that no other layer still reads are free. */
  consumed(l: Layer): void {
    if (!this.inference) return;
    for (const f of inboundLayers(l)) {
      const left = (this.readers.get(f.name) ?? 0) - 1;
      this.readers.set(f.name, left);
      const v = this.values.get(f.name);
      if (left === 0 && v && f.name !== this.inputName) this.release(v.off, prod(v.shape));
    }
  }

  /** Whether a gradient is needed for the value `l` produces (not for the model's input). */
  needsGrad(l: Layer): boolean {
    return l.name !== this.inputName;
  }

  /** dL/d(output of `from`) gets a contribution written by `write` into the buffer it is given. */
  contribute(from: Layer, write: (dst: number) => void): void {
    if (!this.needsGrad(from)) return;
    const n = prod(this.values.get(from.name)!.shape);
    const g = this.grads.get(from.name);
    if (g === undefined) {
      const off = this.scratch(n);
      this.setGrad(from, off);
      write(off);
    } else {
      const tmp = this.scratch(n);
      write(tmp);
      this.b.emit(PLAN_OP.Add, g, tmp, n, g);
      this.release(tmp, n);
    }
  }

  /** A contribution that is an existing buffer (an Add's gradient): shared when `from` has no other reader. */
  contributeBuffer(from: Layer, src: number): void {
    if (!this.needsGrad(from)) return;
    const n = prod(this.values.get(from.name)!.shape);
    const g = this.grads.get(from.name);
    if (g !== undefined) this.b.emit(PLAN_OP.Add, g, src, n, g);
    else if (outboundLayers(from).length === 1) this.setGrad(from, src);
    else this.contribute(from, (dst) => this.b.emit(PLAN_OP.Copy, src, n, dst));
  }

  grad(l: Layer): number {
    const g = this.grads.get(l.name);
    return g ?? refuse(`no gradient reaches ${l.name}`);
  }
}
