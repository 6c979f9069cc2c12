/**
 * bench.png: throughput and p50 latency per variant and batch size; when accuracy was measured (--data), a
 * second row: accuracy against batch-1 latency and against throughput at the largest batch (the Pareto view).
 */
import { barPanel, scatterPanel, svgDoc } from '../plot/svg.js';
import { svgToPng } from '../io/image.js';
import type { BenchResult } from './schema.js';

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

export function benchSvg(r: BenchResult): string {
  const batches = [...new Set(r.rows.map((x) => x.batch))];
  const h = Math.max(220, 40 + r.rows.length * 22);
  const bars = (f: (x: BenchResult['rows'][number]) => number) =>
    r.rows.map((x) => ({ label: `${x.variant} ×${x.batch}`, value: f(x), color: COLORS[batches.indexOf(x.batch) % COLORS.length] }));
  const top =
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
    );
  const pareto = paretoPanels(r, h);
  return svgDoc(1100, pareto ? h + 380 : h, top + pareto);
}

/** Accuracy (%) of each model against its latency at the smallest batch and its throughput at the largest. */
function paretoPanels(r: BenchResult, top: number): string {
  const models = [...new Set(r.rows.map((x) => x.model))];
  const small = Math.min(...r.rows.map((x) => x.batch)),
    large = Math.max(...r.rows.map((x) => x.batch));
  const points = (batch: number, f: (x: BenchResult['rows'][number]) => number) =>
    r.rows
      .filter((x) => x.batch === batch && x.accuracy != null)
      .map((x) => ({ x: f(x), y: x.accuracy! * 100, label: x.variant, color: COLORS[models.indexOf(x.model) % COLORS.length] }));
  const latency = points(small, (x) => x.latencyMs.p50);
  if (latency.length === 0) return '';
  return (
    scatterPanel(0, top, 550, 380, `Accuracy (%) vs p50 latency, batch ${small}`, latency, 'ms per batch (lower is better)') +
    scatterPanel(
      550,
      top,
      550,
      380,
      `Accuracy (%) vs throughput, batch ${large}`,
      points(large, (x) => x.throughput),
      'images/s (higher is better)',
    )
  );
}

export async function writeBenchPng(r: BenchResult, file: string): Promise<void> {
  await svgToPng(benchSvg(r), file);
}
