/**
 * Models on disk: a directory with the tfjs Layers format (`model.json` + `weights.bin`) and fer's
 * metadata in `model.json`'s `userDefinedMetadata.fer` (classes, preprocessing, pruning, quantization,
 * calibration). Writes are atomic: a new directory is filled, then renamed over the old one.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isFerModelDir, replaceDir } from '../io/files.js';
import { modelJsonPath } from './default.js';
import path from 'node:path';
import { z } from 'zod';
import { tf } from '../engine/tf.js';
import { ensureEngine } from '../engine/backend.js';
import { ModelError, UsageError } from '../errors.js';
import { CLASSES } from '../data/classes.js';
import { PREPROCESS } from '../data/augment.js';
import { registerFerLayers } from './batch-norm.js';

export type { FerMetadata } from './types.js';
import type { FerMetadata } from './types.js';
import { makeDirs } from '../io/make-dirs.js';

export function defaultMetadata(arch = 'mini-xception', classes: readonly string[] = CLASSES): FerMetadata {
  return { classes: [...classes], preprocess: { ...PREPROCESS }, arch };
}

/** Number of classes a model outputs (its softmax's width). */
export function outputClasses(model: tf.LayersModel): number {
  return model.outputs[0].shape[model.outputs[0].shape.length - 1] as number;
}

/**
 * Writes a model directory atomically (filled under a temporary name, then swapped in). It replaces only a
 * fer model directory or an empty folder: anything else at `dir` is an error, never deleted.
 */
export async function saveModel(model: tf.LayersModel, dir: string, meta: FerMetadata): Promise<void> {
  if (existsSync(dir) && !(statSync(dir).isDirectory() && (isFerModelDir(dir) || readdirSync(dir).length === 0))) {
    throw new UsageError(`${dir} exists and is not a fer model; refusing to replace it`);
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  makeDirs(tmp);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
      writeFileSync(path.join(tmp, 'weights.bin'), weights);
      const json = {
        format: 'layers-model',
        generatedBy: 'fer',
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: { fer: meta },
      };
      writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json)); // last: a tmp with model.json is complete
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
  replaceDir(tmp, dir);
}

export { modelDir, modelJsonPath } from './default.js';

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** The weights manifest of a model.json as fer reads it: anything else is a one-line model error. */
const manifestSchema = z
  .array(
    z.object({
      paths: z.array(z.string().min(1)).min(1),
      weights: z.array(
        z
          .object({
            name: z.string(),
            shape: z.array(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)),
            dtype: z.enum(['float32', 'int32', 'bool']).optional(),
          })
          .passthrough(),
      ),
    }),
  )
  .min(1);

/** The first problem zod found, as "where: what" (`weightsManifest[0].weights[3].shape[1]: expected number`). */
const zodWhere = (e: z.ZodError, root: string) => {
  const i = e.issues[0];
  return `${root}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`;
};

/** Bytes a weight takes, computed from its shape (a product of dims, checked to stay a safe integer). */
function weightBytes(shape: number[], dtype = 'float32'): number {
  const n = shape.reduce((p, d) => p * d, DTYPE_BYTES[dtype]);
  return Number.isSafeInteger(n) ? n : Infinity;
}

/**
 * A weight file named by a model.json, resolved inside the model's own folder: a relative name without
 * `..`, not absolute, a regular file, and not a symlink that leads out of the folder. Models are shared
 * files; one must not make fer read anything else, nor tell anything about what lies outside its folder.
 */
function weightFile(dir: string, name: string, modelJson: string): { file: string; real: string; size: number } {
  if (!name || name.includes('\0') || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw new ModelError(`model: ${modelJson} names a weight file outside its folder (${JSON.stringify(name)})`);
  }
  const f = path.join(dir, name);
  if (!existsSync(f)) throw new ModelError(`model: ${modelJson} names ${name}, which is missing from ${dir}`);
  const real = realpathSync(f),
    root = realpathSync(dir);
  if (!real.startsWith(root + path.sep)) throw new ModelError(`model: ${modelJson}: ${name} leads outside the model folder (a symlink)`);
  const st = statSync(real);
  if (!st.isFile()) throw new ModelError(`model: ${modelJson}: ${name} is not a regular file`);
  return { file: f, real, size: st.size };
}

/** A saved model's fer metadata as model.json holds it (possibly partial), without loading its weights. */
export function readFerMetadata(p: string): Partial<FerMetadata> {
  const file = modelJsonPath(p);
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { userDefinedMetadata?: { fer?: Partial<FerMetadata> } };
    return json.userDefinedMetadata?.fer ?? {};
  } catch (e) {
    throw new ModelError(`model: ${file} is not valid JSON`, { cause: e });
  }
}

/** A saved model's class names (from its metadata) without loading its weights; FER2013's when it has none. */
export function readModelClasses(p: string): string[] {
  return [...(readFerMetadata(p).classes ?? CLASSES)];
}

/** The class frequencies a saved model records of its training set (`trainPrior`), if any. */
export function readModelPrior(p: string): Record<string, number> | undefined {
  return readFerMetadata(p).trainPrior;
}

export async function loadModel(p: string): Promise<{ model: tf.LayersModel; meta: FerMetadata }> {
  const file = modelJsonPath(p);
  await ensureEngine(); // a library caller that never chose one gets fer's (the CLI has chosen already)
  let json: {
    modelTopology: object;
    weightsManifest: unknown;
    userDefinedMetadata?: { fer?: FerMetadata };
  };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelError(`model: ${file} is not valid JSON`, { cause: e });
  }
  const dir = path.dirname(file);
  registerFerLayers(); // batch norm layers load into fer's fused training path
  if (!json || typeof json !== 'object' || !json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new ModelError(`model: ${file} is not a tfjs Layers model (no modelTopology or weightsManifest)`);
  }
  const parsed = manifestSchema.safeParse(json.weightsManifest);
  if (!parsed.success) throw new ModelError(`model: ${file}: ${zodWhere(parsed.error, 'weightsManifest')}`);
  const manifest = parsed.data;
  const specs = manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  // Sizes from the manifest and from the files, compared before a byte is read or allocated.
  const expected = specs.reduce((a, s) => a + weightBytes(s.shape, s.dtype), 0);
  const files = manifest.flatMap((g) => g.paths.map((f) => weightFile(dir, f, file)));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.real)) throw new ModelError(`model: ${file} names the weight file ${path.basename(f.file)} more than once`);
    seen.add(f.real);
  }
  const actual = files.reduce((a, f) => a + f.size, 0);
  if (actual !== expected) {
    throw new ModelError(
      `model: ${file}: the weight files hold ${actual} bytes, the manifest describes ${Number.isFinite(expected) ? expected : 'more than can be addressed'}`,
    );
  }
  const data = Buffer.concat(files.map((f) => readFileSync(f.file)));
  try {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length),
      }),
    );
    return { model, meta: json.userDefinedMetadata?.fer ?? defaultMetadata() };
  } catch (e) {
    throw new ModelError(`model: cannot load ${file}: ${(e as Error).message}`, { cause: e });
  }
}
