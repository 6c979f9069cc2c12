/**
 * The page's canvas work: an image (element, bitmap, ImageData) drawn once to a canvas with its RGBA pixels, a
 * border around it (predict/border.ts), a square of it as a net's RGB input, the whole of it as a 48×48 face.
 */
import type { Pixels } from '../../detect/geometry.js';
import { BORDER_GRAY } from '../../predict/border.js';
import { IMAGE_SIZE } from '../../data/classes.js';

/** What the predictor takes: an element, a bitmap, pixels or a canvas. */
export type WebImage = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap | ImageData | OffscreenCanvas;

/** An RGBA canvas context the size of `w × h` (OffscreenCanvas where the browser has it). */
export function context(w: number, h: number): CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D {
  const c =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(w, h)
      : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Error('fer: no 2D canvas context');
  return ctx;
}

export function sizeOf(image: WebImage): { width: number; height: number } {
  if (typeof HTMLVideoElement !== 'undefined' && image instanceof HTMLVideoElement)
    return { width: image.videoWidth, height: image.videoHeight };
  if (typeof HTMLImageElement !== 'undefined' && image instanceof HTMLImageElement)
    return { width: image.naturalWidth, height: image.naturalHeight };
  return { width: image.width, height: image.height };
}

/** The image kinds toCanvas draws (those this browser has). */
const KINDS: ({ new (...a: never[]): unknown } | undefined)[] = [
  globalThis.HTMLImageElement,
  globalThis.HTMLVideoElement,
  globalThis.HTMLCanvasElement,
  globalThis.ImageBitmap,
  globalThis.ImageData,
  globalThis.OffscreenCanvas,
];

/** What was passed instead of an image, named for the error (a Blob, a URL, Node-style bytes or pixels…). */
function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x !== 'object') return typeof x;
  if (typeof Blob !== 'undefined' && x instanceof Blob) return `a ${x.constructor.name} (decode it first: createImageBitmap(blob))`;
  if (x instanceof Uint8Array || x instanceof ArrayBuffer) return 'bytes (decode them first: createImageBitmap(new Blob([bytes])))';
  if (Array.isArray(x)) return 'an array (one image a call)';
  if ('data' in x && 'channels' in x) return "Node's raw pixels (in the browser: new ImageData(rgba, width, height))";
  return (x as object).constructor?.name ?? 'an object';
}

/** The image as a canvas (drawn once per frame) and its RGBA pixels. */
export function toCanvas(image: WebImage): { canvas: CanvasImageSource; pixels: Pixels } {
  if (!KINDS.some((k) => k && image instanceof k))
    throw new Error(`fer: predict takes an <img>, <video>, <canvas>, ImageBitmap, ImageData or OffscreenCanvas; got ${describe(image)}`);
  const { width, height } = sizeOf(image);
  if (!width || !height) throw new Error('fer: the image has no pixels yet (not loaded, or a video before its first frame)');
  const ctx = context(width, height);
  if (image instanceof ImageData) ctx.putImageData(image, 0, 0);
  else ctx.drawImage(image as CanvasImageSource, 0, 0);
  const data = ctx.getImageData(0, 0, width, height).data;
  return { canvas: ctx.canvas as CanvasImageSource, pixels: { data, width, height, channels: 4 } };
}

/** The canvas inside a mid-gray border of `pad` pixels (predict/border.ts), with its RGBA pixels. */
export function withBorder(
  source: CanvasImageSource,
  width: number,
  height: number,
  pad: number,
): { canvas: CanvasImageSource; pixels: Pixels } {
  const w = width + 2 * pad,
    h = height + 2 * pad;
  const ctx = context(w, h);
  ctx.fillStyle = `rgb(${BORDER_GRAY},${BORDER_GRAY},${BORDER_GRAY})`;
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(source, pad, pad);
  return { canvas: ctx.canvas as CanvasImageSource, pixels: { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h, channels: 4 } };
}

/** The square (x, y, side) of `source` resized to size × size RGB floats 0..255; black outside the image. */
export function squareRgb(
  source: CanvasImageSource,
  x: number,
  y: number,
  side: number,
  size: number,
  out: Float32Array,
  at: number,
): void {
  const ctx = context(size, size);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, size, size);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, x, y, side, side, 0, 0, size, size);
  const d = ctx.getImageData(0, 0, size, size).data;
  for (let i = 0, j = at; i < size * size; i++, j += 3) {
    out[j] = d[4 * i];
    out[j + 1] = d[4 * i + 1];
    out[j + 2] = d[4 * i + 2];
  }
}

/** Whole image → 48×48 gray (faces that are the image: `detect: false`). */
export function wholeGray(source: CanvasImageSource, width: number, height: number): Uint8Array {
  const S = IMAGE_SIZE;
  const ctx = context(S, S);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height, 0, 0, S, S);
  const d = ctx.getImageData(0, 0, S, S).data;
  const out = new Uint8Array(S * S);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2]);
  return out;
}
