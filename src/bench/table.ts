/** The columns of a bench table, written once: the Markdown table, the terminal table and the report take a subset. */
import path from 'node:path';
import { textTable } from '../util/text-table.js';
import type { BenchResult, BenchRow } from './schema.js';

type Spread = { median: number; p25: number; p75: number };
/** A figure over rounds: its median and interquartile range, "0.773 (0.760–0.781)"; one round, the figure alone. */
const iqr = (s: Spread, digits: number, unit = '') =>
  s.p25 === s.p75
    ? `${s.median.toFixed(digits)}${unit}`
    : `${s.median.toFixed(digits)}${unit} (${s.p25.toFixed(digits)}–${s.p75.toFixed(digits)})`;

const COLUMNS = {
  variant: ['variant', (r) => r.variant],
  provider: [
    'provider',
    (r) => (r.requestedProvider && r.requestedProvider !== r.provider ? `${r.provider} (asked ${r.requestedProvider})` : r.provider),
  ],
  batch: ['batch', (r) => r.batch],
  p50: ['p50 ms', (r) => r.latencyMs.p50.toFixed(3)],
  p90: ['p90 ms', (r) => r.latencyMs.p90.toFixed(3)],
  p99: ['p99 ms', (r) => r.latencyMs.p99.toFixed(3)],
  throughput: ['img/s', (r) => r.throughput.toFixed(0)],
  cpu: ['CPU %', (r) => r.cpuPercent.toFixed(0)],
  mem: ['mem %', (r) => r.memPercent.toFixed(2)],
  rss: ['peak RSS MB', (r) => r.peakRssMb.toFixed(0)],
  size: ['size KB', (r) => (r.fileBytes / 1024).toFixed(1)],
  params: ['params', (r) => r.parameters],
  nonzero: ['non-zero', (r) => r.nonzeroParameters],
  macs: ['MACs', (r) => (r.macs == null ? '–' : `${(r.macs / 1e6).toFixed(2)} M`)],
  accuracy: ['accuracy', (r) => (r.accuracy == null ? '–' : `${(r.accuracy * 100).toFixed(2)}%`)],
  roundsP50: ['p50 ms per round (IQR)', (r) => (r.rounds ? iqr(r.rounds.latencyP50Ms, 3) : '–')],
  latencyRatio: ['p50 × first (IQR)', (r) => (r.rounds?.vsFirst ? iqr(r.rounds.vsFirst.latency, 3, '×') : '–')],
  throughputRatio: ['img/s × first (IQR)', (r) => (r.rounds?.vsFirst ? iqr(r.rounds.vsFirst.throughput, 3, '×') : '–')],
} satisfies Record<string, [string, (r: BenchRow) => string | number]>;

export type BenchColumn = keyof typeof COLUMNS;

export const ALL_BENCH_COLUMNS = Object.keys(COLUMNS) as BenchColumn[];

/** The header and cells of `rows` in the given columns. */
export function benchCells(
  rows: BenchRow[],
  columns: readonly BenchColumn[] = ALL_BENCH_COLUMNS,
): { head: string[]; cells: (string | number)[][] } {
  return { head: columns.map((c) => COLUMNS[c][0]), cells: rows.map((r) => columns.map((c) => COLUMNS[c][1](r))) };
}

/** The columns `c` where `on`, else none. */
const only = <C extends BenchColumn>(on: boolean, ...c: C[]): C[] => (on ? c : []);

/**
 * The columns of a summary table of `rows`: the run report's, or the terminal's (`fer bench`), which adds peak
 * RSS, all parameters, and the per-round figures where the bench ran in rounds.
 */
export function summaryColumns(rows: BenchRow[], where: 'terminal' | 'report'): BenchColumn[] {
  const wide = where === 'terminal';
  return [
    ...(['variant', 'provider', 'batch', 'p50', 'p99', 'throughput', 'cpu', 'mem'] as const),
    ...only(wide, 'rss'),
    'size',
    ...only(wide, 'params'),
    ...(['nonzero', 'macs', 'accuracy'] as const),
    ...only(wide && rows.some((r) => r.rounds && r.rounds.n > 1), 'roundsP50'),
    ...only(wide && rows.some((r) => r.rounds?.vsFirst), 'latencyRatio', 'throughputRatio'),
  ];
}

export function markdownTable(rows: BenchRow[]): string {
  const { head, cells } = benchCells(rows);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...cells.map((l) => `| ${l.join(' | ')} |`)].join('\n');
}

/** What `fer bench` prints: the terminal's summary table, a note on interleaved rounds, and where bench.json went (`out`). */
export function benchText(result: BenchResult, out?: string): string {
  const { rows, interleave } = result;
  const { head, cells } = benchCells(rows, summaryColumns(rows, 'terminal'));
  const lines = [textTable(head, cells)];
  if (interleave && interleave.rounds > 1 && rows.some((r) => r.rounds?.vsFirst))
    lines.push(
      `\n${interleave.rounds} interleaved rounds (${interleave.order} order); ratios are to the first model, taken per round: median (interquartile range)`,
    );
  if (out) lines.push(`\nwrote ${path.join(out, 'bench.json')}, ${path.join(out, 'bench.png')}`);
  return lines.join('\n');
}
