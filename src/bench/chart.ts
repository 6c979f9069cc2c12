/** bench.png: throughput and p50 latency per variant and batch size. */
import { barPanel, svgDoc } from '../plot/svg.js';
import { svgToPng } from '../io/image.js';
import type { BenchResult } from './schema.js';

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

export function benchSvg(r: BenchResult): string {
  const batches = [...new Set(r.rows.map((x) => x.batch))];
  const h = Math.max(220, 40 + r.rows.length * 22);
  const bars = (f: (x: BenchResult['rows'][number]) => number) =>
    r.rows.map((x) => ({ label: `${x.variant} ×${x.batch}`, value: f(x), color: COLORS[batches.indexOf(x.batch) % COLORS.length] }));
  return svgDoc(
    1100,
    h,
    barPanel(
      0,
      0,
      550,
      h,
      'Throughput (images/s)',
      bars((x) => x.throughput),
    ) +
      barPanel(
        550,
        0,
        550,
        h,
        'Latency p50 (ms per batch)',
        bars((x) => x.latencyMs.p50),
        ' ms',
      ),
  );
}

export async function writeBenchPng(r: BenchResult, file: string): Promise<void> {
  await svgToPng(benchSvg(r), file);
}
