/**
 * The layers of the ResNet-18 teachers' head that the whole-step compiler knows besides step-layers.ts's:
 * Dense (linear, or softmax as the model's output, whose softmax the loss instruction does) and Dropout, whose
 * mask is drawn by tfjs's own dropout before each step (so a seeded layer gets the mask tfjs's step would: the same
 * one every step, as tfjs-layers' Dropout with a seed gives), and the model's logits for the loss.
 */
import { tf } from '../tf.js';
import { inboundLayers } from '../tfjs-internals.js';
import { PLAN_OP, kernelOf, prod, refuse, type Compiler, type Layer, type Value } from './step-compiler.js';

const activationOf = (l: Layer) => String((l.getConfig() as Record<string, unknown>).activation);

/** A Dense layer whose softmax is the model's output activation (its loss instruction does the softmax). */
export function isSoftmaxDense(l: Layer): boolean {
  return l.getClassName() === 'Dense' && activationOf(l) === 'softmax';
}

/** y = x W (+ b) over [N, in] rows, by MatMul; its gradients the two other products and the bias's row sums. */
export function dense(c: Compiler, l: Layer, x: Value): void {
  const output = c.model.outputs[0]?.sourceLayer === l;
  if (activationOf(l) !== 'linear' && !(output && isSoftmaxDense(l))) refuse(`${l.name}: a Dense with activation ${activationOf(l)}`);
  if (x.shape.length !== 2) refuse(`${l.name}: a Dense over a rank-${x.shape.length} input`);
  const { f, w } = kernelOf(c, l);
  const [n, k] = x.shape,
    units = f.kernel.shape[1] as number;
  const y = c.output(l, [n, units]);
  c.b.emit(PLAN_OP.MatMul, x.off, w.off, n, k, units, 0, y.off);
  const bias = f.bias ? c.weight(f.bias) : null;
  if (bias) c.b.emit(PLAN_OP.BiasAdd, y.off, bias.off, n, units, y.off);
  const from = inboundLayers(l)[0];
  c.onBackward(() => {
    const dy = c.grad(l);
    if (bias) c.b.emit(PLAN_OP.SumRows, dy, n, units, bias.grad!);
    c.b.emit(PLAN_OP.MatMul, x.off, dy, k, n, units, 1, w.grad!);
    c.contribute(from, (dst) => c.b.emit(PLAN_OP.MatMul, dy, w.off, n, units, k, 2, dst));
  });
}

/**
 * Dropout in training: y = x · mask, dx = dy · mask, the mask (0 or 1/(1 − rate)) written into the arena before
 * each step as tf.dropout makes it (the layer's rate, noise shape and seed), so the products are tfjs's own.
 */
export function dropout(c: Compiler, l: Layer, x: Value): void {
  const d = l as unknown as { rate: number; seed?: number; getNoiseShape(t: tf.Tensor): number[] | null };
  const n = prod(x.shape);
  const y = c.output(l, x.shape);
  const from = inboundLayers(l)[0];
  if (!(d.rate > 0 && d.rate < 1) || c.inference) {
    // tfjs-layers passes the input through (no rate, or not training): so does the plan.
    c.b.emit(PLAN_OP.Copy, x.off, n, y.off);
    c.onBackward(() => c.contributeBuffer(from, c.grad(l)));
    return;
  }
  const mask = c.b.alloc(n);
  c.perStep.push((arena) =>
    arena.set(
      tf.tidy(() => {
        const ones = tf.ones(x.shape);
        return tf.dropout(ones, d.rate, d.getNoiseShape(ones) ?? undefined, d.seed).dataSync() as Float32Array;
      }),
      mask,
    ),
  );
  c.b.emit(PLAN_OP.Mul, x.off, mask, n, y.off);
  c.onBackward(() => c.contribute(from, (dst) => c.b.emit(PLAN_OP.Mul, c.grad(l), mask, n, dst)));
}

/** The layer whose output is the model's logits (the softmax output's input, or a softmax Dense's linear part) and that value. */
export function logitsOf(c: Compiler, out: Layer): { layer: Layer; value: Value } {
  const layer = isSoftmaxDense(out) ? out : inboundLayers(out)[0];
  return { layer, value: c.values.get(layer.name)! };
}
