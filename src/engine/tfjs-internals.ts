/**
 * Every use fer makes of TensorFlow.js internals (fields and methods not in its public types), in one place,
 * checked against the tfjs version below: a test fails when the installed tfjs is another version, so an
 * upgrade starts by checking these against its sources.
 */
import type { tf } from './tf.js';

/** The @tensorflow/tfjs version these were checked against (package.json pins ^ of it). */
export const TFJS_CHECKED_VERSION = '4.22.0';

type Layer = tf.layers.Layer;

/** A layer weight's backing tf.Variable (LayerVariable.val): what gradients and optimizers act on. */
export function variableOf(w: tf.LayerVariable): tf.Variable {
  return (w as unknown as { val: tf.Variable }).val;
}

/**
 * Sets an optimizer's learning rate in place. SGD and Momentum step with the scalar `c` = −lr they made at
 * construction, so they get their own setLearningRate (which remakes `c`); Adam reads its `learningRate` field.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Adam's running β₁ᵗ and β₂ᵗ (accBeta1/accBeta2), absent on other optimizers. */
export function adamPowers(optimizer: tf.Optimizer): { accBeta1?: tf.Variable; accBeta2?: tf.Variable } {
  return optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
}

/** The layers reading a layer's output (Layer.outboundNodes). */
export function outboundLayers(l: Layer): Layer[] {
  return (l as unknown as { outboundNodes: { outboundLayer: Layer }[] }).outboundNodes.map((n) => n.outboundLayer);
}

/** The layers a layer reads, at its first call (Layer.inboundNodes[0].inboundLayers). */
export function inboundLayers(l: Layer): Layer[] {
  const nodes = (l as unknown as { inboundNodes: { inboundLayers: Layer[] }[] }).inboundNodes;
  return nodes.length ? nodes[0].inboundLayers : [];
}

/** The fields of tfjs-layers' BatchNormalization that fer reads and sets (not in its public typings). */
export interface BnInternals {
  axis: number | number[];
  epsilon: number;
  momentum: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** A BatchNormalization layer's internal fields (the layer must be one). */
export function batchNormInternals(l: Layer): BnInternals {
  return l as unknown as BnInternals;
}

/** A layer class tfjs-layers does not export, taken from an instance's constructor (to subclass it). */
export function layerClassOf(instance: Layer): new (args: Record<string, unknown>) => Layer {
  return instance.constructor as unknown as new (args: Record<string, unknown>) => Layer;
}

/** What fer's read/compute/write bridge uses of the cpu backend (KernelBackend methods missing from its typings). */
export interface CpuBackendBridge {
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
  readSync(dataId: object): Float32Array;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}
export function cpuBackendBridge(backend: unknown): CpuBackendBridge {
  return backend as CpuBackendBridge;
}

/**
 * Marks a cpu-derived backend as used (MathBackendCPU's private `firstUse`), so that its first tensor write does
 * not print tfjs's "Hi, looks like you are running TensorFlow.js in Node.js ... install our node backend" banner:
 * fer-native is the fast Node backend that banner asks for. (useBackend also sets PROD, which quiets it for
 * tfjs's own cpu backend; a caller reaching fer-native another way, e.g. tf.setBackend, would otherwise see it.)
 */
export function skipFirstUseBanner(backend: object): void {
  (backend as { firstUse: boolean }).firstUse = false;
}

/** Adds a reference to a tensor's data on a backend (KernelBackend.incRef): a kernel returning its input shares it. */
export function incRef(backend: unknown, dataId: object): void {
  (backend as { incRef(dataId: object): void }).incRef(dataId);
}

/** An optimizer's slot variable for one weight, as tfjs keeps it (and getWeights names it). */
export interface OptimizerSlot {
  originalName: string;
  variable: tf.Variable;
}

/** AdamOptimizer's fields and its protected incrementIterations (what its applyGradients reads and writes). */
export function adamInternals(o: tf.AdamOptimizer): {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerSlot[];
  accumulatedSecondMoment: OptimizerSlot[];
  incrementIterations(): void;
} {
  return o as never;
}

/** MomentumOptimizer's fields: its momentum `m` and step `c` (= −learning rate at construction) are scalars. */
export function momentumInternals(o: tf.MomentumOptimizer): {
  m: tf.Scalar;
  c: tf.Scalar;
  useNesterov: boolean;
  accumulations: OptimizerSlot[];
  incrementIterations(): void;
} {
  return o as never;
}

/** The variable registered under `name` in `engine` (tf.engine()): where optimizers look weights up. */
export function registeredVariable(engine: ReturnType<typeof tf.engine>, name: string): tf.Variable {
  return (engine as unknown as { registeredVariables: Record<string, tf.Variable> }).registeredVariables[name];
}
