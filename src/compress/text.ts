/** The text `fer prune`, `fer quantize` and `fer compress` print of their results (--json prints the results themselves). */
import { textTable } from '../util/text-table.js';
import type { CompressResult } from './compress-types.js';
import type { PruneResult, SlimResult } from './prune.js';
import type { QuantizeResult } from './quantize.js';

/** A result of a stage that ran to its end (not stopped by Ctrl-C). */
type Done<T> = Extract<T, { interrupted: false }>;

/** A pruned model: each layer's weights and non-zeros, the total sparsity and the compression ratio R (eq. 1). */
export function pruneText(r: Done<PruneResult>): string {
  return [
    textTable(
      ['layer', 'weights', 'non-zero', 'sparsity'],
      r.layers.map((l) => [l.name, l.total, l.nonzero, `${(l.sparsity * 100).toFixed(1)}%`]),
    ),
    `\ntotal ${r.total} weights, ${r.nonzero} non-zero: sparsity ${(r.sparsity * 100).toFixed(1)}%, compression ratio R = ${r.compressionRatio.toFixed(2)} (eq. 1)`,
    `wrote ${r.model}`,
  ].join('\n');
}

/** A slimmed model: multiply-adds and parameters per layer, before and after, and the channels kept. */
export function slimText(r: Done<SlimResult>): string {
  const k = (n: number) => (n / 1000).toFixed(1) + 'k';
  const { channels, macs } = r,
    { before, after } = r.parameters;
  return [
    textTable(
      ['layer', 'MACs before', 'MACs after', 'params before', 'params after'],
      r.layers.map((x) => [x.role, k(x.macsBefore), k(x.macsAfter), x.paramsBefore, x.paramsAfter]),
    ),
    `\nchannels kept: stem ${channels.stem.join(', ')}; modules (first separable conv / output) ${channels.inner.map((i, m) => `${i}/${channels.out[m]}`).join(', ')}`,
    `parameters ${before} → ${after} (${((after / before) * 100).toFixed(1)}%), multiply-adds ${k(macs.before)} → ${k(macs.after)} (${((macs.after / macs.before) * 100).toFixed(1)}%) per image`,
    `wrote ${r.model}`,
  ].join('\n');
}

export function quantizeText(r: Done<QuantizeResult>): string {
  const weights = r.bits === 16 ? 'fp16' : `${r.bits}-bit ${r.granularity}`;
  return `quantized to ${weights} weights; calibrated ${r.layersCalibrated} activations on ${r.calibrationImages} images; wrote ${r.model}`;
}

const fixed = (x: number | undefined, d = 2) => (x === undefined ? '–' : x.toFixed(d));

/** Every variant's accuracy, size, latency and throughput (the chosen one starred), what was not run, and the choice. */
export function compressText(r: CompressResult): string {
  const lines = [
    textTable(
      // --target size ranks by the gzip'd file (zeros compress): both sizes shown
      ['variant', 'acc %', 'bal. acc %', 'drop', 'ONNX bytes', 'gzip bytes', 'p50 b1 ms', '×', 'img/s b64', '×'],
      [r.original, ...r.variants].map((v) => [
        v.name === r.chosen?.name ? `${v.name} *` : v.name,
        fixed(v.accuracy * 100),
        fixed(v.balancedAccuracy * 100),
        fixed(v.dropPoints ?? 0),
        v.bytes,
        v.gzipBytes ?? '–',
        fixed(v.latencyMs, 3),
        fixed(v.latencyRatio, 3),
        fixed(v.throughput, 0),
        fixed(v.throughputRatio, 3),
      ]),
    ),
    ...r.skipped.map((s) => `not run: ${s.name}: ${s.reason}`),
  ];
  if (r.chosen) lines.push(`\nchosen: ${r.chosen.name} (${r.chosen.reason}); wrote ${r.chosen.dir}`);
  // the picture of the trade-off, where the run wrote it
  const plot = r.written.find((f) => f.endsWith('pareto.png'));
  if (plot) lines.push(`accuracy against size and speed, the Pareto front marked: ${plot}`);
  return lines.join('\n');
}
