/** Runs an ONNX model over a dataset with onnxruntime-node. */
import type { Dataset } from '../data/dataset.js';
import { makeBatch, flipBatch } from '../data/augment.js';
import { NUM_CLASSES, IMAGE_SIZE } from '../data/classes.js';
import { inspectOnnx } from '../convert/onnx/inspect.js';
import { resultFromProbs, type EvalResult } from '../eval/evaluate.js';
import type { Tta } from '../eval/predict.js';
import { createSession, type FerSession, type SessionOptions } from './ort.js';

/** Input dims for a batch of n 48×48 grayscale images in the model's layout. */
export function inputDims(layout: 'NHWC' | 'NCHW', n: number): number[] {
  return layout === 'NCHW' ? [n, 1, IMAGE_SIZE, IMAGE_SIZE] : [n, IMAGE_SIZE, IMAGE_SIZE, 1];
}

export async function onnxProbs(session: FerSession, layout: 'NHWC' | 'NCHW', images: Uint8Array, n: number, tta: Tta = 'none', batchSize = 256): Promise<Float32Array> {
  const out = new Float32Array(n * NUM_CLASSES);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const xs = makeBatch(images, idx);
    let p = await session.run(xs, inputDims(layout, idx.length));
    if (tta === 'flip') {
      const q = await session.run(flipBatch(xs), inputDims(layout, idx.length));
      p = Float32Array.from(p, (v, i) => (v + q[i]) / 2);
    }
    out.set(p, start * NUM_CLASSES);
  }
  return out;
}

export async function evaluateOnnx(file: string, ds: Dataset, tta: Tta = 'none', options: SessionOptions = {}): Promise<EvalResult> {
  const { layout } = inspectOnnx(file);
  const session = await createSession(file, options);
  try {
    return resultFromProbs(await onnxProbs(session, layout, ds.images, ds.size, tta), ds, file, tta);
  } finally {
    await session.release();
  }
}
