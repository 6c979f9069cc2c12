import { tf } from './src/engine/tf.js';
import { useBackend } from './src/engine/backend.js';
import { buildModel } from './src/model/mini-xception.js';
await useBackend('wasm');
const model = buildModel('mini-xception', { seed: 1 });
const opt = tf.train.adam(1e-3);
const B = Number(process.env.B ?? 32);
const x = tf.randomNormal([B, 48, 48, 1]);
const y = tf.oneHot(tf.randomUniform([B], 0, 7, 'int32'), 7);
const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar); });
step();
let t = performance.now();
const info = await tf.profile(() => { step(); return tf.scalar(0); });
console.log('step ms', (performance.now() - t).toFixed(0));
const agg = new Map<string, [number, number]>();
for (const k of info.kernels) { const a = agg.get(k.name) ?? [0, 0]; a[0] += k.kernelTimeMs as number; a[1]++; agg.set(k.name, a); }
const tot = [...agg.values()].reduce((s, v) => s + v[0], 0);
console.log('kernel ms', tot.toFixed(0));
for (const [n, [ms, c]] of [...agg.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 14)) console.log(n.padEnd(36), ms.toFixed(1), c);
