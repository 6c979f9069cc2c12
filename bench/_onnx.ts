import { useBackend } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { buildModel } from '../src/model/mini-xception.js';
import { defaultMetadata } from '../src/model/io.js';
import { convertToOnnx } from '../src/convert/onnx/convert.js';
import { createSession } from '../src/runtime/ort.js';
import { writeFileSync } from 'node:fs';
await useBackend('cpu');
const m = buildModel('mini-xception', { seed: 3 });
// give BN non-trivial stats
for (const l of m.layers) if (l.getClassName() === 'BatchNormalization') l.setWeights(l.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape), 0.5), i === 3 ? 0.75 : 0.1)));
const x = tf.randomNormal([8, 48, 48, 1]);
const ref = (m.predict(x) as tf.Tensor).dataSync();
for (const precision of ['fp32', 'fp16', 'int8'] as const) {
  const acts: Record<string, number> = {};
  if (precision === 'int8') for (const l of m.layers) acts[l.name] = 4;
  const bytes = convertToOnnx(m, defaultMetadata(), { precision, activationRanges: acts });
  writeFileSync(`/tmp/t.${precision}.onnx`, bytes);
  const s = await createSession(bytes);
  const got = await s.run(x.dataSync() as Float32Array, [8, 48, 48, 1]);
  let md = 0; for (let i = 0; i < ref.length; i++) md = Math.max(md, Math.abs(got[i] - ref[i]));
  console.log(precision, bytes.length, 'maxdiff', md);
}
