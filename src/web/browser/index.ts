/**
 * `fer-toolkit/web`: the browser entry of the package (ESM, no Node built-ins). The same predictor API as in Node,
 * on onnxruntime-web; the models and wasm files come from a folder `fer export web` wrote.
 *
 *   import { createPredictor } from 'fer-toolkit/web';
 *   const fer = await createPredictor({ baseUrl: '/fer-web/' });
 *   const { faces } = await fer.predict(videoElement);
 */
export {
  createPredictor,
  type WebPredictor,
  type WebPredictorOptions,
  type FaceResult,
  type PredictResult,
  type PredictTimings,
  type WebPredictResult,
  type WebPrediction,
  type WebFacePrediction,
  type WebImage,
  type WebConfig,
} from './predictor.js';
export { createTracker, followFaces, type FaceTracker, type TrackOptions, type TrackedFace } from '../../predict/track.js';
export type { Box, Point, DetectedFace } from '../../detect/types.js';
