/**
 * Photos (and video frames) → faces with 68 landmarks → emotions. Each input is handled on its own: a bad
 * file yields an error entry and the batch goes on.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { MAX_INPUT_PIXELS, decodeRgb, grayResize, overlaySvgPng, type RawImage } from '../io/image.js';
import { isFerFile } from '../io/output.js';
import { fileHead } from '../io/files.js';
import { alignFaces, detectFaces, type DetectOptions, type DetectedFace } from '../detect/faces.js';
import type { Classifier } from './classifier.js';
import { labelFaces } from './label.js';
import { esc } from '../plot/svg.js';
import { IMAGE_SIZE } from '../data/classes.js';
import { UsageError } from '../errors.js';
import type { FaceResult, PredictResult, PredictTimings, UnreadableInput } from './types.js';
import { BORDER_GRAY, CROPPED_FACE_MAX_SIDE, borderFor, mapFaces } from './border.js';
import { makeDirs } from '../io/make-dirs.js';

export { BORDER_RETRY_MAX_SIDE, CROPPED_FACE_MAX_SIDE, mapFaces } from './border.js';

/** What the predictor takes: a file path, encoded image bytes, or 8-bit pixels (1, 3 or 4 channels, interleaved). */
export type PredictInput = string | Uint8Array | RawImage;

// HEIC/HEIF are listed so that a folder of phone photos reports them (decoded when they hold AV1, else a message).
const IMAGE_EXT = /\.(jpe?g|jpe|jfif|png|webp|gif|tiff?|bmp|avif|heic|heif)$/i;
const VIDEO_EXT = /\.(mp4|mov|avi|mkv|webm|m4v|mpe?g|3gp|3g2|wmv|flv|ogv|m2ts)$/i;
// MPEG transport streams (.ts, .mts: camcorders' AVCHD) share their names with TypeScript sources: they are videos
// when their bytes say so (a packet's sync byte 0x47 at 0 and 188; BDAV's 192-byte packets, as AVCHD writes them,
// at 4 and 196). A FIFO is never waited on (fileHead).
const TS_EXT = /\.m?ts$/i;

function isTransportStream(f: string): boolean {
  let head: Buffer | null;
  try {
    head = fileHead(f, 197);
  } catch {
    return false; // not there, or not readable: not a video by its bytes
  }
  if (!head) return false;
  return (head.length >= 189 && head[0] === 0x47 && head[188] === 0x47) || (head.length === 197 && head[4] === 0x47 && head[196] === 0x47);
}

/** A folder's entries; a subfolder (not `top`) that cannot be listed gives null, a given folder its error. */
function listFolder(dir: string, top: boolean) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (top) throw e;
    return null;
  }
}

/**
 * Expands folders into their images and videos, sorted by name: one level deep, or with `recursive` every subfolder
 * too (depth first, in name order; hidden folders and symbolic links to folders are not entered, so a link loop
 * cannot recurse). Other inputs stay as given. A subfolder that cannot be listed (no permission) stays in the list as
 * itself, so that the run reports it as unreadable, as it does a file, and goes on with the rest. Images fer wrote
 * itself (`--annotate` into the folder it reads: its manifest's files) are not inputs of a folder, so the same command
 * can run again.
 */
export function expandInputs(inputs: string[], o: { recursive?: boolean } = {}): string[] {
  const walk = (dir: string, top = false): string[] => {
    const entries = listFolder(dir, top);
    if (!entries) return [dir];
    return entries
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((e) => {
        const f = path.join(dir, e.name);
        if (e.isDirectory()) return o.recursive && !e.name.startsWith('.') ? walk(f) : [];
        if (isVideo(f)) return [f];
        return IMAGE_EXT.test(e.name) && !isFerFile(f) ? [f] : [];
      });
  };
  return inputs.flatMap((p) => (existsSync(p) && statSync(p).isDirectory() ? walk(p, true) : [p]));
}

/** Whether a folder holds subfolders (for the hint when one level held nothing). */
export const hasSubfolders = (dir: string): boolean =>
  existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());

/** A video by its name, or for .ts/.mts by its first bytes (an MPEG transport stream, not a TypeScript source). */
export const isVideo = (f: string) => VIDEO_EXT.test(f) || (TS_EXT.test(f) && isTransportStream(f));

export interface PredictOptions extends DetectOptions {
  /** false: no face detection, the whole image is one face (already-cropped faces). */
  detect?: boolean;
  /** false: an image without a face found is not searched again inside a border (predictRaw; video frames, where it would double the cost of every empty frame). */
  borderRetry?: boolean;
  /**
   * false: an image of at most CROPPED_FACE_MAX_SIDE pixels in which no face is found has no face, instead of being
   * classified whole as an already-cropped face (video frames: a small frame without a face is an empty scene).
   */
  wholeIfSmall?: boolean;
}

export const WHOLE_IMAGE_NOTE = 'no face detected: the whole image was classified as one face';

/** The image inside a uniform border of `pad` pixels: mid-gray, opaque where it has alpha. */
function withBorder(image: RawImage, pad: number): RawImage {
  const { width, height, channels } = image;
  const w = width + 2 * pad,
    h = height + 2 * pad;
  const data = new Uint8Array(w * h * channels).fill(BORDER_GRAY);
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let y = 0; y < height; y++)
    data.set(image.data.subarray(y * width * channels, (y + 1) * width * channels), ((y + pad) * w + pad) * channels);
  return { data, width: w, height: h, channels };
}

/**
 * An image's faces at the size of the file it came from: a photo shrunk while decoding (over MAX_PIXELS, `scaledFrom`)
 * is reported at its own size, boxes and points scaled back.
 */
export function atOwnSize(image: RawImage, faces: FaceResult[]): Pick<PredictResult, 'width' | 'height' | 'faces' | 'note'> {
  const from = image.scaledFrom;
  const note = image.frames
    ? `the first of its ${image.frames} frames (pages) was read; for every frame of an animation, make it a video first (ffmpeg -i IN OUT.mp4)`
    : undefined;
  const shape = !from
    ? { width: image.width, height: image.height, faces }
    : { ...from, faces: mapFaces(faces, from.width / image.width, from.height / image.height) };
  return note ? { ...shape, note } : shape;
}

/**
 * The faces of an image, searched again inside a border (predict/border.ts) when none is found in an image of
 * CROPPED_FACE_MAX_SIDE to BORDER_RETRY_MAX_SIDE pixels (unless `borderRetry` is false): the faces, the image they
 * were found in (the bordered one then, for alignment) and the border's width (0: the image itself).
 */
export async function findFaces(
  image: RawImage,
  o: PredictOptions = {},
  timings?: PredictTimings,
): Promise<{ faces: DetectedFace[]; image: RawImage; pad: number }> {
  const faces = await detectFaces(image, o, timings);
  const border = o.borderRetry === false ? 0 : borderFor(image.width, image.height);
  if (faces.length || !border) return { faces, image, pad: 0 };
  const bordered = withBorder(image, border);
  const again = await detectFaces(bordered, o, timings);
  return again.length ? { faces: again, image: bordered, pad: border } : { faces, image, pad: 0 };
}

/**
 * Faces of an image with their emotions. With `detect: false`, or when no face is found in an image of at
 * most CROPPED_FACE_MAX_SIDE pixels (unless `wholeIfSmall` is false), the whole image is classified as one face (box = the image, no landmarks,
 * `note` set). An image of at most BORDER_RETRY_MAX_SIDE pixels with no face found is searched again inside a
 * border (predict/border.ts); its faces are then aligned on the bordered image and reported in the image's coordinates (boxes and
 * points may reach past its edges).
 */
export async function predictRaw(
  image: RawImage,
  classifier: Classifier,
  o: PredictOptions = {},
  timings?: PredictTimings,
): Promise<FaceResult[]> {
  const found = o.detect === false ? null : await findFaces(image, o, timings);
  const faces: (DetectedFace & { note?: string })[] = found?.faces ?? [];
  const seen = found?.image ?? image,
    pad = found?.pad ?? 0;
  const side = Math.max(image.width, image.height);
  const t = performance.now();
  const whole = faces.length === 0 && (o.detect === false || (side <= CROPPED_FACE_MAX_SIDE && o.wholeIfSmall !== false));
  if (whole) faces.push({ box: { x: 0, y: 0, width: image.width, height: image.height }, score: 0, landmarks: [], note: WHOLE_IMAGE_NOTE });
  const crops = whole ? await grayResize(image, IMAGE_SIZE) : alignFaces(seen, faces);
  const probs = await classifier.classify(crops, faces.length);
  if (timings) timings.classifyMs += performance.now() - t;
  const labelled = labelFaces(faces, probs, classifier.classes);
  return pad ? mapFaces(labelled, 1, 1, -pad, -pad) : labelled;
}

/** A decoding error as the one line `fer predict` prints for its input (a path names its format by its extension). */
export function describeDecodeError(e: unknown, input?: PredictInput): string {
  const m = (e as Error).message ?? String(e);
  if (typeof input === 'string' && /\.hei[cf]$/i.test(input) && !/ENOENT|pixel limit/i.test(m))
    return "HEIC photo: sharp (fer's image decoder) has no HEVC decoder; convert it first, e.g. `heif-convert photo.heic photo.jpg` (Debian: libheif-examples; macOS: `sips -s format jpeg`)";
  if (/pixel limit/i.test(m)) return `image too large (over the ${Math.round(MAX_INPUT_PIXELS / 1e6)}-megapixel limit)`;
  if (/unsupported image format|Input file contains unsupported/i.test(m)) return 'not an image (unsupported format)';
  if (/ENOENT|missing/i.test(m)) return 'no such file';
  return `unreadable image: ${m.split('\n')[0]}`;
}

const decodeEncoded = (x: string | Uint8Array) => decodeRgb(typeof x === 'string' ? x : Buffer.from(x.buffer, x.byteOffset, x.length));
const isSide = (v: number) => Number.isInteger(v) && v > 0;
const isRaw = (x: PredictInput): x is RawImage =>
  typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && 'data' in x && 'width' in x;

/** RGBA → RGB: every fourth byte left out (straight alpha dropped, as decoding a PNG with alpha does here). */
function dropAlpha(rgba: Uint8Array): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i];
    rgb[o + 1] = rgba[i + 1];
    rgb[o + 2] = rgba[i + 2];
  }
  return rgb;
}

/** A path, encoded bytes or pixels → pixels; a bad input is a UsageError (exit 2) naming it. */
export async function decodeInput(input: PredictInput): Promise<RawImage> {
  if (isRaw(input)) {
    const { data, width, height, channels } = input;
    if (!isSide(width) || !isSide(height))
      throw new UsageError(`predict: raw image: width and height must be whole numbers above 0, got ${width}×${height}`);
    if (![1, 3, 4].includes(channels)) throw new UsageError(`predict: raw image: channels must be 1, 3 or 4, got ${channels}`);
    // A canvas's ImageData holds a Uint8ClampedArray: the same bytes, viewed as a Uint8Array.
    const bytes: unknown = data;
    const view = bytes instanceof Uint8ClampedArray ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
    if (!(view instanceof Uint8Array) || view.length !== width * height * channels) {
      throw new UsageError(
        `predict: raw image: expected ${width}×${height}×${channels} = ${width * height * channels} bytes (a Uint8Array), got ${(view as { length?: number } | undefined)?.length ?? 'none'}`,
      );
    }
    // fer works on RGB (as decoding a file gives): 4 channels lose their alpha here, once, not in every face net
    if (channels === 4) return { data: dropAlpha(view), width, height, channels: 3 };
    return view === data ? input : { ...input, data: view };
  }
  // Plain JavaScript callers: anything but a path, bytes or pixels is named, not passed to the decoder.
  const given: unknown = input;
  if (typeof given !== 'string' && !(given instanceof Uint8Array)) {
    const kind = given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given === 'object' ? 'an object' : typeof given;
    throw new UsageError(
      `predict: expected a file path, encoded image bytes (a Buffer or Uint8Array) or pixels ({ data, width, height, channels }), got ${kind}`,
    );
  }
  try {
    return await decodeEncoded(input);
  } catch (e) {
    if (typeof input === 'string' && existsSync(input) && isVideo(input))
      throw new UsageError(`predict: ${input}: a video; predict() takes one image, predictMany() reads a video's frames`, { cause: e });
    const what = typeof input === 'string' ? input : `${input.length}-byte buffer`;
    throw new UsageError(`predict: ${what}: ${describeDecodeError(e, input)}`, { cause: e });
  }
}

/**
 * One image (a file, bytes or pixels) → its prediction with timings, and the decoded image (for annotation)
 * when it could be read; one that cannot be read gives a result with its error, not an exception.
 */
export async function predictImage(
  input: PredictInput,
  classifier: Classifier,
  o: PredictOptions = {},
): Promise<{ result: PredictResult | UnreadableInput; image?: RawImage }> {
  const label = typeof input === 'string' ? { input } : {};
  const timings: PredictTimings = { decodeMs: 0, detectMs: 0, landmarksMs: 0, classifyMs: 0 };
  if (typeof input === 'string' && !existsSync(input)) return { result: { ...label, faces: [], error: 'no such file' } };
  let image: RawImage;
  const t = performance.now();
  try {
    // Paths and bytes are decoded; anything else is checked (pixels) or named (plain JavaScript's wrong kinds) by decodeInput.
    image = typeof input === 'string' || input instanceof Uint8Array ? await decodeEncoded(input) : await decodeInput(input);
  } catch (e) {
    const error = e instanceof UsageError ? e.message : describeDecodeError(e, input);
    return { result: { ...label, faces: [], error } };
  }
  timings.decodeMs = performance.now() - t;
  const found = await predictRaw(image, classifier, o, timings);
  const result: PredictResult = { ...label, ...atOwnSize(image, found), timings };
  const { faces } = result;
  if (faces.length === 0) result.error = 'no face found';
  return { result, image };
}

/** One image file → its prediction, and the decoded image (for annotation) when it could be read. */
export const predictFile = (file: string, classifier: Classifier, o: PredictOptions = {}) => predictImage(file, classifier, o);

/** Frames of a video (io/video.ts: frame size checked before decoding, `file:` paths, linear reading). */
export { videoFrames } from '../io/video.js';

/** Draws boxes, the 68 landmarks and the top emotion on an image. */
export function annotationSvg(width: number, height: number, faces: FaceResult[]): string {
  const s = Math.max(1, Math.min(width, height) / 400);
  const parts = faces.map((f) => {
    const b = f.box;
    const dots = f.landmarks.map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${1.6 * s}" fill="#00e5ff"/>`).join('');
    const label = `${f.emotion} ${(f.confidence * 100).toFixed(0)}%`;
    return (
      `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="none" stroke="#ffdd00" stroke-width="${2 * s}"/>${dots}` +
      `<rect x="${b.x}" y="${Math.max(0, b.y - 18 * s)}" width="${label.length * 8 * s}" height="${18 * s}" fill="#ffdd00"/>` +
      `<text x="${b.x + 3 * s}" y="${Math.max(0, b.y - 18 * s) + 14 * s}" font-size="${14 * s}" font-family="DejaVu Sans, Arial" fill="black">${esc(label)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/**
 * Names for annotated images that never collide within one run: the input's file name without its
 * extension, a video frame's number after it, and -2, -3, … where two inputs would share a name
 * (`colA/x.jpg` and `colB/x.jpg`, `one.jpg` and `one.png`).
 */
export function annotationNamer(): (input: string, frame?: number) => string {
  const used = new Set<string>();
  return (input, frame) => {
    const base = path.basename(input).replace(/\.[^.]+$/, '') + (frame != null ? `-frame${String(frame).padStart(5, '0')}` : '');
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
    used.add(name);
    return name;
  };
}

/**
 * Writes `<outDir>/<name>.png` (name from annotationNamer). Faces are in the coordinates of the image's own size
 * (`scaledFrom` when it was shrunk while decoding); the PNG is the decoded image.
 */
export async function writeAnnotated(image: RawImage, faces: FaceResult[], outDir: string, name: string): Promise<string> {
  makeDirs(outDir);
  const file = path.join(outDir, `${name}.png`);
  const from = image.scaledFrom;
  const drawn = from ? mapFaces(faces, image.width / from.width, image.height / from.height) : faces;
  await overlaySvgPng(image, annotationSvg(image.width, image.height, drawn), file);
  return file;
}
