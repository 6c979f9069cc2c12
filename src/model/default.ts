/** The model shipped in the package (models/fer-mini-xception), used when no --model is given. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = path.join(root, 'models');
export const DEFAULT_MODEL = path.join(MODELS_DIR, 'fer-mini-xception');
export const DEFAULT_ONNX = path.join(MODELS_DIR, 'onnx', 'fer-mini-xception.fp32.onnx');
