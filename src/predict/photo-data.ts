/**
 * A training run on ordinary photos (`fer train --detect`): the data-source record train/run.ts carries along
 * opaquely (`detect`, `multiFace`), checked here, and the run's training and val sets loaded with each photo's
 * face cropped (crops.ts). It lives above train/ so that train/ never imports detect/ or predict/.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { loadData, type DataLoader, type Dataset } from '../data/dataset.js';
import type { ClassSpec } from '../data/classes.js';
import { DETECTORS, type Detector } from '../detect/faces.js';
import { resolveRunInputs, runInputsSchema, type RunInputsRequest, type RunSource } from '../train/run.js';
import { faceCropper, MULTI_FACE, type MultiFace } from './crops.js';

/** The photo source's defaults, applied after --resume has taken from run.json what the caller left open. */
export const photoSourceSchema = z.object({ multiFace: z.enum(MULTI_FACE).default('largest') });
const DEFAULTS = photoSourceSchema.parse({});

export interface PhotoRunSource extends RunSource {
  /** Crop each photo's face with this detector; undefined: the data is already 48×48 faces. */
  detect?: Detector;
  multiFace?: MultiFace;
}

/** The defaults of what a photo run reads and where (a resumed run keeps its own val split and multi-face rule). */
export const photoRunInputsSchema = runInputsSchema.extend(photoSourceSchema.shape);

/**
 * train/run.ts's resolveRunInputs (the --resume rules, the data checks) for a photo source, its detector and
 * multi-face rule then checked, a resumed run's too. `detect: true` is the auto detector (`--detect` alone).
 */
export function resolvePhotoRunInputs(req: RunInputsRequest<Omit<PhotoRunSource, 'detect'> & { detect?: Detector | boolean }>) {
  const detect = req.source.detect === true ? 'auto' : req.source.detect || undefined;
  const r = resolveRunInputs({ ...req, source: { ...req.source, detect } });
  return { ...r, source: checkPhotoSource(r.source) };
}

/** `source` with its multi-face rule defaulted, its detector and rule checked (a resumed run's too). */
export function checkPhotoSource<S extends PhotoRunSource>(source: S): S & { multiFace: MultiFace } {
  const s = { ...source, multiFace: source.multiFace ?? DEFAULTS.multiFace };
  if (s.detect && !DETECTORS.includes(s.detect))
    throw new UsageError(`train: --detect ${s.detect}: unknown detector (expected: ${DETECTORS.join(', ')})`);
  if (!MULTI_FACE.includes(s.multiFace)) throw new UsageError(`train: --multi-face ${s.multiFace}: expected ${MULTI_FACE.join(' or ')}`);
  return s;
}

/**
 * trainRun's `loadData` hook for a photo source: the training and val sets in the run's classes (val merged
 * as training is), with `detect` each photo's face cropped; `onNote` says how many photos were cropped now
 * and how many had no face or several.
 */
export function photoRunData(
  s: PhotoRunSource & { data: string },
  o: { load?: DataLoader; onNote?: (message: string) => void } = {},
): (spec: ClassSpec) => Promise<{ trainSet: Dataset; valSet: Dataset | null }> {
  const load = o.load ?? loadData;
  return async (spec) => {
    const cropper = s.detect ? faceCropper({ detector: s.detect, multiFace: s.multiFace }) : undefined;
    try {
      const trainSet = await load(s.data, s.usage, { classes: spec, decoder: cropper });
      if (cropper?.stats.photos) {
        const st = cropper.stats;
        o.onNote?.(
          `--detect: ${st.photos} photos cropped now (the rest from the cache): ${st.noFace} without a face, ${st.severalFaces} with several (${s.multiFace === 'skip' ? 'skipped' : 'largest taken'})`,
        );
      }
      const valSet = s.val ? await load(s.val, s.valUsage, { classes: { ...spec, classes: trainSet.classes }, decoder: cropper }) : null;
      return { trainSet, valSet };
    } finally {
      await cropper?.release();
    }
  };
}

/**
 * A DataLoader that, with a detector, crops each photo's face as `fer train --detect` does (`fer eval --detect`),
 * the face nets released once the set is loaded; without one, `load` itself.
 */
export function photoLoader(detect: Detector | undefined, load: DataLoader = loadData): DataLoader {
  if (!detect) return load;
  return async (source, usage, options) => {
    const cropper = faceCropper({ detector: detect });
    try {
      return await load(source, usage, { ...options, decoder: cropper });
    } finally {
      await cropper.release();
    }
  };
}
