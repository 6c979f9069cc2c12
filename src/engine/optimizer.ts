/**
 * optimizer.applyGradients(grads), in one kernel a weight where the backend has one (fer-native:
 * engine/native/kernels/optimizer.ts) for tfjs's Adam and momentum optimizers: the same slots, created and named
 * as tfjs creates them, the same float32 arithmetic and so bit-identical weights and slots (checkpoints and
 * resume unchanged), without tfjs's 13 (Adam) or 5 (Nesterov) kernel dispatches a weight. Any other optimizer
 * or backend runs tfjs's own applyGradients.
 */
import { tf, activeBackendHas } from './tf.js';
import { adamInternals, momentumInternals, registeredVariable, type OptimizerSlot } from './tfjs-internals.js';

export const ADAM_UPDATE = 'FerAdamUpdate';
export const MOMENTUM_UPDATE = 'FerMomentumUpdate';

type Grads = Record<string, tf.Tensor>;

/** The slot at i, made as tfjs makes it on a weight's first update (zeros, not trainable, `${name}${suffix}`). */
function slot(slots: OptimizerSlot[], i: number, value: tf.Variable, name: string, suffix: string): tf.Variable {
  slots[i] ??= { originalName: `${name}${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  return slots[i].variable;
}

function adam(optimizer: tf.AdamOptimizer, grads: Grads): void {
  const o = adamInternals(optimizer);
  const engine = tf.engine();
  tf.tidy(() => {
    const oneMinusAccBeta1 = tf.sub(1, o.accBeta1),
      oneMinusAccBeta2 = tf.sub(1, o.accBeta2);
    const attrs = { beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, learningRate: o.learningRate };
    Object.keys(grads).forEach((name, i) => {
      const x = registeredVariable(engine, name);
      const m = slot(o.accumulatedFirstMoment, i, x, name, '/m'),
        v = slot(o.accumulatedSecondMoment, i, x, name, '/v');
      const g = grads[name];
      if (g == null) return;
      const [x1, m1, v1] = engine.runKernel(ADAM_UPDATE, { x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 }, attrs) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      x.assign(x1);
    });
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
  });
  o.incrementIterations();
}

function momentum(optimizer: tf.MomentumOptimizer, grads: Grads): void {
  const o = momentumInternals(optimizer);
  const engine = tf.engine();
  Object.keys(grads).forEach((name, i) => {
    const x = registeredVariable(engine, name);
    const acc = slot(o.accumulations, i, x, name, '/momentum');
    const g = grads[name];
    if (g == null) return;
    tf.tidy(() => {
      const [x1, acc1] = engine.runKernel(
        MOMENTUM_UPDATE,
        { x, acc, g, momentum: o.m, c: o.c },
        { nesterov: o.useNesterov },
      ) as tf.Tensor[];
      acc.assign(acc1);
      x.assign(x1);
    });
  });
  o.incrementIterations();
}

/** optimizer.applyGradients(grads), fused where the active backend has the kernel (see above). */
export function applyGradients(optimizer: tf.Optimizer, grads: Grads): void {
  // By class name: tfjs's optimizer classes answer instanceof by duck typing (a MomentumOptimizer is an
  // `instanceof tf.AdamOptimizer`).
  const kind = optimizer.getClassName();
  if (kind === 'Adam' && activeBackendHas(ADAM_UPDATE)) adam(optimizer as tf.AdamOptimizer, grads);
  else if (kind === 'Momentum' && activeBackendHas(MOMENTUM_UPDATE)) momentum(optimizer as tf.MomentumOptimizer, grads);
  else optimizer.applyGradients(grads as never);
}
