/**
 * What a prediction is, in Node (`createPredictor`, `fer predict`) and in the browser (`fer/web`) alike: one
 * type for a face, one for an image (or a video frame). Types only: the browser entry imports it too.
 */
import type { DetectedFace } from '../detect/types.js';
import type { Labelled } from './label.js';

/** A face: its box, detector score and 68 landmarks, and its emotion (the top class, its probability, all of them by name). */
export interface FaceResult extends DetectedFace, Labelled {
  /** Set when no face was detected and the whole image was classified as one (already-cropped faces). */
  note?: string;
  /** Video: the face's track, the same across frames; its emotion and probabilities are then smoothed over the track (predict/track.ts). */
  track?: number;
}

/**
 * Milliseconds spent in each stage of one image (`decodeMs`: to pixels, from a file or bytes in Node, from the element
 * in the browser; 0 for a video frame, which ffmpeg decodes in its own process ahead of fer). A detector that finds
 * faces and their landmarks in one pass (dlib with its shape model) counts both in `detectMs`.
 */
export interface PredictTimings {
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
  classifyMs: number;
}

/** An image's (or a video frame's) faces. */
export interface PredictResult {
  /** `predictMany`, `fer predict`: the input's path (absent for bytes or pixels). */
  input?: string;
  /** Video: the frame's index at the `fps` it was read at (not the video's own frame number). */
  frame?: number;
  /** Video: the frame's time in seconds from the start (`frame / fps`). */
  time?: number;
  width: number;
  height: number;
  faces: FaceResult[];
  /** `predictMany`, `fer predict`: 'no face found' when `faces` is empty. */
  error?: string;
  /** Set when only part of the input was read: the first frame of an animated GIF or WebP, the first page of a TIFF. */
  note?: string;
  timings?: PredictTimings;
  /** `predictMany` with `annotate`: the PNG written for this image (boxes, landmarks, labels). */
  annotated?: string;
}

/** `predictMany`'s result for an input that could not be read (no such file, not an image, a broken video): no pixels, no faces. */
export interface UnreadableInput {
  input?: string;
  frame?: number;
  time?: undefined;
  width?: undefined;
  height?: undefined;
  /** Empty. */
  faces: FaceResult[];
  /** One line: why (e.g. 'no such file', 'not an image (unsupported format)'). */
  error: string;
  note?: undefined;
  timings?: undefined;
  annotated?: undefined;
}
