/**
 * Batched inference of an ONNX classifier over 48×48 grayscale bytes, test-time views averaged (the same loop
 * as eval/probs.ts's on tfjs: data/augment.ts viewBatches). Pure: onnxruntime-node (a FerSession) and the
 * browser's onnxruntime-web (web/browser/predictor.ts) each hand in their own `run`.
 */
import { ProbsTable, viewBatches, type Tta } from '../data/augment.js';
import { IMAGE_SIZE } from '../data/classes.js';

/** What runs one batch: input values and dims → the output's values (runtime/ort.ts FerSession is one). */
export interface OnnxRunner {
  run(data: Float32Array, dims: number[]): Promise<Float32Array>;
}

/** Input dims for a batch of n 48×48 grayscale images in the model's layout. */
export function inputDims(layout: 'NHWC' | 'NCHW', n: number): number[] {
  return layout === 'NCHW' ? [n, 1, IMAGE_SIZE, IMAGE_SIZE] : [n, IMAGE_SIZE, IMAGE_SIZE, 1];
}

export async function onnxProbs(
  session: OnnxRunner,
  layout: 'NHWC' | 'NCHW',
  images: Uint8Array,
  n: number,
  tta: Tta = 'none',
  batchSize = 256,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const table = new ProbsTable(n);
  for (const b of viewBatches(images, n, tta, batchSize)) {
    const perView: Float32Array[] = [];
    for (const v of b.views) perView.push(await session.run(v, inputDims(layout, b.count)));
    table.add(b, perView);
    onProgress?.(b.start + b.count, n);
  }
  return table.result;
}
