/**
 * The training step bench/arch-step.ts times and bench/step-profile.ts profiles: 64 random 48×48 images,
 * softmax cross-entropy, SGD with Nesterov momentum, on whatever backend is active.
 */
import { buildModel, type Arch } from '../src/model/mini-xception.js';
import { tf } from '../src/engine/tf.js';

export function sgdStep(arch: Arch): { params: number; step: () => number } {
  const m = buildModel(arch, { seed: 1, l2: 0.0005 });
  const opt = tf.train.momentum(0.01, 0.9, true);
  const vars = m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const x = tf.randomNormal([64, 48, 48, 1]),
    y = tf.oneHot(tf.randomUniform([64], 0, 7, 'int32'), 7).toFloat();
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, tf.log(tf.clipByValue(m.apply(x, { training: true }) as tf.Tensor, 1e-7, 1))) as tf.Scalar,
        vars,
      );
      opt.applyGradients(grads as never);
      return value.dataSync()[0];
    });
  return { params: m.countParams(), step };
}
