/**
 * Where dlib's upsampled scan can find a face its plain scan could not (pure: no Node built-ins).
 *
 * dlib's HOG window is 80 px: on the image as it is, it finds faces from ~80 px; a 2× upsampling finds them
 * down to ~40 px, but scans four times the pixels at its finest level (~3× the CPU in all: 76 against 25 ms on a
 * 640×480 photo). `dlib+tiny` on photos therefore scans the whole image once without upsampling and upsamples
 * only the squares around the tiny detector's small boxes (it runs anyway for the turned faces it adds), even at a
 * score far below its own threshold: there dlib's score decides, at its own threshold, whether a face is there.
 * Where those squares would cover much of the image (a group photo), the whole image is upsampled as before.
 * BENCHMARKS.md "(issue 32, h32)".
 */
import { iou } from './geometry.js';
import type { Found } from './geometry.js';
import type { Box } from './types.js';

export const SMALL_FACES = {
  /** Tiny detector score from which a box is a place to look (dlib's score decides). */
  proposal: 0.05,
  /** Boxes up to this side (px) may hold a face too small for dlib's 80 px window without upsampling. */
  maxSide: 120,
  /** Side of the square scanned around a box, in box sides, and at least `minSide` px. */
  context: 2.5,
  minSide: 96,
  /** Above this share of the image's area, the squares give way to one upsampled scan of the whole image. */
  wholeImage: 0.5,
  /**
   * The tiny detector looks for places at an input side of at least this share of the image's longer side (416 of
   * 640, its default on a 640×480 photo): a 40 px face stays ≥ 26 px in its input. At 416 on a 1024 px photo the
   * faces of 34–62 px that the upsampled scan found scored under 0.01 (BENCHMARKS.md "(issue 32, h32)").
   */
  proposalScale: 0.65,
} as const;

/** The tiny detector's input side for places to look: `inputSize`, or more on images larger than 640 px (proposalScale). */
export const proposalInputSize = (image: { width: number; height: number }, inputSize = 416): number =>
  Math.max(inputSize, 32 * Math.round((SMALL_FACES.proposalScale * Math.max(image.width, image.height)) / 32));

/** Integer rectangles, in image pixels. */
const snap = (b: Box): Box => {
  const x = Math.floor(b.x),
    y = Math.floor(b.y);
  return { x, y, width: Math.ceil(b.x + b.width) - x, height: Math.ceil(b.y + b.height) - y };
};

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const union = (a: Box, b: Box): Box => {
  const x = Math.min(a.x, b.x),
    y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
};

/** Overlapping rectangles replaced by their bounding rectangle until none overlap. */
export function mergeRegions(boxes: Box[]): Box[] {
  const out = boxes.map((b) => ({ ...b }));
  for (let merged = true; merged;) {
    merged = false;
    for (let i = 0; i < out.length && !merged; i++)
      for (let j = i + 1; j < out.length && !merged; j++)
        if (overlaps(out[i], out[j])) {
          out[i] = union(out[i], out[j]);
          out.splice(j, 1);
          merged = true;
        }
  }
  return out;
}

/**
 * The regions to scan upsampled: a square of `context` box sides (≥ `minSide`, inside the image) around each
 * proposal of at least `proposal` score and at most `maxSide` px that no face already `found` overlaps (IoU ≥ 0.3),
 * overlapping squares merged; [] when there is none, null when they cover more than `wholeImage` of the image.
 */
export function smallFaceRegions(proposals: Found[], found: Box[], image: { width: number; height: number }): Box[] | null {
  const { width: W, height: H } = image;
  const squares = proposals
    .filter((p) => p.score >= SMALL_FACES.proposal && Math.max(p.box.width, p.box.height) <= SMALL_FACES.maxSide)
    .filter((p) => found.every((f) => iou(f, p.box) < 0.3))
    .map(({ box: b }) => {
      const side = Math.max(SMALL_FACES.minSide, SMALL_FACES.context * Math.max(b.width, b.height));
      const w = Math.min(W, side),
        h = Math.min(H, side);
      const x = Math.max(0, Math.min(W - w, b.x + b.width / 2 - w / 2)),
        y = Math.max(0, Math.min(H - h, b.y + b.height / 2 - h / 2));
      return snap({ x, y, width: w, height: h });
    })
    .map((r) => ({ ...r, width: Math.min(W - r.x, r.width), height: Math.min(H - r.y, r.height) }));
  const regions = mergeRegions(squares);
  const area = regions.reduce((a, r) => a + r.width * r.height, 0);
  return area > SMALL_FACES.wholeImage * W * H ? null : regions;
}

/**
 * A second look where two detectors agree (issue 32, h32r): dlib's boxes scored up to −`dlib` under its threshold (0 by
 * default) are faces where the tiny detector (≥ `tiny`, its places: proposalInputSize) or SSD (≥ `ssd`) has a box on
 * the same face (IoU ≥ 0.3) and the face mesh's own face score (MIN_CONFIDENCE.mesh) agrees. On AFW 11 of the 12
 * faces `dlib+tiny` missed (small faces dlib scored −0.37 to −0.06 upsampled, turned ones tiny scored just under
 * 0.5, three tiny did not see that SSD did) came back at no false face in the group or face-free photos; values
 * chosen on half of AFW's photos, the other half held out (BENCHMARKS.md "Recall on AFW: the missed faces
 * (issue 32, h32r)").
 */
export const SECOND_LOOK = { dlib: -0.4, tiny: 0.3, ssd: 0.5 } as const;

/** The share of the smaller box that two boxes have in common. */
export function overlapOfSmaller(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? (w * h) / Math.min(a.width * a.height, b.width * b.height) : 0;
}

/** Two boxes on one face: IoU ≥ 0.3, or half of the smaller box inside the other. */
const clash = (a: Box, b: Box) => iou(a, b) >= 0.3 || overlapOfSmaller(a, b) >= 0.5;

/**
 * The weak faces (dlib's, under its threshold) that a support box (another detector's, of the same face at IoU ≥
 * 0.3) backs and that no face `kept` overlaps (IoU ≥ 0.3, or half of the smaller box: a weak box around two faces
 * found), best score first, overlapping ones taken once.
 */
export function backedFaces<F extends Found>(weak: F[], support: Box[], kept: Box[]): F[] {
  const out: F[] = [];
  for (const f of [...weak].sort((a, b) => b.score - a.score)) {
    if (!support.some((s) => iou(s, f.box) >= 0.3)) continue;
    if (kept.some((k) => clash(k, f.box)) || out.some((o) => clash(o.box, f.box))) continue;
    out.push(f);
  }
  return out;
}

/**
 * Whether SSD can change a photo's faces (issue 32, h32s): (1) some weak face (dlib's, under its threshold) that no
 * tiny box backs (`backers`: tiny's places from SECOND_LOOK.tiny) and no sure face overlaps, which only SSD's box
 * could back; or (2) the upsampled squares found a face (`smallFound`): a photo of small faces, where SSD's boxes
 * are places to look that tiny can miss (on AFW, three faces of 34–42 px of such photos tiny had no box on).
 */
export function needsSsd(weak: Found[], backers: Box[], sure: Found[], smallFound: number): boolean {
  if (smallFound > 0) return true;
  return weak.some((f) => !backers.some((b) => iou(b, f.box) >= 0.3) && !sure.some((s) => clash(s.box, f.box)));
}
