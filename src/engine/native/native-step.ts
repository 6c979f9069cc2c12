/**
 * A whole training step of a model in one call into the addon (issue 38): the plan of step-plan.ts run by
 * native/src/step.cc over one arena that keeps the weights, batch-norm statistics and optimizer slots between
 * steps. tfjs stays the model definition: pull() reads its variables and optimizer slots into the arena,
 * push() writes them back (checkpoints, validation, export read them there), both as tfjs creates and names them.
 */
import { tf } from '../tf.js';
import { adamInternals, momentumInternals, variableOf, type OptimizerSlot } from '../tfjs-internals.js';
import { loadNativeAddon } from './addon.js';
import { PLAN_OP, PLAN_OPS, compileStep, type StepDistill, type StepOptimizer, type StepPlan } from './step-plan.js';
import { readWeights } from './step-compiler.js';
import { argmaxRows } from '../../util/argmax.js';

/** The addon's plan executor, where this build has one that runs every opcode the compiler emits; or why not. */
export type RunPlan = (arena: Float32Array, program: Int32Array, times?: Float64Array) => void;
export function planExecutor(): RunPlan | { unsupported: string } {
  const addon = loadNativeAddon();
  if (!addon?.runPlan) return { unsupported: 'no native addon with runPlan' };
  if ((addon.planOps ?? 0) < PLAN_OPS) return { unsupported: 'an addon build older than this plan compiler (rebuild native/)' };
  return addon.runPlan.bind(addon);
}

export type { StepPlan };

/**
 * A plan's arena, zeroed, with 2 MiB pages asked for before anything is written (addon.cc adviseHugePages): every
 * step walks the whole arena, and with 4 KiB pages its memory-bound kernels pay TLB misses. `FER_HUGEPAGES=0` keeps
 * 4 KiB pages (for measuring the difference).
 */
export function planArena(size: number): Float32Array {
  const arena = new Float32Array(size);
  if (process.env.FER_HUGEPAGES !== '0') loadNativeAddon()?.adviseHugePages?.(arena);
  return arena;
}

interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}
interface MomentumFields {
  learningRate: number;
  momentum: number;
}

/** The optimizer as the executor knows it, or why not. */
function stepOptimizer(optimizer: tf.Optimizer): StepOptimizer | { unsupported: string } {
  const kind = optimizer.getClassName();
  if (kind === 'Adam') return { kind: 'adam' };
  if (kind === 'Momentum') return { kind: 'momentum', nesterov: momentumInternals(optimizer as tf.MomentumOptimizer).useNesterov };
  return { unsupported: `the ${kind} optimizer` };
}

export class NativeTrainStep {
  readonly arena: Float32Array;
  /** Adam's β₁ᵗ and β₂ᵗ as float32, as tfjs keeps them in accBeta1/accBeta2. */
  private accBeta1 = 0;
  private accBeta2 = 0;
  /** The program a step runs: plan.program, or its copy that zeroes the frozen weights' gradients (train()). */
  private program: Int32Array;
  /** With class weights, each class's weight in the hard loss term (fit.ts classWeightsFor). */
  private classWeights: Float32Array | null = null;

  private constructor(
    readonly plan: StepPlan,
    private readonly runPlan: RunPlan,
    readonly model: tf.LayersModel,
    readonly optimizer: tf.Optimizer,
  ) {
    this.arena = planArena(plan.size);
    this.program = plan.program;
  }

  /** The executor for `model` trained by `optimizer` at batch size `batch`, with the state pulled in; or why there is none. */
  static create(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    batch: number,
    options: { fuse?: boolean; distill?: StepDistill; classWeights?: ArrayLike<number> | null } = {},
  ): NativeTrainStep | { unsupported: string } {
    const runPlan = planExecutor();
    if (typeof runPlan !== 'function') return runPlan;
    const opt = stepOptimizer(optimizer);
    if ('unsupported' in opt) return opt;
    const plan = compileStep(model, batch, opt, { ...options, classWeights: !!options.classWeights });
    if ('unsupported' in plan) return plan;
    const s = new NativeTrainStep(plan, runPlan, model, optimizer);
    if (options.classWeights) s.classWeights = Float32Array.from(options.classWeights);
    s.pull();
    return s;
  }

  /** The optimizer's slot lists: Adam's first and second moments, momentum's accumulations. */
  private slotLists(): [OptimizerSlot[], string][] {
    if (this.plan.optimizer.kind === 'adam') {
      const o = adamInternals(this.optimizer as tf.AdamOptimizer);
      return [
        [o.accumulatedFirstMoment, '/m'],
        [o.accumulatedSecondMoment, '/v'],
      ];
    }
    return [[momentumInternals(this.optimizer as tf.MomentumOptimizer).accumulations, '/momentum']];
  }

  /** tfjs → arena: every weight, the optimizer's slots (zeros where tfjs has made none yet), Adam's powers. */
  pull(): void {
    const { arena, plan } = this;
    this.pullWeights();
    const lists = this.slotLists();
    plan.weights
      .filter((w) => w.trainable)
      .forEach((w, i) => {
        lists.forEach(([slots], j) => {
          const off = j === 0 ? w.m! : w.v!;
          const s = slots[i];
          if (s) arena.set(s.variable.dataSync() as Float32Array, off);
          else arena.fill(0, off, off + w.size);
        });
      });
    if (plan.optimizer.kind === 'adam') {
      const o = adamInternals(this.optimizer as tf.AdamOptimizer);
      this.accBeta1 = o.accBeta1.dataSync()[0];
      this.accBeta2 = o.accBeta2.dataSync()[0];
    }
  }

  /** arena → tfjs: every weight, the optimizer's slots (made as tfjs makes them where absent), Adam's powers. */
  push(): void {
    const { arena, plan } = this;
    this.pushWeights();
    const lists = this.slotLists();
    plan.weights
      .filter((w) => w.trainable)
      .forEach((w, i) => {
        const v = variableOf(w.variable);
        lists.forEach(([slots, suffix], j) => {
          const off = j === 0 ? w.m! : w.v!;
          slots[i] ??= { originalName: `${v.name}${suffix}`, variable: tf.tidy(() => tf.zerosLike(v).variable(false)) };
          tf.tidy(() => slots[i].variable.assign(tf.tensor(arena.slice(off, off + w.size), v.shape)));
        });
      });
    if (plan.optimizer.kind === 'adam') {
      const o = adamInternals(this.optimizer as tf.AdamOptimizer);
      tf.tidy(() => {
        o.accBeta1.assign(tf.scalar(this.accBeta1));
        o.accBeta2.assign(tf.scalar(this.accBeta2));
      });
    }
  }

  /** tfjs → arena for the weights alone (training hooks change them in tfjs between steps: train/native-step.ts). */
  pullWeights(): void {
    readWeights(this.arena, this.plan.weights);
  }

  /** arena → tfjs for the weights alone. */
  pushWeights(): void {
    for (const w of this.plan.weights) {
      const t = tf.tensor(this.arena.slice(w.off, w.off + w.size), w.variable.shape as number[]);
      w.variable.write(t);
      t.dispose();
    }
  }

  /**
   * Which weights the following steps train: `vars` (tfjs variables, e.g. the head's while --freeze-epochs holds the
   * body), or all trainable ones (null). The others get a zero gradient, as tfjs's step gives them (epoch.ts
   * optimizerStep): their optimizer slots decay and their update is what those slots alone make (none from zero slots);
   * the loss and the forward pass (batch statistics, moving averages) are the whole model's either way.
   */
  train(vars: readonly tf.Variable[] | null): void {
    const keep = vars && new Set<tf.Variable>(vars);
    const frozen = keep ? this.plan.weights.filter((w) => w.trainable && !keep.has(variableOf(w.variable))) : [];
    if (!frozen.length) {
      this.program = this.plan.program;
      return;
    }
    const { program, optimizerAt } = this.plan;
    const zeros = frozen.flatMap((w) => [PLAN_OP.Zero, w.grad!, w.size]);
    this.program = Int32Array.from([...program.subarray(0, optimizerAt), ...zeros, ...program.subarray(optimizerAt)]);
  }

  /** Views of every weight in the arena by its tfjs variable's name (valid until the next step writes them). */
  weightsByName(): Map<string, Float32Array> {
    return new Map(this.plan.weights.map((w) => [variableOf(w.variable).name, this.arena.subarray(w.off, w.off + w.size)]));
  }

  /** Views of every weight in the arena, in model.weights order (valid until the next step writes them). */
  weightViews(): Float32Array[] {
    return this.plan.weights.map((w) => this.arena.subarray(w.off, w.off + w.size));
  }

  /** The optimizer's constants of this step (native/src/kernels.h adam_update / momentum_update), as tfjs rounds them. */
  private constants(): void {
    const { arena, plan } = this;
    if (plan.optimizer.kind === 'adam') {
      const o = this.optimizer as unknown as AdamFields;
      arena.set(
        [
          o.beta1,
          1 - o.beta1,
          o.beta2,
          1 - o.beta2,
          1 - this.accBeta1,
          1 - this.accBeta2,
          o.epsilon ?? tf.backend().epsilon(),
          -o.learningRate,
        ],
        plan.k,
      );
    } else {
      const o = this.optimizer as unknown as MomentumFields;
      arena.set([o.momentum, -o.learningRate], plan.k);
    }
  }

  /** Each row's weight in the hard loss: its target's argmax class's weight (the first of equal maxima, as tf.argMax). */
  private rowWeights(ys: Float32Array): void {
    const { plan, arena } = this;
    argmaxRows(ys, plan.classes).forEach((best, i) => (arena[plan.rowWeights + i] = this.classWeights![best]));
  }

  /**
   * One step on a batch of [N, H, W, C] images and [N, classes] target distributions: returns the loss (with the
   * L2 terms) and a view of the batch's output probabilities (valid until the next step). `times`: see addon.ts runPlan.
   */
  step(xs: Float32Array, ys: Float32Array, times?: Float64Array, soft?: Float32Array | null): { loss: number; probs: Float32Array } {
    const { arena, plan } = this;
    if (xs.length !== plan.inputSize || ys.length !== plan.batch * plan.classes)
      throw new Error(
        `native step: a batch of ${xs.length} values and ${ys.length} targets, planned for ${plan.inputSize} and ${plan.batch * plan.classes}`,
      );
    if (plan.soft >= 0 !== !!soft || (soft && soft.length !== ys.length))
      throw new Error(`native step: ${plan.soft >= 0 ? 'a distillation plan needs' : 'a plan without distillation takes no'} soft targets`);
    arena.set(xs, plan.input);
    arena.set(ys, plan.target);
    if (soft) arena.set(soft, plan.soft);
    if (plan.rowWeights >= 0) this.rowWeights(ys);
    this.constants();
    for (const write of plan.perStep) write(arena);
    this.runPlan(arena, this.program, times);
    if (plan.optimizer.kind === 'adam') {
      const o = this.optimizer as unknown as AdamFields;
      this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(o.beta1));
      this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(o.beta2));
    }
    (this.optimizer as unknown as { incrementIterations(): void }).incrementIterations();
    return { loss: arena[plan.loss], probs: arena.subarray(plan.probs, plan.probs + plan.batch * plan.classes) };
  }
}
