/** `fer compress`'s pareto.md (every variant's numbers) and pareto.png (accuracy against latency or size). */
import { writeOutput } from '../io/output.js';
import { svgToPng } from '../io/image.js';
import { scatterPanel, svgDoc } from '../plot/svg.js';
import type { CompressResult } from './compress-types.js';

const markdownTable = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((l) => `| ${l.join(' | ')} |`)].join('\n');

type Row = CompressResult['variants'][number];
const f = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

/** Every variant's row of pareto.md (and of `fer report`'s compression section), the original first. */
export function paretoTable(r: CompressResult): { head: string[]; rows: string[][] } {
  const rows = [r.original, ...r.variants].map((v: Row) => [
    v.name === r.chosen?.name ? `**${v.name}** (chosen)` : v.name,
    v.precision,
    f(v.accuracy * 100),
    f(v.balancedAccuracy * 100),
    f(v.dropPoints ?? 0),
    String(v.bytes),
    String(v.gzipBytes ?? '–'),
    f(v.latencyMs, 3),
    f(v.latencyRatio, 3),
    f(v.throughput, 0),
    f(v.throughputRatio, 3),
    r.pareto.includes(v.name) ? 'yes' : v.slowerThanFp32 ? 'no (int8 slower than fp32)' : 'no',
  ]);
  for (const s of r.skipped) rows.push([s.name, '–', '–', '–', '–', '–', '–', '–', '–', '–', '–', `not run: ${s.reason}`]);
  const head = [
    'variant',
    'precision',
    'acc %',
    'bal. acc %',
    'drop (pts)',
    'ONNX bytes',
    'gzip bytes',
    'p50 b1 ms',
    '× orig',
    'img/s b64',
    '× orig',
    'Pareto',
  ];
  return { head, rows };
}

/** The line saying which variant was chosen and why. */
export const chosenLine = (r: CompressResult) =>
  r.chosen ? `Chosen: **${r.chosen.name}**: ${r.chosen.reason}.` : 'No choice (interrupted).';

export const PARETO_FOOTNOTE =
  'Accuracy from each ONNX export on --val; latency and throughput from one interleaved bench of all the files (ratios to the original, round by round medians).';

export function paretoMarkdown(r: CompressResult): string {
  const { head, rows } = paretoTable(r);
  return [
    `# fer compress --target ${r.target} --max-drop ${r.maxDrop}`,
    '',
    markdownTable(head, rows),
    '',
    chosenLine(r),
    '',
    PARETO_FOOTNOTE,
    '',
  ].join('\n');
}

export function writeParetoMd(file: string, r: CompressResult): void {
  writeOutput(file, paretoMarkdown(r));
}

export function paretoSvg(r: CompressResult): string {
  const size = r.target === 'size';
  const points = [r.original, ...r.variants].map((v) => ({
    x: size ? v.bytes / 1024 : (v.latencyMs ?? NaN),
    y: v.accuracy * 100,
    label: v.name,
    color: v.name === r.chosen?.name ? '#e45756' : r.pareto.includes(v.name) ? '#4c78a8' : '#999999',
  }));
  const panel = scatterPanel(
    0,
    0,
    700,
    440,
    `Accuracy (%) on --val vs ${size ? 'ONNX size' : 'p50 latency, batch 1'} (red: chosen, blue: Pareto front)`,
    points,
    size ? 'KiB (lower is better)' : 'ms (lower is better)',
  );
  return svgDoc(700, 440, panel);
}

export async function writeParetoPng(file: string, r: CompressResult): Promise<void> {
  await svgToPng(paretoSvg(r), file);
}
