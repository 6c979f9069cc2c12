/** The text `fer export onnx` prints of an export: the file written, and the onnxruntime-vs-tfjs check. */
import type { ExportResult } from './export.js';

/** `verify`: whether a check was asked for (an fp16 model with float16 input and output is not checked). */
export function exportText(r: ExportResult, verify: boolean): string {
  const lines = [`wrote ${r.file} (${(r.bytes / 1024).toFixed(1)} KiB, ${r.precision}${r.int8Target ? `, target ${r.int8Target}` : ''})`];
  const v = r.verification;
  if (v)
    lines.push(
      `verify: ${v.images} images, max |Δp| ${v.maxAbsDiff.toExponential(2)} (≤ ${v.tolerance.maxAbsDiff}), top-1 agreement ${(v.top1Agreement * 100).toFixed(2)}% (≥ ${v.tolerance.top1Agreement * 100}%): ${v.passed ? 'ok' : 'FAILED'}`,
    );
  else if (verify) lines.push('verify: skipped (a float16-input model cannot be fed float32 images here)');
  return lines.join('\n');
}
