/**
 * The second search for a face cropped tight, shared by Node (predict.ts predictRaw) and the browser
 * (web/browser/predictor.ts): an image of at most BORDER_RETRY_MAX_SIDE pixels in which no face is found is searched
 * again inside a mid-gray border of half its side. A face crop (a dataset's, a selfie close-up) leaves the detectors
 * no margin: on 336 AFW faces cropped to their 68 points and resized to 224 px, the border took what each detector
 * finds from 255 to 322 (dlib+tiny), 112 to 267 (ssd) and 24 to 211 (tiny), with no false face on face-free photos
 * (BENCHMARKS.md). Larger images are photos, not crops, and are not searched twice. Browser-safe: no Node imports.
 */
import type { FaceResult } from './types.js';

/** An image this small with no face found is taken as an already-cropped face (FER2013's are 48×48). */
export const CROPPED_FACE_MAX_SIDE = 128;

export const BORDER_RETRY_MAX_SIDE = 1024;
/** The border's width on each side, as a fraction of the image's longer side. */
export const BORDER_FRACTION = 0.5;
/** Its gray level, on every color channel. */
export const BORDER_GRAY = 128;

/** The border (pixels on each side) for an image of this size, or 0 when it is not searched again (too small: a cropped face classified whole; too large: a photo). */
export function borderFor(width: number, height: number): number {
  const side = Math.max(width, height);
  return side > CROPPED_FACE_MAX_SIDE && side <= BORDER_RETRY_MAX_SIDE ? Math.round(BORDER_FRACTION * side) : 0;
}

/** Faces with their boxes and landmarks mapped by x → x·sx + dx, y → y·sy + dy (another size or place of the same image). */
export function mapFaces<F extends FaceResult>(faces: F[], sx: number, sy: number, dx = 0, dy = 0): F[] {
  return faces.map((f) => ({
    ...f,
    box: { x: f.box.x * sx + dx, y: f.box.y * sy + dy, width: f.box.width * sx, height: f.box.height * sy },
    landmarks: f.landmarks.map((p) => ({ x: p.x * sx + dx, y: p.y * sy + dy })),
  }));
}
