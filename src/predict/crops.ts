/**
 * Raw photos as training data (`fer train --detect`): each photo's face found by the same detector as
 * `fer predict`, aligned by its eyes and cropped to 48×48 gray exactly as predict crops faces, so that a
 * model trained on these crops sees at inference what it saw in training.
 */
import { decodeRgb } from '../io/image.js';
import { SkippedFile, skipUnreadable } from '../data/dataset.js';
import { findFaces } from './predict.js';
import { alignFace, MIN_CONFIDENCE, releaseFaceNets, resolveDetector, retainFaceNets, type Detector } from '../detect/faces.js';

export const MULTI_FACE = ['largest', 'skip'] as const;
export type MultiFace = (typeof MULTI_FACE)[number];

export interface FaceCropOptions {
  detector?: Detector;
  upsample?: number | 'auto';
  /** A photo with several faces: train on its largest face, or skip the photo. */
  multiFace?: MultiFace;
}

export interface FaceCropper {
  /** Names the cropper in the dataset cache key: other options, other crops. */
  tag: string;
  /** The photo's face, 48×48 gray; null when it has none. Throws SkippedFile (with the reason) for a skipped photo. */
  decode(file: string): Promise<Uint8Array | null>;
  stats: { photos: number; noFace: number; severalFaces: number };
  release(): Promise<void>;
}

export function faceCropper(o: FaceCropOptions = {}): FaceCropper {
  const { detector } = resolveDetector(o.detector);
  const multi = o.multiFace ?? 'largest';
  const stats = { photos: 0, noFace: 0, severalFaces: 0 };
  retainFaceNets();
  return {
    // landmarks-mesh: the 68 points (and so the crops) where dlib's model does not place them are the face mesh's
    // since issue 32, not face-api's net's, and the faces it places are kept from its face score MIN_CONFIDENCE.mesh:
    // crops cached before are not reused
    // border-0.5: photos without a face found are searched again inside a border (predict/border.ts)
    tag: `faces:${detector}:${o.upsample ?? 'auto'}:${multi}:align-0.25:landmarks-mesh:mesh-score-${MIN_CONFIDENCE.mesh}:border-0.5`,
    stats,
    async decode(file) {
      stats.photos++;
      // A tight face crop among the photos is found inside a border, and aligned there.
      const { faces, image } = await findFaces(await skipUnreadable(decodeRgb(file)), { detector, upsample: o.upsample });
      if (faces.length === 0) {
        stats.noFace++;
        return null;
      }
      if (faces.length > 1) {
        stats.severalFaces++;
        if (multi === 'skip') throw new SkippedFile(`${faces.length} faces (--multi-face skip)`);
      }
      const largest = faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
      return alignFace(image, largest);
    },
    release: () => releaseFaceNets(),
  };
}
