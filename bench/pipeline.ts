/**
 * End-to-end `fer predict` speed at 640×480: frames/s and time per stage (decode, detect, landmarks,
 * classify) on scenes with one face and with several.
 *
 *   npx tsx bench/pipeline.ts [--frames 20] [--detector auto|dlib+tiny|dlib|tiny|ssd] [--upsample 0|1|auto] [--input-size 416]
 *     [--backend native] [--model M.onnx]
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend, type BackendChoice } from '../src/engine/backend.js';
import { composeScene, writeJpeg } from '../src/io/image.js';
import { loadClassifier } from '../src/predict/classifier.js';
import { predictFile } from '../src/predict/predict.js';
import type { Detector } from '../src/detect/faces.js';
import { sceneItems } from './make-scene.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '20' },
    detector: { type: 'string', default: 'auto' },
    upsample: { type: 'string', default: 'auto' },
    backend: { type: 'string', default: 'native' },
    model: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'input-size': { type: 'string', default: '416' },
  },
});
const info = await useBackend(values.backend as BackendChoice, Number(values.threads));
const classifier = await loadClassifier(values.model);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-pipeline-'));
console.log(
  `backend ${info.name}, detector ${values.detector}, upsample ${values.upsample}${values.detector === 'tiny' ? ` at ${values['input-size']}` : ''}, classifier ${classifier.kind} (${path.basename(classifier.path)})\n`,
);
console.log('| scene | faces found | frames/s | decode ms | detect ms | landmarks ms | classify ms |\n|---|---|---|---|---|---|---|');
for (const n of [1, 3]) {
  const file = path.join(dir, `scene-${n}.jpg`);
  await writeJpeg(await composeScene(640, 480, sceneItems(n)), file);
  const upsample = values.upsample === 'auto' ? ('auto' as const) : Number(values.upsample);
  const o = { detector: values.detector as Detector, inputSize: Number(values['input-size']), upsample };
  await predictFile(file, classifier, o); // warm-up: model loading and kernel JIT
  const frames = Number(values.frames);
  const sum = { decodeMs: 0, detectMs: 0, landmarksMs: 0, classifyMs: 0 };
  let found = 0;
  const t = performance.now();
  for (let i = 0; i < frames; i++) {
    const { result } = await predictFile(file, classifier, o);
    found = result.faces.length;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += result.timings![k];
  }
  const fps = frames / ((performance.now() - t) / 1000);
  const per = (k: keyof typeof sum) => (sum[k] / frames).toFixed(1);
  console.log(
    `| 640×480, ${n} face${n > 1 ? 's' : ''} | ${found} | ${fps.toFixed(2)} | ${per('decodeMs')} | ${per('detectMs')} | ${per('landmarksMs')} | ${per('classifyMs')} |`,
  );
}
await classifier.release();
