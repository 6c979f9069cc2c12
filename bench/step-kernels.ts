/**
 * Kernel time of a mini-Xception training step (batch 64, Adam, fer-native), per tfjs kernel: each call's
 * minimum over P profiled steps (the kernel sequence repeats exactly, so call i of one step is call i of the
 * next), which drops preemption by other jobs on a shared machine. Prints the total, the kernels by name, and
 * the slowest calls with their input shapes. The update goes through engine/optimizer.ts where it exists.
 *
 *   OMP_WAIT_POLICY=PASSIVE [T=1] [P=6] npx tsx bench/step-kernels.ts
 */
import { tf } from '../src/engine/tf.js';
import { useBackend } from '../src/engine/backend.js';
import { buildModel } from '../src/model/mini-xception.js';
import { withPenalties } from '../src/train/epoch.js';

await useBackend('native', Number(process.env.T ?? 1));
const fused = await import('../src/engine/optimizer.js').catch(() => null);
const apply = (o: tf.Optimizer, g: Record<string, tf.Tensor>) => (fused ? fused.applyGradients(o, g) : o.applyGradients(g));
const model = buildModel('mini-xception', { seed: 1, l2: 0.0005 });
const opt = tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const x = tf.randomNormal([64, 48, 48, 1]);
const y = tf.oneHot(tf.randomUniform([64], 0, 7, 'int32'), 7).toFloat();
const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      return withPenalties(model, tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
    }, vars);
    apply(opt, grads);
    value.dataSync();
  });
for (let i = 0; i < 3; i++) step();
const runs: { name: string; ms: number; shapes: string }[][] = [];
for (let r = 0; r < Number(process.env.P ?? 6); r++) {
  const info = await tf.profile(() => step());
  runs.push(info.kernels.map((k) => ({ name: k.name, ms: k.kernelTimeMs as number, shapes: JSON.stringify(k.inputShapes) })));
}
// Ops that wrap kernels (fusedConv2d__op, softmaxCrossEntropy__op) would count their kernels twice.
const calls = runs[0]
  .map((c, i) => ({ ...c, ms: Math.min(...runs.map((r) => r[i]?.ms ?? Infinity)) }))
  .filter((c) => !c.name.endsWith('__op'));
const byName = new Map<string, [number, number]>();
for (const c of calls) {
  const a = byName.get(c.name) ?? [0, 0];
  a[0] += c.ms;
  a[1]++;
  byName.set(c.name, a);
}
console.log(`${calls.length} kernels a step, ${calls.reduce((s, c) => s + c.ms, 0).toFixed(1)} ms (sum of per-call minima)`);
for (const [n, [ms, k]] of [...byName].sort((a, b) => b[1][0] - a[1][0]).slice(0, 20))
  console.log(`${n.padEnd(40)} ${ms.toFixed(2).padStart(8)} ms ${k}`);
console.log('slowest calls:');
for (const c of calls.sort((a, b) => b.ms - a.ms).slice(0, 10)) console.log(`${c.ms.toFixed(2).padStart(8)} ms ${c.name} ${c.shapes}`);
