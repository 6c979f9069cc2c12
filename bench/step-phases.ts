/**
 * A mini-Xception training step (batch 64, random data, softmax cross-entropy plus the L2 terms, as `fer train`
 * computes it) on fer-native, split into its two phases: gradients (tf.variableGrads) and the optimizer update
 * (engine/optimizer.ts applyGradients, tfjs's own where that module is absent, i.e. on older trees). CPU time
 * (process.cpuUsage) and wall time per step, mean of N steps after 3 warm-up steps, and the step's kernel count.
 * CPU time is the steadier measure on a shared machine.
 *
 *   OMP_WAIT_POLICY=PASSIVE [T=threads] [N=20] [OPT=adam|sgd] npx tsx bench/step-phases.ts
 */
import { tf } from '../src/engine/tf.js';
import { useBackend } from '../src/engine/backend.js';
import { buildModel } from '../src/model/mini-xception.js';

await useBackend('native', Number(process.env.T ?? 1));
const fused = await import('../src/engine/optimizer.js').catch(() => null);
const apply = (o: tf.Optimizer, g: Record<string, tf.Tensor>) => (fused ? fused.applyGradients(o, g) : o.applyGradients(g));
const model = buildModel('mini-xception', { seed: 1, l2: 0.0005 });
const opt = process.env.OPT === 'sgd' ? tf.train.momentum(0.01, 0.9, true) : tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const x = tf.randomNormal([64, 48, 48, 1]);
const y = tf.oneHot(tf.randomUniform([64], 0, 7, 'int32'), 7).toFloat();
let cg = 0,
  ca = 0,
  wg = 0,
  wa = 0;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const step = () =>
  tf.tidy(() => {
    const c0 = cpu(),
      w0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      let l = tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Tensor;
      for (const r of model.calculateLosses()) l = tf.add(l, r);
      return l as tf.Scalar;
    }, vars);
    const c1 = cpu(),
      w1 = performance.now();
    apply(opt, grads);
    value.dataSync();
    cg += c1 - c0;
    ca += cpu() - c1;
    wg += w1 - w0;
    wa += performance.now() - w1;
  });
for (let i = 0; i < 3; i++) step();
cg = ca = wg = wa = 0;
const N = Number(process.env.N ?? 20);
for (let i = 0; i < N; i++) step();
const f = (v: number) => (v / N).toFixed(1);
const line = `cpu ms/step: grads ${f(cg)} apply ${f(ca)} | wall grads ${f(wg)} apply ${f(wa)}`;
const { kernels } = await tf.profile(() => step());
console.log(`${line} | ${kernels.length} kernels a step`);
