import { tf } from '../src/engine/tf.js';
import { registerNativeBackend } from '../src/engine/native/backend.js';
import { miniXception } from '../src/model/mini-xception.js';
registerNativeBackend(Number(process.env.THREADS ?? 2));
const backend = process.argv[2] ?? 'fer-native';
await tf.setBackend(backend);
const model = miniXception({ seed: 1 });
console.log('params', model.countParams());
const opt = tf.train.adam(1e-3);
const B = 64;
const x = tf.randomNormal([B, 48, 48, 1]);
const y = tf.oneHot(tf.randomUniform([B], 0, 7, 'int32'), 7);
const step = () => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
for (let i = 0; i < 3; i++) step()?.dispose();
const n = Number(process.argv[3] ?? 10);
const t0 = performance.now();
for (let i = 0; i < n; i++) { const l = step(); if (i === n - 1) console.log('loss', l!.dataSync()[0]); l?.dispose(); }
const dt = (performance.now() - t0) / n;
console.log(backend, 'ms/step', dt.toFixed(1), 'img/s', (B * 1000 / dt).toFixed(0), 'tensors', tf.memory().numTensors);
if (process.env.PROFILE) {
  const info = await tf.profile(() => { const l = step(); return l as tf.Tensor; });
  const agg = new Map<string, [number, number]>();
  for (const k of info.kernels) { const a = agg.get(k.name) ?? [0, 0]; a[0] += k.kernelTimeMs as number; a[1]++; agg.set(k.name, a); }
  const rows = [...agg.entries()].sort((a, b) => b[1][0] - a[1][0]);
  let total = 0; for (const r of rows) total += r[1][0];
  console.log('total kernel ms', total.toFixed(1), 'kernels', info.kernels.length);
  for (const [n, [ms, c]] of rows.slice(0, 25)) console.log(n.padEnd(40), ms.toFixed(1).padStart(8), String(c).padStart(5));
}
