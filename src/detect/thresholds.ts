/**
 * Which face detectors there are and the score thresholds each uses (pure: Node and the browser share it).
 */
import { UsageError } from '../errors.js';

/**
 * `auto` (the default): where fer's native addon was built with dlib, dlib's faces (the paper's detector:
 * finds the small faces of group photos) together with face-api's tiny detector's faces that dlib's frontal
 * HOG model missed (turned heads), each with its own 68 landmarks (`dlib+tiny`, BENCHMARKS.md); elsewhere
 * the tiny detector alone, said once.
 */
export const DETECTORS = ['auto', 'dlib+tiny', 'dlib', 'tiny', 'ssd'] as const;
export type Detector = (typeof DETECTORS)[number];

/** Score thresholds by detector: dlib's HOG score (dlib's own default is 0), the tiny detector's and SSD's probabilities. */
export type Thresholds = Partial<Record<'dlib' | 'tiny' | 'ssd', number>>;

/**
 * The default thresholds, calibrated on real photos (bench/detect.ts; BENCHMARKS.md "Face detection on real
 * photos"): dlib's own default 0, which kept every face of four real group photos (23 of 23 with one upsampling)
 * and found nothing in 31 face-free photos, where −0.5 (the old value, chosen on pasted FER2013 crops) found 9
 * false faces there; tiny and SSD at face-api's 0.5; and `dlibTiny`, the threshold of the faces the tiny
 * detector adds to dlib's in `dlib+tiny`: 0.6, the lowest that added no false face to either set (0.5 added one)
 * while raising recall on 337 AFW faces from 88.7% (dlib alone) to 95.0%.
 */
export const MIN_CONFIDENCE = { dlib: 0, tiny: 0.5, ssd: 0.5, dlibTiny: 0.6 } as const;

/**
 * The thresholds a detection uses. A number is the threshold of the detector named (for `dlib+tiny`, dlib's; the
 * faces tiny adds keep MIN_CONFIDENCE.dlibTiny); an object sets each detector's own.
 */
export function thresholdsFor(detector: Exclude<Detector, 'auto'>, given?: number | Thresholds): Required<Thresholds> {
  const t: Required<Thresholds> = {
    dlib: MIN_CONFIDENCE.dlib,
    tiny: detector === 'dlib+tiny' ? MIN_CONFIDENCE.dlibTiny : MIN_CONFIDENCE.tiny,
    ssd: MIN_CONFIDENCE.ssd,
  };
  if (typeof given === 'number') t[detector === 'dlib+tiny' ? 'dlib' : detector] = given;
  else Object.assign(t, given);
  for (const k of ['tiny', 'ssd'] as const)
    if (!(t[k] > 0 && t[k] < 1))
      throw new UsageError(`--min-confidence: the ${k} detector's threshold is a probability between 0 and 1, got ${t[k]}`);
  if (!(t.dlib >= -3 && t.dlib <= 3)) throw new UsageError(`--min-confidence: dlib's threshold is a HOG score from -3 to 3, got ${t.dlib}`);
  return t;
}
