/** The model shipped in the package (models/fer-mini-xception), used when no --model is given. */
import path from 'node:path';
import { packagePath } from '../paths.js';

export const MODELS_DIR = packagePath('models');
export const DEFAULT_MODEL = path.join(MODELS_DIR, 'fer-mini-xception');
export const DEFAULT_ONNX = path.join(MODELS_DIR, 'onnx', 'fer-mini-xception.fp32.onnx');
