/**
 * Where a mini-Xception training step's wall time goes (issue 38): one Adam step of 64 random 48×48 images as
 * bench/train-throughput.ts runs it, split into forward+backward (tf.variableGrads) and the optimizer update
 * (applyGradients), with the number of tfjs kernel dispatches in each, interleaved over --steps steps.
 *   npx tsx bench/step-phases.ts [--backend native] [--threads 1] [--steps 20] [--optimizer adam|sgd] [--kernels 4]
 *     [--arch resnet18-w32] [--bf16]
 * --kernels N adds tf.profile's time per kernel, averaged over N more steps.
 * For the JavaScript/native split run it under `node --cpu-prof` (see BENCHMARKS.md, issue 38).
 */
import { parseArgs } from 'node:util';
import { tf } from '../src/engine/tf.js';
import { useBackend, type BackendChoice } from '../src/engine/backend.js';
import { buildModel, type Arch } from '../src/model/mini-xception.js';
import { withPenalties } from '../src/train/epoch.js';
import { setNativeConvBf16 } from '../src/engine/native/backend.js';
import { makeOptimizer } from '../src/train/setup.js';
import { applyGradients } from '../src/engine/optimizer.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '20' },
    optimizer: { type: 'string', default: 'adam' },
    kernels: { type: 'string', default: '0' },
    arch: { type: 'string', default: 'mini-xception' },
    bf16: { type: 'boolean', default: false },
  },
});
await useBackend(values.backend as BackendChoice, Number(values.threads));
if (values.bf16 && !setNativeConvBf16(true)) throw new Error('no bf16 convolutions here');
const model = buildModel(values.arch as Arch, { seed: 1, l2: 0.0005 });
const opt = makeOptimizer({ optimizer: values.optimizer as 'adam' | 'sgd', lr: 1e-3, momentum: 0.9, nesterov: true });
const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
const x = tf.randomNormal([64, 48, 48, 1]);
const y = tf.oneHot(tf.randomUniform([64], 0, 7, 'int32'), 7).toFloat();

const t = { grads: 0, apply: 0, total: 0, cpu: 0 };
const n = Number(values.steps);
for (let i = 0; i < n + 2; i++) {
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  let t1 = 0;
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      return withPenalties(model, tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
    }, vars);
    value.dataSync();
    t1 = performance.now();
    applyGradients(opt, grads as never);
    vars[0].dataSync();
  });
  const t2 = performance.now();
  if (i >= 2) {
    t.grads += t1 - t0;
    t.apply += t2 - t1;
    t.total += t2 - t0;
    const c = process.cpuUsage(c0);
    t.cpu += (c.user + c.system) / 1000;
  }
}
// Kernel dispatches per phase: tf.profile of one more forward+backward, and of one update with its gradients.
const grads = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
const fb = await tf.profile(() => {
  const g = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
  tf.dispose([g.value, ...Object.values(g.grads)]);
  return tf.scalar(0);
});
const up = await tf.profile(() => {
  applyGradients(opt, grads.grads as never);
  return tf.scalar(0);
});
const per = (ms: number) => (ms / n).toFixed(1);
console.log(
  `${values.arch}${values.bf16 ? ' bf16' : ''}, ${values.backend}, ${values.threads} thread(s), ${values.optimizer}, ${n} steps: ${per(t.total)} ms/step = ` +
    `forward+backward ${per(t.grads)} ms + optimizer ${per(t.apply)} ms; CPU time ${per(t.cpu)} ms/step (all threads); ` +
    `${vars.length} variables; ` +
    `kernel dispatches: forward+backward ${fb.kernels.length}, optimizer ${up.kernels.length}`,
);

const reps = Number(values.kernels);
const agg = new Map<string, [number, number]>();
let wall = 0;
for (let rep = 0; rep < reps; rep++) {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => {
        return withPenalties(model, tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
      }, vars);
      applyGradients(opt, g as never);
    });
    return tf.scalar(0);
  });
  wall += performance.now() - t0;
  for (const k of info.kernels) {
    const a = agg.get(k.name) ?? [0, 0];
    agg.set(k.name, [a[0] + (k.kernelTimeMs as number) / reps, a[1] + 1 / reps]);
  }
}
if (reps > 0) {
  const inKernels = [...agg.values()].reduce((a, v) => a + v[0], 0);
  console.log(
    `\nprofiled step: ${(wall / reps).toFixed(1)} ms wall, ${inKernels.toFixed(1)} ms in kernels\n\n| kernel | ms | calls |\n|---|---|---|`,
  );
  for (const [name, [ms, c]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 20))
    console.log(`| ${name} | ${ms.toFixed(1)} | ${c.toFixed(0)} |`);
}
