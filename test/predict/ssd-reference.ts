/**
 * face-api's SSD-MobileNetV1 on the tfjs cpu backend, in a process of its own, for test/predict/onnx-nets.e2e.test.ts:
 * one 512×512 forward there is a single synchronous stretch of 15 s to over a minute on a loaded machine, and a
 * vitest worker silent for 60 s fails the run ("Timeout calling onTaskUpdate"), whatever the test's timeout.
 *
 *   node --import tsx test/predict/ssd-reference.ts forward INPUT.f32        → {"boxes": […], "scores": […]}
 *   node --import tsx test/predict/ssd-reference.ts detect INPUT.f32 MIN     → {"faces": [{x, y, width, height, score}…]}
 *
 * INPUT.f32: a 512×512×3 image of 0–255 values as raw float32. Output: JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { faceApi } from '../../src/detect/face-api.js';
import { SSD_SIZE } from '../../src/detect/onnx-ssd.js';

const [mode, file, min] = process.argv.slice(2);
await useBackend('cpu');
const fa = await faceApi();
const buf = readFileSync(file);
const pixels = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
const input = tf.tensor3d(pixels, [SSD_SIZE, SSD_SIZE, 3]);
if (mode === 'forward') {
  const out = fa.nets.ssdMobilenetv1.forwardInput(new fa.NetInput([input] as never));
  process.stdout.write(JSON.stringify({ boxes: Array.from(out.boxes[0].dataSync()), scores: Array.from(out.scores[0].dataSync()) }));
} else {
  const found = await fa.detectAllFaces(input as never, new fa.SsdMobilenetv1Options({ minConfidence: Number(min) }));
  process.stdout.write(
    JSON.stringify({ faces: found.map((d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score })) }),
  );
}
