/**
 * The models shipped in the package: models/fer-mini-xception (the default, used when no --model is given)
 * and models/fer-mini-xception-slim (#24's faster one), each with ONNX exports in models/onnx/NAME.*.onnx.
 */
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import path from 'node:path';
import { packagePath } from '../paths.js';

export const MODELS_DIR = packagePath('models');
export const SHIPPED_MODELS = ['fer-mini-xception', 'fer-mini-xception-slim'] as const;
export const DEFAULT_MODEL = path.join(MODELS_DIR, SHIPPED_MODELS[0]);
export const DEFAULT_ONNX = path.join(MODELS_DIR, 'onnx', `${SHIPPED_MODELS[0]}.fp32.onnx`);
/** The bundled sample of labelled faces: the default images for export verification and int8/quantize calibration. */
export const SAMPLE_DATA = path.join(MODELS_DIR, '..', 'fixtures', 'fer-mini', 'val');

/** A model's name for default file names: its folder's (a run's, for its best/ or last/ model). */
export function modelName(model: string): string {
  const dir = path.resolve(model.endsWith('.json') ? path.dirname(model) : model);
  return path.basename(/^(best|last)$/.test(path.basename(dir)) ? path.dirname(dir) : dir);
}

/**
 * Teachers for `fer train --teacher NAME` (issue 37): big networks kept in the repository under
 * models/teachers/NAME (tfjs Layers format, each with its card in models/README.md), not in the npm package.
 * A checkout has them; an installed package resolves a name only when the folder is there.
 */
export const TEACHERS_DIR = path.join(MODELS_DIR, 'teachers');

/** A --teacher value: a path as given when it exists, else models/teachers/NAME when that folder exists, else as given. */
export function resolveTeacher(p: string, teachers = TEACHERS_DIR): string {
  if (existsSync(p) || p.includes('/') || p.includes(path.sep)) return resolveModel(p);
  const dir = path.join(teachers, p);
  return existsSync(path.join(dir, 'model.json')) ? dir : resolveModel(p);
}

/** `fer train --teacher` values resolved (resolveTeacher); a usage error names the first that is no model. */
export function resolveTeachers(teachers: string[]): string[] {
  return teachers.map((t) => {
    const p = resolveTeacher(t);
    if (!existsSync(p))
      throw new UsageError(`train: teacher ${t}: no such model`, { hint: `a path, or a teacher in ${TEACHERS_DIR}`, option: 'teacher' });
    return p;
  });
}

/**
 * A --model value: a path as given when it exists, else the name of a shipped model (`fer-mini-xception-slim`)
 * as its tfjs directory, or with `onnx` its fp32 ONNX export. Anything else is returned as it is (the caller
 * reports it missing).
 */
export function resolveModel(p: string, prefer: 'tfjs' | 'onnx' = 'tfjs'): string {
  if (existsSync(p) || !(SHIPPED_MODELS as readonly string[]).includes(p)) return p;
  const file = prefer === 'onnx' ? path.join(MODELS_DIR, 'onnx', `${p}.fp32.onnx`) : path.join(MODELS_DIR, p);
  return existsSync(file) ? file : p;
}

/**
 * Resolves a model path: a directory with model.json, the model.json file itself, or a run directory of
 * `fer train` / `prune` / `quantize` (its best/ model, else its last/).
 */
export function modelJsonPath(p: string): string {
  if (!existsSync(p)) throw new UsageError(`model: no such file or folder: ${p}`);
  if (!statSync(p).isDirectory()) {
    if (/\.onnx$/i.test(p)) throw new UsageError(`model: ${p} is an ONNX file; this command takes a tfjs model folder (model.json)`);
    // A photo or any other file given as the model: said as such, not as "not valid JSON" (exit 3, a damaged model).
    if (!/\.json$/i.test(p))
      throw new UsageError(`model: ${p} is not a model (a fer model folder, its model.json, a run folder, or an .onnx file)`);
    return p;
  }
  const candidates = ['.', 'best', 'last'].map((d) => path.join(p, d, 'model.json'));
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new UsageError(`model: ${p} has no model.json (looked for ${candidates.map((f) => path.relative(p, f)).join(', ')})`);
  return file;
}

/** The directory holding a model's model.json (for a run directory: its best/ or last/). */
export const modelDir = (p: string) => path.dirname(modelJsonPath(p));

/** --model of a command that reads a fer model: a path, or a shipped model's name (fer-mini-xception-slim); default the shipped model. */
export const modelSchema = z
  .string()
  .default(DEFAULT_MODEL)
  .transform((p) => resolveModel(p));

/** --model of a command that runs a classifier: an .onnx or a fer model, or a shipped model's name (its fp32 ONNX export). */
export const classifierSchema = z
  .string()
  .optional()
  .transform((p) => (p === undefined ? p : resolveModel(p, 'onnx')));
