/**
 * Which face detectors there are and the score thresholds each uses (pure: Node and the browser share it).
 */
import { UsageError } from '../errors.js';

/**
 * `auto` (the default): where fer's native addon was built with dlib, dlib's faces (the paper's detector:
 * finds the small faces of group photos) together with face-api's tiny detector's faces that dlib's frontal
 * HOG model missed (turned heads), each with its own 68 landmarks (`dlib+tiny`, BENCHMARKS.md); elsewhere
 * (Node without dlib's native part) SSD from 0.3, its faces kept where the face mesh's own face score is at
 * least MIN_CONFIDENCE.mesh, said once. The browser runs the tiny detector (speed).
 */
export const DETECTORS = ['auto', 'dlib+tiny', 'dlib', 'tiny', 'ssd'] as const;
export type Detector = (typeof DETECTORS)[number];

/**
 * Score thresholds by detector: dlib's HOG score (dlib's own default is 0), the tiny detector's and SSD's
 * probabilities; `mesh`: the face mesh's own score that a face is there (0–1), below which a face whose 68
 * points the mesh places is dropped (0: none dropped).
 */
export type Thresholds = Partial<Record<'dlib' | 'tiny' | 'ssd' | 'mesh', number>>;

/** Which model places the 68 points where dlib's model does not: MediaPipe's face mesh or face-api's net. */
export const LANDMARK_MODELS = ['mesh', 'net'] as const;
export type LandmarkModel = (typeof LANDMARK_MODELS)[number];

/**
 * The default thresholds, calibrated on real photos (bench/detect.ts; BENCHMARKS.md "Face detection on real
 * photos"): dlib's own default 0, which kept every face of four real group photos (23 of 23 with one upsampling)
 * and found nothing in 31 face-free photos, where −0.5 (the old value, chosen on pasted FER2013 crops) found 9
 * false faces there; tiny and SSD at face-api's 0.5; and `dlibTiny`, the threshold of the faces the tiny
 * detector adds to dlib's in `dlib+tiny`: 0.6, the lowest that added no false face to either set (0.5 added one)
 * while raising recall on 337 AFW faces from 88.7% (dlib alone) to 95.0%.
 *
 * `mesh` 0.5, the face mesh's face score under which a face it places the 68 points of is dropped, and
 * `ssdMesh` 0.3, SSD's threshold when that filter follows it (BENCHMARKS.md "Face mesh landmarks", `npx tsx
 * bench/detect.ts --face-free /tmp/face-free --passes tiny416,ssd`): SSD ≥ 0.5 alone found 23/23 faces of the
 * group photos and 95.5% of the 337 AFW faces with 2 false faces in the 31 face-free photos; SSD ≥ 0.3 with
 * the mesh score ≥ 0.5 found 23/23 and 99.1% with none (0.5 and 0.9 dropped the same faces, no annotated one).
 *
 * `dlibTinyMesh` 0.5, `dlibTiny` where the mesh's score filters the faces tiny adds (BENCHMARKS.md "(issue 32,
 * h32)", `--passes dlib1,tiny416`): AFW 95.0% → 96.1% with no false face in either set; 0.4 also none (97.0%),
 * 0.3 two in the group photos, so 0.5 keeps a step from the first false face.
 */
export const MIN_CONFIDENCE = { dlib: 0, tiny: 0.5, ssd: 0.5, ssdMesh: 0.3, dlibTiny: 0.6, dlibTinyMesh: 0.5, mesh: 0.5 } as const;

/**
 * The thresholds a detection uses. A number is the threshold of the detector named (for `dlib+tiny`, dlib's; the
 * faces tiny adds keep MIN_CONFIDENCE.dlibTinyMesh, or dlibTiny without the mesh's filter); an object sets each
 * detector's own, and `mesh` the face mesh's. With `landmarks` 'net' nothing is filtered by the mesh (`mesh` is 0);
 * SSD's default is MIN_CONFIDENCE.ssdMesh where the mesh's score filters its faces, MIN_CONFIDENCE.ssd where it does not.
 */
/** How the errors below name the setting: the command's flag and the libraries' option. */
const SETTING = 'minimum confidence (--min-confidence, or minConfidence in the library)';

export function thresholdsFor(
  detector: Exclude<Detector, 'auto'>,
  given?: number | Thresholds,
  landmarks: LandmarkModel = 'mesh',
): Required<Thresholds> {
  const mesh = typeof given === 'object' && given.mesh !== undefined ? given.mesh : MIN_CONFIDENCE.mesh;
  if (!(mesh >= 0 && mesh < 1)) throw new UsageError(`${SETTING}: the face mesh's threshold is a score from 0 to 1 (0: off), got ${mesh}`);
  const filtered = landmarks === 'mesh' && mesh > 0;
  const t: Required<Thresholds> = {
    dlib: MIN_CONFIDENCE.dlib,
    tiny: detector !== 'dlib+tiny' ? MIN_CONFIDENCE.tiny : filtered ? MIN_CONFIDENCE.dlibTinyMesh : MIN_CONFIDENCE.dlibTiny,
    ssd: filtered ? MIN_CONFIDENCE.ssdMesh : MIN_CONFIDENCE.ssd,
    mesh: 0,
  };
  if (typeof given === 'number') t[detector === 'dlib+tiny' ? 'dlib' : detector] = given;
  else Object.assign(t, given);
  t.mesh = filtered ? mesh : 0;
  for (const k of ['tiny', 'ssd'] as const)
    if (!(t[k] > 0 && t[k] < 1))
      throw new UsageError(`${SETTING}: the ${k} detector's threshold is a probability between 0 and 1, got ${t[k]}`);
  if (!(t.dlib >= -3 && t.dlib <= 3)) throw new UsageError(`${SETTING}: dlib's threshold is a HOG score from -3 to 3, got ${t.dlib}`);
  return t;
}
