/** What `fer compress` writes once it has chosen: compress.json, pareto.md/png, and chosen/ with the model, its ONNX exports and a card. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, saveModel } from '../model/io.js';
import { exportOnnx } from '../convert/export.js';
import { writeOutput } from '../io/output.js';
import { dropPoints } from './choose.js';
import type { CompressResult, VariantRecord } from './compress-types.js';
import { writeParetoMd, writeParetoPng } from './pareto-report.js';

/** compress.json, pareto.md, pareto.png, and chosen/ (the tfjs model, its ONNX exports, a card). */
export async function writeOutputs(out: string, r: CompressResult, chosen: VariantRecord, model: string): Promise<string[]> {
  const dir = path.join(out, 'chosen');
  const src = chosen.name === 'original' ? model : path.join(out, chosen.model);
  const { model: m, meta } = await loadModel(src);
  try {
    await saveModel(m, path.join(dir, 'model'), meta);
  } finally {
    m.dispose();
  }
  const files = [path.join(out, 'compress.json'), path.join(out, 'pareto.md'), path.join(out, 'pareto.png'), path.join(dir, 'model')];
  const onnx = path.join(dir, path.basename(chosen.onnx) === 'original.onnx' ? 'model-fp32.onnx' : path.basename(chosen.onnx));
  writeOutput(onnx, readFileSync(path.join(out, chosen.onnx)));
  files.push(onnx);
  if (chosen.precision !== 'fp32') {
    const fp32 = path.join(dir, 'model-fp32.onnx');
    await exportOnnx(path.join(dir, 'model'), fp32, { version: 'compress', verify: false });
    files.push(fp32);
  }
  writeOutput(path.join(dir, 'README.md'), card(r, chosen));
  files.push(path.join(dir, 'README.md'));
  writeOutput(files[0], JSON.stringify({ ...r, written: files }, null, 2) + '\n');
  writeParetoMd(files[1], r);
  await writeParetoPng(files[2], r);
  return files;
}

const fixed = (x: number | undefined, d = 2) => (x === undefined ? '–' : x.toFixed(d));

function card(r: CompressResult, v: VariantRecord): string {
  return [
    `# ${v.name}: chosen by fer compress --target ${r.target} --max-drop ${r.maxDrop}`,
    '',
    `From \`${String(r.options.model)}\`. ${r.chosen?.reason ?? ''}.`,
    '',
    `- accuracy on --val (ONNX): ${fixed(v.accuracy * 100)}% (original ${fixed(r.original.accuracy * 100)}%, drop ${fixed(dropPoints(v, r.original))} points)`,
    `- balanced accuracy (mean per-class recall): ${fixed(v.balancedAccuracy * 100)}%`,
    `- ONNX file: ${v.bytes} bytes (${v.gzipBytes ?? '–'} gzip'd), ${fixed(v.bytes / r.original.bytes, 3)}× the original's`,
    `- p50 latency at batch 1: ${fixed(v.latencyMs)} ms (${fixed(v.latencyRatio, 3)}× the original), throughput at batch 64: ${fixed(v.throughput, 0)} img/s (${fixed(v.throughputRatio, 3)}×), from one interleaved bench`,
    '',
    "Files: `model/` (the tfjs model, its compression in model.json's metadata), the ONNX export(s) beside it.",
    'Every variant measured is in ../compress.json and ../pareto.md.',
    '',
  ].join('\n');
}
