/**
 * Batches as the network takes them: 48×48 grayscale scaled to [-1, 1] (PREPROCESS), optionally with
 * random horizontal flips, rotations, zooms, shifts and random-resized crops (one affine warp, bilinear, edge
 * pixels repeated).
 */
import { Rng } from '../util/rng.js';
import { IMAGE_SIZE } from './classes.js';

/** Pixel p (0..255) enters the network as p * scale + offset. Exported into model metadata and ONNX. */
export const PREPROCESS = { scale: 1 / 127.5, offset: -1 } as const;

export interface AugmentOptions {
  flip: boolean;
  /** Max rotation, degrees. */
  rotation: number;
  /** Max relative zoom (0.1 = ±10%). */
  zoom: number;
  /** Max shift, fraction of the image side. */
  shift: number;
  /**
   * Random-resized crops (Inception's augmentation): each image is first cut to a random box of at least this
   * share of its area (aspect ratio 3/4..4/3) and resized to 48×48; 0 or unset = off.
   */
  crop?: number;
}

export const NO_AUGMENT: AugmentOptions = { flip: false, rotation: 0, zoom: 0, shift: 0 };
/** `fer train`'s default augmentation. */
export const TRAIN_AUGMENT: AugmentOptions = { flip: true, rotation: 10, zoom: 0.1, shift: 0.1 };

const S = IMAGE_SIZE;
const P = S * S;

/**
 * Warps images[indices[b]] through the affine map affines[6b..6b+5] (randomAffine's form) into batch image b of
 * `out`. This is the JavaScript one; the native addon has the same arithmetic in C++ (bit for bit, on threads),
 * which training passes to makeBatch where it is loaded.
 */
export type BatchWarper = (images: Uint8Array, indices: Int32Array, affines: Float64Array, out: Float32Array) => void;

export const warpBatch: BatchWarper = (images, indices, affines, out) => {
  for (let b = 0; b < indices.length; b++)
    warp(images.subarray(indices[b] * P, (indices[b] + 1) * P), out.subarray(b * P, (b + 1) * P), affines.subarray(6 * b, 6 * b + 6));
};

/**
 * Copies images[indices] into a [B, 48, 48, 1] float batch, augmenting each when `aug` asks: one randomAffine
 * per image, drawn in order, then every image warped by `warper`.
 */
export function makeBatch(
  images: Uint8Array,
  indices: ArrayLike<number>,
  aug: AugmentOptions = NO_AUGMENT,
  rng?: Rng,
  out?: Float32Array,
  warper: BatchWarper = warpBatch,
): Float32Array {
  const batch = out ?? new Float32Array(indices.length * P);
  const { scale, offset } = PREPROCESS;
  const plain = !aug.flip && aug.rotation === 0 && aug.zoom === 0 && aug.shift === 0 && !aug.crop;
  if (plain || !rng) {
    for (let b = 0; b < indices.length; b++) {
      const src = images.subarray(indices[b] * P, (indices[b] + 1) * P);
      const dst = batch.subarray(b * P, (b + 1) * P);
      for (let i = 0; i < P; i++) dst[i] = src[i] * scale + offset;
    }
    return batch;
  }
  const affines = new Float64Array(6 * indices.length);
  for (let b = 0; b < indices.length; b++) affines.set(randomAffine(aug, rng), 6 * b);
  warper(images, Int32Array.from(indices), affines, batch);
  return batch;
}

/** Inverse affine map (output pixel → source pixel) as [a, b, c, d, e, f]: sx = a·x + b·y + c, sy = d·x + e·y + f. */
export function randomAffine(aug: AugmentOptions, rng: Rng): number[] {
  const flip = aug.flip && rng.next() < 0.5 ? -1 : 1;
  const theta = (rng.uniform(-aug.rotation, aug.rotation) * Math.PI) / 180;
  const zoom = 1 + rng.uniform(-aug.zoom, aug.zoom);
  const tx = rng.uniform(-aug.shift, aug.shift) * S,
    ty = rng.uniform(-aug.shift, aug.shift) * S;
  const c = (S - 1) / 2;
  const cos = Math.cos(theta) / zoom,
    sin = Math.sin(theta) / zoom;
  // Source = R(-θ)/zoom · (out - center - t), then flipped about the vertical axis, + center.
  const a = flip * cos,
    b = flip * sin,
    d = -sin,
    e = cos;
  const m = [a, b, c - a * (c + tx) - b * (c + ty), d, e, c - d * (c + tx) - e * (c + ty)];
  // The crop's draws come after the others, so runs without it see the same random numbers as before it existed.
  return aug.crop ? composeCrop(randomCrop(aug.crop, rng), m) : m;
}

/** A crop box in source pixels: left/top edge and width/height (pixel edges, so the whole image is 0, 0, 48, 48). */
export interface CropBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A random box of area share U(minArea, 1) and aspect ratio log-uniform in [3/4, 4/3], inside the image. */
export function randomCrop(minArea: number, rng: Rng): CropBox {
  const area = rng.uniform(minArea, 1) * S * S;
  const aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)));
  const w = Math.min(S, Math.sqrt(area * aspect)),
    h = Math.min(S, Math.sqrt(area / aspect));
  return { x: rng.uniform(0, S - w), y: rng.uniform(0, S - h), w, h };
}

/**
 * The inverse map of "crop `box`, resize it to 48×48, then warp by `m`": output pixel → m → the resized
 * crop's pixel (u, v) → source pixel (x + (u + ½)·w/48 − ½, y + (v + ½)·h/48 − ½).
 */
export function composeCrop(box: CropBox, [a, b, c, d, e, f]: number[]): number[] {
  const kx = box.w / S,
    ky = box.h / S;
  const cx = box.x + 0.5 * kx - 0.5,
    cy = box.y + 0.5 * ky - 0.5;
  return [kx * a, kx * b, kx * c + cx, ky * d, ky * e, ky * f + cy];
}

function warp(src: Uint8Array, dst: Float32Array, m: ArrayLike<number>): void {
  const { scale, offset } = PREPROCESS;
  const a = m[0],
    b = m[1],
    c = m[2],
    d = m[3],
    e = m[4],
    f = m[5];
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let sx = a * x + b * y + c,
        sy = d * x + e * y + f;
      sx = sx < 0 ? 0 : sx > S - 1 ? S - 1 : sx;
      sy = sy < 0 ? 0 : sy > S - 1 ? S - 1 : sy;
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, S - 1),
        y1 = Math.min(y0 + 1, S - 1);
      const fx = sx - x0,
        fy = sy - y0;
      const v =
        (src[y0 * S + x0] * (1 - fx) + src[y0 * S + x1] * fx) * (1 - fy) + (src[y1 * S + x0] * (1 - fx) + src[y1 * S + x1] * fx) * fy;
      dst[y * S + x] = v * scale + offset;
    }
  }
}

/** Test-time augmentation: the views each image is classified in, their probabilities averaged. */
export const TTA_MODES = ['none', 'flip', 'tencrop'] as const;
export type Tta = (typeof TTA_MODES)[number];

const IDENTITY = [1, 0, 0, 0, 1, 0];
/** The same view mirrored left-right (output x ↦ S−1−x). */
const mirrored = ([a, b, c, d, e, f]: number[]) => [-a, b, a * (S - 1) + c, -d, e, d * (S - 1) + f];

/**
 * Affine maps (as randomAffine's) of each view: none = the image; flip = it and its mirror image; tencrop =
 * the four corner and the center 44×44 crops, each resized to 48×48, and their mirror images.
 */
export function ttaAffines(tta: Tta): number[][] {
  if (tta === 'none') return [IDENTITY];
  if (tta === 'flip') return [IDENTITY, mirrored(IDENTITY)];
  const k = 44,
    r = k / S,
    m = S - k;
  const crops = [
    [0, 0],
    [m, 0],
    [0, m],
    [m, m],
    [m / 2, m / 2],
  ].map(([ox, oy]) => [r, 0, ox + 0.5 * r - 0.5, 0, r, oy + 0.5 * r - 0.5]);
  return [...crops, ...crops.map(mirrored)];
}

/** A [B, 48, 48, 1] batch of images[indices], each seen through the affine map `m` (bilinear). */
export function viewBatch(images: Uint8Array, indices: ArrayLike<number>, m: number[]): Float32Array {
  if (m.every((v, i) => v === IDENTITY[i])) return makeBatch(images, indices);
  const batch = new Float32Array(indices.length * P);
  for (let b = 0; b < indices.length; b++)
    warp(images.subarray(indices[b] * P, (indices[b] + 1) * P), batch.subarray(b * P, (b + 1) * P), m);
  return batch;
}

/** One batch of test-time inference: images start..start+count-1, each test-time view as a float batch. */
export interface ViewBatch {
  start: number;
  count: number;
  views: Float32Array[];
}

/**
 * The batched inference loop both engines run (eval/probs.ts on tfjs, runtime/onnx-probs.ts on
 * onnxruntime): batches of at most `batchSize` of the `n` images, each with the views of `tta`; the caller
 * classifies every view and hands the per-view probabilities to `table.add`, which averages them into the
 * [n × classes] result (classes: the width of the first batch's output).
 */
export function* viewBatches(images: Uint8Array, n: number, tta: Tta, batchSize: number): Generator<ViewBatch> {
  const affines = ttaAffines(tta);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    yield { start, count: idx.length, views: affines.map((m) => viewBatch(images, idx, m)) };
  }
}

/** The [n × classes] probabilities of `viewBatches`, each batch the mean of its views' outputs. */
export class ProbsTable {
  private out = new Float32Array(0);
  constructor(private readonly n: number) {}

  add(b: ViewBatch, perView: Float32Array[]): void {
    const width = perView[0].length / b.count;
    if (b.start === 0) this.out = new Float32Array(this.n * width);
    const at = b.start * width;
    for (const p of perView) for (let i = 0; i < p.length; i++) this.out[at + i] += p[i] / perView.length;
  }

  get result(): Float32Array {
    return this.out;
  }
}
