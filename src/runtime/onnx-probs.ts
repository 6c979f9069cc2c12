/** Batched inference of an ONNX classifier on onnxruntime-node over 48×48 grayscale bytes (tfjs's twin: eval/predict.ts). */
import { ttaAffines, viewBatch, type Tta } from '../data/augment.js';
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
  let out = new Float32Array(0);
  const views = ttaAffines(tta);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    let sum = new Float32Array(0);
    for (const m of views) {
      const p = await session.run(viewBatch(images, idx, m), inputDims(layout, idx.length));
      if (sum.length === 0) sum = new Float32Array(p.length);
      for (let i = 0; i < sum.length; i++) sum[i] += p[i] / views.length;
    }
    // The model's class count is its output's width.
    if (start === 0) out = new Float32Array((n * sum.length) / idx.length);
    out.set(sum, (start * sum.length) / idx.length);
    onProgress?.(start + idx.length, n);
  }
  return out;
}
