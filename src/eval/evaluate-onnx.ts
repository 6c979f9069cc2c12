/** Evaluates an ONNX classifier on a dataset with onnxruntime-node (the tfjs side, and class maps: eval/evaluate.ts). */
import type { Dataset } from '../data/dataset.js';
import type { Tta } from '../data/augment.js';
import type { OnProgress } from './probs.js';
import { checkClassifierInput, inspectOnnx } from '../onnx/inspect.js';
import { resultFromProbs, transformedProbs, type EvalResult, type ProbsTransform } from './evaluate.js';
import { createSession, type SessionOptions } from '../runtime/ort.js';
import { onnxProbs } from '../runtime/onnx-probs.js';

export async function evaluateOnnx(
  file: string,
  ds: Dataset,
  tta: Tta = 'none',
  options: SessionOptions = {},
  onProgress?: OnProgress,
  t: ProbsTransform = {},
): Promise<EvalResult> {
  const info = inspectOnnx(file);
  checkClassifierInput(info, file);
  const { layout } = info;
  const session = await createSession(file, options);
  try {
    const probs = await onnxProbs(session, layout, ds.images, ds.size, tta, undefined, onProgress);
    return resultFromProbs(transformedProbs(probs, info.classes, t), ds, file, tta);
  } finally {
    await session.release();
  }
}
