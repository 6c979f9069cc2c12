/**
 * dlib+tiny's small-face cascade on photos (issue 32: h32, h32r, h32s): dlib's plain scan and the tiny detector side
 * by side, dlib upsampled on the squares around the small places, and the second look at dlib's weak faces that
 * another detector backs. SSD, the costliest pass (a fixed 512 px input: most of a photo's CPU), runs only where it
 * can change the result (needsSsd): BENCHMARKS.md "(issue 32, h32s)".
 */
import type { RawImage } from '../io/image.js';
import { dlibDetectAsync, dlibDetectRegions, grayImage, type Reread } from './dlib.js';
import { iou, type Found } from './geometry.js';
import { needsSsd, proposalInputSize, SECOND_LOOK, SMALL_FACES, smallFaceRegions } from './small-faces.js';
import type { Thresholds } from './thresholds.js';
import type { Box, DetectedFace } from './types.js';

/** Photos the cascade looked at, and on how many SSD ran (bench/detect.ts prints the share). */
export const cascadeStats = { photos: 0, ssd: 0 };

/** A detector's boxes on the whole image from `threshold` (faces.ts detectorBoxes). */
export type BoxFinder = (image: RawImage, detector: 'tiny' | 'ssd', threshold: number, inputSize?: number) => Promise<Found[]>;

/**
 * The second look: false (off, before h32r), 'tiny' (backed by tiny's places only), 'always' (SSD on every photo, the
 * default of h32r), true (SSD where needsSsd says it can change the result: the default).
 */
export type SecondLook = boolean | 'tiny' | 'always';

export interface CascadeResult {
  faces: DetectedFace[];
  tiny: Found[];
  weak: DetectedFace[];
  support: Box[];
  /** Whether SSD ran. */
  ssd: boolean;
}

interface Scan {
  faces: DetectedFace[];
  weak: DetectedFace[];
  /** The squares scanned upsampled, or null: the whole image. */
  regions: Box[] | null;
  /** Sure faces the squares added to the plain scan's. */
  smallFound: number;
}

/**
 * dlib's faces of a photo as one 2× upsampled scan finds them, at a fraction of its cost: dlib without upsampling
 * on the whole image and the tiny detector (at SMALL_FACES.proposal) side by side, then dlib upsampled on the
 * squares around the small places (tiny's boxes, and SSD's where it runs) that no face found covers
 * (smallFaceRegions), or on the whole image where those squares would cover most of it. Also returns tiny's
 * boxes, for the faces `dlib+tiny` adds, and the boxes that back weak faces (SECOND_LOOK).
 */
export async function smallFaceCascade(
  image: RawImage,
  th: Required<Thresholds>,
  boxes: BoxFinder,
  o: { inputSize?: number; readAt: number; second: SecondLook; reread?: Reread },
): Promise<CascadeResult> {
  const r = await cascade(image, th, boxes, o);
  cascadeStats.photos++;
  if (r.ssd) cascadeStats.ssd++;
  return r;
}

async function cascade(
  image: RawImage,
  th: Required<Thresholds>,
  boxes: BoxFinder,
  o: { inputSize?: number; readAt: number; second: SecondLook; reread?: Reread },
): Promise<CascadeResult> {
  const gray = grayImage(image);
  const size = o.inputSize ?? 416,
    lookSize = proposalInputSize(image, size);
  // With the second look dlib scans down to SECOND_LOOK.dlib under its threshold (the same scans: only more boxes come back)
  const low = o.second ? th.dlib + SECOND_LOOK.dlib : th.dlib; // relative: a threshold raised by the user stays raised
  // On photos over 640 px the places come from a larger input than the faces tiny adds (kept at `size`, as calibrated).
  const [plain, places, tinyFaces, first] = await Promise.all([
    dlibDetectAsync(gray, 0, low, o.readAt, o.reread), // its 68 points read on the face's square upsampled, as the full scan's are
    boxes(image, 'tiny', Math.min(SMALL_FACES.proposal, th.tiny), lookSize),
    lookSize === size ? undefined : boxes(image, 'tiny', th.tiny, size),
    o.second === 'always' ? boxes(image, 'ssd', SECOND_LOOK.ssd) : undefined,
  ]);
  const tiny = tinyFaces ?? places;
  const backers = places.filter((p) => p.score >= SECOND_LOOK.tiny).map((p) => p.box);
  const sure = (f: DetectedFace) => f.score >= th.dlib;
  const scan = await upsampledScan(gray, [...places, ...(first ?? [])], plain, { low, readAt: o.readAt, reread: o.reread, sure });
  if (o.second !== true || !needsSsd(scan.weak, backers, scan.faces, scan.smallFound)) {
    return { faces: scan.faces, tiny, weak: scan.weak, support: [...backers, ...(first ?? []).map((p) => p.box)], ssd: !!first };
  }
  // SSD backs the weak faces tiny does not back, and its boxes are places to look too
  const ssd = await boxes(image, 'ssd', SECOND_LOOK.ssd);
  const support = [...backers, ...ssd.map((p) => p.box)];
  if (scan.regions === null) return { ...scan, tiny, support, ssd: true };
  const scanned = scan.regions;
  // SSD's boxes that no face, sure or weak, explains yet: scanned again on a square of their own (a face dlib scored
  // under SECOND_LOOK.dlib on one square can score above it on another: HOG's cells fall elsewhere)
  const fresh = ssd.filter((p) => [...scan.faces, ...scan.weak].every((f) => iou(f.box, p.box) < 0.3));
  const more = smallFaceRegions(
    fresh,
    scan.faces.map((f) => f.box),
    image,
  );
  if (more === null || area(more) + area(scanned) > SMALL_FACES.wholeImage * image.width * image.height)
    return { ...(await wholeImageScan(gray, { low, readAt: o.readAt, reread: o.reread, sure })), tiny, support, ssd: true };
  const extra = await scanRegions(gray, more, scan.faces, { low, readAt: o.readAt, reread: o.reread, sure });
  return { faces: extra.faces, tiny, weak: [...scan.weak, ...extra.weak], support, ssd: true };
}

const area = (rs: Box[]) => rs.reduce((a, r) => a + r.width * r.height, 0);

interface ScanOptions {
  low: number;
  readAt: number;
  /** dlib's points read again on the HOG box of the first (dlibDetectAsync). */
  reread?: Reread;
  sure: (f: DetectedFace) => boolean;
}

/** dlib upsampled on the squares around the small places (or the whole image), after its plain scan `plain`. */
async function upsampledScan(gray: RawImage, places: Found[], plain: DetectedFace[], o: ScanOptions): Promise<Scan> {
  const regions = smallFaceRegions(
    places,
    plain.filter(o.sure).map((f) => f.box),
    gray,
  );
  if (regions === null) return { ...(await wholeImageScan(gray, o)), regions: null, smallFound: 0 };
  const sure = plain.filter(o.sure);
  const { faces, weak } = await scanRegions(gray, regions, sure, o);
  return { faces, weak: [...plain.filter((f) => !o.sure(f)), ...weak], regions, smallFound: faces.length - sure.length };
}

/** dlib upsampled once on the whole image: its sure faces and its weak ones. */
async function wholeImageScan(gray: RawImage, o: ScanOptions): Promise<{ faces: DetectedFace[]; weak: DetectedFace[] }> {
  const whole = await dlibDetectAsync(gray, 1, o.low, o.readAt, o.reread);
  return { faces: whole.filter(o.sure), weak: whole.filter((f) => !o.sure(f)) };
}

/** `found` and the sure faces dlib finds upsampled on `regions` that none of them overlaps; the weak ones apart. */
async function scanRegions(
  gray: RawImage,
  regions: Box[],
  found: DetectedFace[],
  o: ScanOptions,
): Promise<{ faces: DetectedFace[]; weak: DetectedFace[] }> {
  const faces = [...found];
  if (!regions.length) return { faces, weak: [] };
  const small = (await dlibDetectRegions(gray, regions, 1, o.low, o.readAt, o.reread)).sort((a, b) => b.score - a.score); // a new array
  for (const f of small) if (o.sure(f) && faces.every((g) => iou(g.box, f.box) < 0.3)) faces.push(f);
  return { faces, weak: small.filter((f) => !o.sure(f)) };
}
