/**
 * @vladmandic/face-api, loaded once with its detector and landmark weights: the source of the face nets'
 * weights (detect/onnx-nets.ts, detect/onnx-ssd.ts rebuild its nets as ONNX graphs). Its own module so that
 * faces.ts's declarations, which the public types import, do not name face-api's types.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LandmarkParams } from './onnx-nets.js';

export type FaceApi = typeof import('@vladmandic/face-api');
const require = createRequire(import.meta.url);

let api: FaceApi | null = null;
let loaded: Promise<void> | null = null;

/** face-api with its detector and landmark weights loaded (once). */
export async function faceApi(): Promise<FaceApi> {
  if (!api) api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  if (!loaded) {
    const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    const a = api;
    loaded = Promise.all([
      a.nets.ssdMobilenetv1.loadFromDisk(dir),
      a.nets.tinyFaceDetector.loadFromDisk(dir),
      a.nets.faceLandmark68Net.loadFromDisk(dir),
    ]).then(() => undefined);
  }
  await loaded;
  return api;
}

/** Frees face-api's tfjs weights (a later faceApi() loads them again). */
export async function releaseFaceApi(): Promise<void> {
  if (!api || !loaded) return;
  await loaded.catch(() => undefined);
  for (const net of [api.nets.ssdMobilenetv1, api.nets.tinyFaceDetector, api.nets.faceLandmark68Net]) {
    (net as unknown as { dispose?: () => void }).dispose?.();
  }
  loaded = null;
}

/** The 68-point landmark net's weights, as landmarkNetOnnx takes them. */
export function landmarkParams(fa: FaceApi): LandmarkParams {
  const net = fa.nets.faceLandmark68Net as unknown as {
    params: { fc: LandmarkParams['fc'] };
    faceFeatureExtractor: { params: LandmarkParams['extractor'] };
  };
  return { extractor: net.faceFeatureExtractor.params, fc: net.params.fc };
}
