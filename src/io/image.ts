/**
 * The only import of sharp. Images travel through fer as RawImage (8-bit, interleaved channels).
 */
import sharp, { type Sharp } from 'sharp';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { decodeBmp, isBmp } from './bmp.js';
import { checkOutputFile, protectInput, writeOutput } from './output.js';
import { fileHead } from './files.js';

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** decodeRgb: the file's own size, when it was larger than MAX_PIXELS and was shrunk to fit while decoding. */
  scaledFrom?: { width: number; height: number };
  /** decodeRgb: the frames (pages) the file holds when more than one (an animated GIF or WebP, a multi-page TIFF); the first was read. */
  frames?: number;
}

/** Most pixels fer keeps of an image (or a video frame): larger photos are shrunk to this while they are decoded. */
export const MAX_PIXELS = 50_000_000;
/**
 * Largest image fer reads at all (sharp's own default, 16383²: past a 200-megapixel phone sensor), so that a hostile
 * file's header cannot make it decode for minutes; what is read beyond MAX_PIXELS is shrunk on the way in (JPEG's
 * shrink-on-load; libvips streams the rest), never held whole.
 */
export const MAX_INPUT_PIXELS = 16383 * 16383;

/** sharp's process-wide settings (libvips' thread pool and operation cache), as `configureSharp` takes them. */
export interface SharpSettings {
  /** libvips threads per image (sharp's default: its own choice from the CPU count and allocator). */
  concurrency?: number;
  /** Keep libvips' operation cache (sharp's default: on). */
  cache?: boolean;
}

/**
 * Sets sharp's process-wide thread count and cache. The library never calls it: importing or decoding leaves
 * sharp as the host configured it (these settings are shared with every other sharp user in the process).
 * The CLI calls it at start-up (commands/main.ts); a program that embeds fer sets sharp's own
 * `sharp.concurrency()`/`sharp.cache()` if it wants to.
 */
export function configureSharp(settings: SharpSettings): void {
  if (settings.concurrency !== undefined) sharp.concurrency(settings.concurrency);
  if (settings.cache !== undefined) sharp.cache(settings.cache);
}

/**
 * A path sharp may open: a regular file (a FIFO or device in a folder of images would block the read
 * forever; it is reported as unreadable and counted, as any bad file).
 */
function checkRegular(input: string | Uint8Array): void {
  if (typeof input !== 'string' || !existsSync(input)) return;
  const st = statSync(input);
  // From the CLI, a folder here is one a recursive listing could not open (predict.ts expandInputs); from the
  // library, one given as it is.
  if (st.isDirectory()) {
    let listable = true;
    try {
      readdirSync(input);
    } catch {
      listable = false;
    }
    throw new Error(
      listable
        ? 'a folder, not an image (expandInputs lists its photos and videos, as fer predict does)'
        : 'a folder that could not be listed (permission denied?)',
    );
  }
  if (!st.isFile()) throw new Error('not a regular file (a FIFO, device or folder)');
}

/** A file's (or buffer's) bytes when it is a Windows bitmap, which sharp's libvips does not read; else null. */
function bmpBytes(input: string | Buffer): Buffer | null {
  if (typeof input !== 'string') return isBmp(input) ? input : null;
  const head = fileHead(input, 2);
  return head && isBmp(head) ? readFileSync(input) : null;
}

/**
 * sharp over an input image, as a function of the pixel limit (a fresh pipeline each call): a bitmap is decoded by
 * io/bmp.ts once, on the first call, and handed over as pixels; anything else goes to sharp as it is.
 */
function imageSource(input: string | Buffer): (limitInputPixels: number) => Sharp {
  let bmp: ReturnType<typeof decodeBmp> | null | undefined;
  return (limitInputPixels) => {
    if (bmp === undefined) {
      const bytes = bmpBytes(input);
      bmp = bytes ? decodeBmp(bytes, MAX_INPUT_PIXELS) : null;
    }
    if (!bmp) return sharp(input, { limitInputPixels, failOn: 'error' });
    return sharp(Buffer.from(bmp.data.buffer, bmp.data.byteOffset, bmp.data.length), {
      raw: { width: bmp.width, height: bmp.height, channels: bmp.channels },
      limitInputPixels,
    });
  };
}

/**
 * Decodes any image sharp (or io/bmp.ts) reads to an 8-bit grayscale size×size square (resized, no crop). Up to
 * MAX_INPUT_PIXELS: the image is only ever held at the small size (JPEG shrinks on load, libvips streams the rest).
 */
export async function decodeGray(input: string | Buffer, size: number): Promise<Uint8Array> {
  checkRegular(input);
  const { data } = await imageSource(input)(MAX_INPUT_PIXELS)
    .grayscale()
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * The size an image of width×height pixels is decoded at: itself up to MAX_PIXELS, else shrunk by one factor to at
 * most MAX_PIXELS (each side rounded down, at least 1 pixel).
 */
export function decodedSize(width: number, height: number): { width: number; height: number } {
  if (width * height <= MAX_PIXELS) return { width, height };
  const s = Math.sqrt(MAX_PIXELS / (width * height));
  const w = Math.max(1, Math.floor(width * s));
  // A side under one pixel after the factor stays 1 pixel, and the other then gets the rest of MAX_PIXELS.
  return { width: w, height: Math.max(1, Math.min(Math.floor(height * s), Math.floor(MAX_PIXELS / w))) };
}

/**
 * How many pixels decodeRgb will hold for this file or bytes (decodedSize of its header's size), read from the header
 * alone; 0 when sharp cannot read the header (a BMP, a bad file: decoding will then say why).
 */
export async function decodedPixels(input: string | Uint8Array): Promise<number> {
  try {
    checkRegular(input); // a FIFO among the photos is never opened (it would block)
    const m = await sharp(input, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return 0;
    const d = decodedSize(m.width, m.height);
    return d.width * d.height;
  } catch {
    return 0;
  }
}

/** A pipeline's output as 8-bit sRGB without alpha. */
async function decode(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/**
 * Decodes an image to RGB, applying EXIF orientation. One over MAX_PIXELS (up to MAX_INPUT_PIXELS) is shrunk to fit
 * while it is decoded, and says so in `scaledFrom`.
 */
export async function decodeRgb(input: string | Buffer): Promise<RawImage> {
  checkRegular(input);
  if (typeof input === 'string') protectInput(input); // an image being read is never replaced by an output
  const open = imageSource(input);
  try {
    const image = await decode(open(MAX_PIXELS).rotate()); // nearly every photo: one pipeline, no header read first
    if (mayHoldFrames(input)) withFrames(image, (await open(MAX_INPUT_PIXELS).metadata()).pages);
    return image;
  } catch (e) {
    if (!/pixel limit/i.test((e as Error).message ?? '')) throw e;
  }
  // Over MAX_PIXELS: its upright size from the header (EXIF orientations 5–8 turn it a quarter), then shrunk to fit.
  const meta = await open(MAX_INPUT_PIXELS).metadata();
  const turned = (meta.orientation ?? 1) >= 5;
  const width = (turned ? meta.height : meta.width) ?? 0;
  const height = (turned ? meta.width : meta.height) ?? 0;
  const target = decodedSize(width, height);
  const image = await decode(open(MAX_INPUT_PIXELS).rotate().resize(target.width, target.height, { fit: 'fill' }));
  image.scaledFrom = { width, height };
  return withFrames(image, meta.pages);
}

/** Formats that can hold more than one frame (GIF, TIFF, WebP, HEIF/AVIF), by extension or, for bytes, signature. */
function mayHoldFrames(input: string | Buffer): boolean {
  if (typeof input === 'string') return /\.(gif|tiff?|webp|avif|heic|heif)$/i.test(input);
  const head = input.subarray(0, 12).toString('latin1');
  return /^(GIF8|II\*\0|MM\0\*)/.test(head) || (head.startsWith('RIFF') && head.endsWith('WEBP')) || head.slice(4, 8) === 'ftyp';
}

const withFrames = (image: RawImage, pages: number | undefined): RawImage => {
  if (pages && pages > 1) image.frames = pages;
  return image;
};

export async function imageSize(input: string | Buffer): Promise<{ width: number; height: number }> {
  const m = await imageSource(input)(MAX_INPUT_PIXELS).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0 };
}

const rawInput = (image: RawImage) =>
  sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  });

/** A whole image as size×size 8-bit gray (resized, no crop): an already-cropped face for the classifier. */
export async function grayResize(image: RawImage, size: number): Promise<Uint8Array> {
  const { data } = await rawInput(image).grayscale().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * The square `size`×`size` window of side `side` at (x, y) of an image (parts outside it black),
 * resized to size×size: a detector's letterboxed input, or a face crop for the landmark net.
 */
export async function cropSquare(image: RawImage, x: number, y: number, side: number, size: number): Promise<RawImage> {
  const f = size / side;
  const ix = Math.max(0, Math.round(x)),
    iy = Math.max(0, Math.round(y));
  const iw = Math.min(image.width, Math.round(x + side)) - ix,
    ih = Math.min(image.height, Math.round(y + side)) - iy;
  let pipeline = rawInput(image);
  const w = Math.max(1, Math.min(size, Math.round(iw * f))),
    h = Math.max(1, Math.min(size, Math.round(ih * f)));
  if (iw <= 0 || ih <= 0)
    return { data: new Uint8Array(size * size * image.channels), width: size, height: size, channels: image.channels };
  if (ix !== 0 || iy !== 0 || iw !== image.width || ih !== image.height)
    pipeline = pipeline.extract({ left: ix, top: iy, width: iw, height: ih });
  const left = Math.min(size - w, Math.max(0, Math.round((ix - x) * f))),
    top = Math.min(size - h, Math.max(0, Math.round((iy - y) * f)));
  const { data } = await pipeline
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .extend({ left, top, right: size - w - left, bottom: size - h - top, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: size, height: size, channels: image.channels };
}

/** Renders an SVG document to a PNG file (charts), written by fer's one output writer (io/output.ts). */
export async function svgToPng(svg: string, file: string): Promise<void> {
  checkOutputFile(file); // before the rendering
  writeOutput(file, await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
}

/** Composites an SVG overlay on an image and writes PNG (annotations), through io/output.ts. */
export async function overlaySvgPng(image: RawImage, svg: string, file: string): Promise<void> {
  checkOutputFile(file); // before the encoding
  writeOutput(
    file,
    await rawInput(image)
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      .png()
      .toBuffer(),
  );
}

/** Pastes images (resized to squares) onto a plain background: synthetic scenes for tests and benchmarks. */
export async function composeScene(
  width: number,
  height: number,
  items: { file: string; left: number; top: number; size: number }[],
  background = { r: 120, g: 140, b: 160 },
): Promise<RawImage> {
  const layers = await Promise.all(
    items.map(async (it) => ({
      input: await sharp(it.file).resize(it.size, it.size).toColourspace('srgb').removeAlpha().png().toBuffer(),
      left: it.left,
      top: it.top,
    })),
  );
  const { data, info } = await sharp({ create: { width, height, channels: 3, background } })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** Writes a RawImage as JPEG. */
export async function writeJpeg(image: RawImage, file: string): Promise<void> {
  await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .jpeg({ quality: 92 })
    .toFile(file);
}
