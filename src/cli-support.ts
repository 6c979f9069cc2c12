/**
 * What fer's commands take from the package besides its public API (src/index.ts): the checks, schemas, defaults
 * and printing helpers that only the CLI needs. Internal: not in package.json's `exports`, so not a library user's
 * import, and free to change; the architecture test lets src/commands/ reach the modules listed here and in index.ts.
 */
export { CROPPED_FACE_MAX_SIDE } from './predict/predict.js';
export { DLIB_LICENSE_NOTE } from './detect/dlib.js';
export { checkQuantizeOptions, qatRunDir } from './compress/quantize.js';
export { checkPruneOptions, checkPruneResume } from './compress/prune.js';
export { recoverySchema, type RecoveryOptions } from './compress/options.js';
export { runInputsSchema, checkRunOut, checkNoCheckpoint, checkConvBf16, convBf16 } from './train/run.js';
export { TRAIN_AUGMENT } from './data/augment.js';
export { SAMPLE_DATA, TEACHERS_DIR, modelName, resolveTeachers, modelSchema, classifierSchema } from './model/default.js';
export { photoLoader, photoRunInputsSchema, photoSourceSchema } from './predict/photo-data.js';
export { planVariants, STATE_FILE as COMPRESS_STATE_FILE } from './compress/search.js';
export { dropPoints } from './compress/choose.js';
export { resultSource } from './predict/text.js';
export { benchCells, markdownTable, type BenchColumn } from './bench/table.js';
export { exportNeedsSample, defaultOnnxFile } from './convert/export.js';
export { defaultBenchModels } from './bench/run.js';
export { modelClasses, modelDataClasses } from './eval/evaluate-data.js';
export { timelineWriter } from './predict/timeline.js';
export { checkDataPaths } from './compress/options.js';
export { libraryOptions } from './util/options.js';
