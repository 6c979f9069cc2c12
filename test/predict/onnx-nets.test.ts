/**
 * face-api's tiny detector and 68-point landmark net as fer's ONNX graphs, in onnxruntime, against face-api's
 * own tfjs forward passes on the cpu backend (the independent reference), on random images.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { faceApi, landmarkParams } from '../../src/detect/faces.js';
import { LANDMARK_INPUT, landmarkNetOnnx, tinyDetectorOnnx, type TinyDetectorParams } from '../../src/detect/onnx-nets.js';
import { createSession } from '../../src/runtime/ort.js';
import { randomArray } from '../helpers.js';

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
});
