/**
 * face-api's tiny detector, SSD-MobileNetV1 and 68-point landmark net as fer's ONNX graphs, in onnxruntime,
 * against face-api's own tfjs forward passes on the cpu backend (the independent reference), on random images;
 * and SSD's faces end to end against face-api's detectAllFaces on a photo.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ssdDetect } from '../../src/detect/faces.js';
import { faceApi, landmarkParams } from '../../src/detect/face-api.js';
import { decodeSsdBoxes } from '../../src/detect/geometry.js';
import { LANDMARK_INPUT, landmarkNetOnnx, tinyDetectorOnnx, type TinyDetectorParams } from '../../src/detect/onnx-nets.js';
import { SSD_SIZE, SSD_VALUES, ssdDetectorOnnx, type SsdParams } from '../../src/detect/onnx-ssd.js';
import { cropSquare, decodeRgb } from '../../src/io/image.js';
import { createSession } from '../../src/runtime/ort.js';
import { randomArray } from '../helpers.js';

const execFileAsync = promisify(execFile);

type Fa = Awaited<ReturnType<typeof faceApi>>;
let fa: Fa;
beforeAll(async () => {
  await useBackend('cpu');
  fa = await faceApi();
});

const image = (n: number, size: number, seed: number) =>
  Float32Array.from(randomArray(n * size * size * 3, seed, 1), (v) => Math.round((v + 1) * 127.5));

async function onnxRun(bytes: Uint8Array, x: Float32Array, dims: number[]) {
  const s = await createSession(bytes, { threads: 1 });
  try {
    return Float32Array.from(await s.run(x, dims));
  } finally {
    await s.release();
  }
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  let scale = 0,
    diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

describe('face nets in onnxruntime vs face-api on tfjs cpu', () => {
  it.each([224, 160])('TinyFaceDetector at %i: the same raw output grid', async (size) => {
    const x = image(1, size, size);
    const net = fa.nets.tinyFaceDetector;
    const ref = tf.tidy(() => {
      const input = tf.tensor4d(x, [1, size, size, 3]);
      return net
        .forwardInput(new fa.NetInput([input.squeeze([0]) as tf.Tensor3D] as never), size)
        .dataSync()
        .slice(); // NHWC [1,c,c,25]
    });
    const got = await onnxRun(tinyDetectorOnnx(net.params as unknown as TinyDetectorParams, size), x, [1, size, size, 3]); // NCHW [1,25,c,c]
    expect(got.length).toBe(ref.length);
    const cells = Math.round(Math.sqrt(ref.length / 25));
    expect(cells).toBe(size / 32);
    const nhwc = new Float32Array(got.length);
    for (let ch = 0; ch < 25; ch++) for (let p = 0; p < cells * cells; p++) nhwc[p * 25 + ch] = got[ch * cells * cells + p];
    expect(maxRelDiff(nhwc, ref)).toBeLessThan(1e-4);
  });

  it('FaceLandmark68Net on a batch of 3 faces: the same 136 coordinates', async () => {
    const x = image(3, LANDMARK_INPUT, 9);
    const ref = tf.tidy(() => {
      const faces = tf.unstack(tf.tensor4d(x, [3, LANDMARK_INPUT, LANDMARK_INPUT, 3])) as tf.Tensor3D[];
      return fa.nets.faceLandmark68Net
        .forwardInput(new fa.NetInput(faces as never))
        .dataSync()
        .slice();
    });
    const got = await onnxRun(landmarkNetOnnx(landmarkParams(fa)), x, [3, LANDMARK_INPUT, LANDMARK_INPUT, 3]);
    expect(got.length).toBe(3 * 136);
    expect(maxRelDiff(got, ref)).toBeLessThan(1e-4);
    // Rows differ: the batch is not one face repeated.
    expect(Math.abs(got[0] - got[136])).toBeGreaterThan(0);
  });

  it.each([3, 4])(
    'SsdMobilenetv1 on random image %i: the same boxes and scores of all 5118 anchors',
    async (seed) => {
      const x = image(1, SSD_SIZE, seed);
      const ref = await ssdReference<{ boxes: number[]; scores: number[] }>(x, 'forward');
      const params = fa.nets.ssdMobilenetv1.params as unknown as SsdParams;
      const raw = await onnxRun(ssdDetectorOnnx(params), x, [1, SSD_SIZE, SSD_SIZE, 3]);
      expect(raw.length).toBe(5118 * SSD_VALUES);
      // The decoding is a one-to-one map of each anchor's raw encoding and face logit: equal outputs, equal raw ones.
      const got = decodeSsdBoxes(raw, params.output_layer.extra_dim.dataSync());
      expect(got.boxes.length).toBe(ref.boxes.length);
      expect(maxRelDiff(got.boxes, ref.boxes)).toBeLessThan(1e-4);
      expect(maxRelDiff(got.scores, ref.scores)).toBeLessThan(1e-4);
      expect(Math.max(...ref.scores) - Math.min(...ref.scores)).toBeGreaterThan(0.01); // not a constant output
    },
    300_000,
  );

  // At 0.01 face-api keeps 82 boxes of the photo: its NMS, order and cut at the input's edges, box for box.
  it.each([0.5, 0.01])(
    "SSD faces at threshold %f: the boxes and scores of face-api's detectAllFaces on a photo",
    async (minConfidence) => {
      const photo = await decodeRgb(path.join(here, '../../fixtures/scenes/two-faces.jpg'));
      const view = await cropSquare(photo, 0, 0, Math.max(photo.width, photo.height), SSD_SIZE);
      type Face = { x: number; y: number; width: number; height: number; score: number };
      const ref = (await ssdReference<{ faces: Face[] }>(Float32Array.from(view.data), 'detect', String(minConfidence))).faces;
      const got = await ssdDetect(view, minConfidence);
      expect(ref.length).toBeGreaterThanOrEqual(2);
      expect(got.length).toBe(ref.length);
      got.forEach((f, i) => {
        expect(Math.abs(f.score - ref[i].score)).toBeLessThan(1e-3);
        for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(f.box[k] - ref[i][k])).toBeLessThan(1);
      });
    },
    300_000,
  );
});

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * face-api's SSD on tfjs cpu, run in a child process (ssd-reference.ts: one forward can block a vitest worker
 * longer than it may stay silent) on a 512×512 image of 0–255 values: `forward` or `detect MIN`.
 */
async function ssdReference<R>(x: Float32Array, mode: 'forward' | 'detect', ...args: string[]): Promise<R> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-ssd-')), 'input.f32');
  writeFileSync(file, x);
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(here, 'ssd-reference.ts'), mode, file, ...args], {
    cwd: path.join(here, '../..'),
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout) as R;
}
