/**
 * SSD-MobileNetV1 face detection time per image, before and after its port to ONNX (detect/onnx-ssd.ts):
 * face-api's detectAllFaces on tfjs (the old ssdDetect) against fer's graph in onnxruntime with 1 thread
 * (what fer's detectFaces uses) and with onnxruntime's default threads, each followed by its decoding and
 * NMS. The three run interleaved, in a rotating order, on the same 512×512 letterboxed views, so a shared
 * machine's load falls on all of them alike; the table gives medians and quartiles. Letterboxing (sharp) is
 * timed on its own: every path pays it.
 *
 *   npx tsx bench/ssd-speed.ts [--backend native] [--rounds 30] [IMAGE…]   (default: fixtures/scenes/two-faces.jpg)
 */
import { parseArgs } from 'node:util';
import { tf } from '../src/engine/tf.js';
import { useBackend, type BackendChoice } from '../src/engine/backend.js';
import { cropSquare, decodeRgb, type RawImage } from '../src/io/image.js';
import { faceApi } from '../src/detect/face-api.js';
import { decodeSsd } from '../src/detect/geometry.js';
import { SSD_SIZE, ssdDetectorOnnx, type SsdParams } from '../src/detect/onnx-ssd.js';
import { createSession, type FerSession } from '../src/runtime/ort.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { backend: { type: 'string', default: 'native' }, rounds: { type: 'string', default: '30' } },
});
const files = positionals.length ? positionals : ['fixtures/scenes/two-faces.jpg'];
const backend = await useBackend(values.backend as BackendChoice);
const fa = await faceApi();
const params = fa.nets.ssdMobilenetv1.params as unknown as SsdParams;
const anchors = params.output_layer.extra_dim.dataSync();
const model = ssdDetectorOnnx(params);
const one = await createSession(model, { threads: 1 });
const many = await createSession(model);

const images = await Promise.all(files.map((f) => decodeRgb(f)));
const letterbox = (im: RawImage) => cropSquare(im, 0, 0, Math.max(im.width, im.height), SSD_SIZE);
const views = await Promise.all(images.map(letterbox));

async function tfjs(view: RawImage): Promise<number> {
  const x = tf.tensor3d(view.data, [view.height, view.width, view.channels], 'int32');
  try {
    return (await fa.detectAllFaces(x as never, new fa.SsdMobilenetv1Options({ minConfidence: 0.5 }))).length;
  } finally {
    x.dispose();
  }
}
const onnx = (s: FerSession) => async (view: RawImage) =>
  decodeSsd(await s.run(Float32Array.from(view.data), [1, SSD_SIZE, SSD_SIZE, 3]), anchors, SSD_SIZE, 0.5).length;

const methods: [string, (view: RawImage, i: number) => Promise<number>][] = [
  [`face-api tfjs (${backend.name}, ${backend.threads} threads)`, tfjs],
  ['onnxruntime, 1 thread', onnx(one)],
  ['onnxruntime, default threads', onnx(many)],
  ['letterbox 640×480 → 512 (sharp)', async (_v, i) => (await letterbox(images[i])).width],
];
const times = methods.map(() => [] as number[]);
const faces = methods.map(() => 0);
for (const [, run] of methods) for (const v of views) await run(v, 0); // warm-up: sessions, kernels, caches
const rounds = Number(values.rounds);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < methods.length; k++) {
    const m = (r + k) % methods.length;
    for (let i = 0; i < views.length; i++) {
      const t = performance.now();
      faces[m] = await methods[m][1](views[i], i);
      times[m].push(performance.now() - t);
    }
  }
}
for (const t of times) t.sort((a, b) => a - b);
const q = (sorted: number[], p: number) => sorted[Math.floor(p * (sorted.length - 1))];
console.log(`${images.length} image(s) ${images.map((im) => `${im.width}×${im.height}`).join(', ')}, ${rounds} interleaved rounds`);
console.log('| path | median ms | p25–p75 ms | faces (last image) |\n|---|---:|---:|---:|');
const f = (v: number) => v.toFixed(1);
methods.forEach(([name], m) => {
  console.log(`| ${name} | ${f(q(times[m], 0.5))} | ${f(q(times[m], 0.25))}–${f(q(times[m], 0.75))} | ${m < 3 ? faces[m] : '–'} |`);
});
await Promise.all([one.release(), many.release()]);
