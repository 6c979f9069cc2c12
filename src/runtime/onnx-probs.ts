/** Batched inference of an ONNX classifier on onnxruntime-node over 48×48 grayscale bytes (the same loop as eval/probs.ts's on tfjs: data/augment.ts viewBatches). */
import { ProbsTable, viewBatches, type Tta } from '../data/augment.js';
import { IMAGE_SIZE } from '../data/classes.js';
import type { FerSession } from './ort.js';

/** Input dims for a batch of n 48×48 grayscale images in the model's layout. */
export function inputDims(layout: 'NHWC' | 'NCHW', n: number): number[] {
  return layout === 'NCHW' ? [n, 1, IMAGE_SIZE, IMAGE_SIZE] : [n, IMAGE_SIZE, IMAGE_SIZE, 1];
}

export async function onnxProbs(
  session: FerSession,
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
