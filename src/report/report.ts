/**
 * `fer report`: one self-contained HTML page for a run directory: inline CSS and SVG, images as data
 * URIs, no scripts, no network. Sections whose data is missing are left out with a one-line note.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { curvesSvg } from '../train/curves.js';
import { heatmap, esc } from '../plot/svg.js';
import { benchSvg } from '../bench/chart.js';
import { benchResultSchema, type BenchResult } from '../bench/schema.js';
import { benchCells, summaryColumns } from '../bench/table.js';
import { compressJsonSchema, epochMetricsSchema, evalJsonSchema, modelMetaSchema, runJsonSchema } from './schema.js';
import { PARETO_FOOTNOTE, chosenLine, paretoSvg, paretoTable } from '../compress/pareto-report.js';
import type { CompressResult } from '../compress/compress-types.js';
import { compressionRatio } from '../prune/prune.js';
import { UsageError } from '../errors.js';
import { parseOrNull, readJsonFile } from '../io/files.js';
import { checkOutputFile, protectInput, writeOutput } from '../io/output.js';

export interface ReportSection {
  id: string;
  title: string;
  html: string | null;
  note?: string;
}

function readJson<S extends z.ZodTypeAny>(file: string, schema: S): z.infer<S> | null {
  if (!existsSync(file)) return null;
  const r = schema.safeParse(readJsonFile(file)); // corrupt: a one-line error naming the file (exit 3)
  return r.success ? r.data : null;
}

type EvalJson = z.infer<typeof evalJsonSchema>;
type FerMeta = z.infer<typeof modelMetaSchema>;

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const table = (head: string[], rows: (string | number)[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

function averagedNote(from: string[] | undefined): string {
  if (!from?.length) return '';
  const what = from.length > 1 ? `the mean of the weights of ${from.map(esc).join(', ')}` : `${esc(from[0])}'s weights`;
  return `<p>The model is ${what}, with batch-norm statistics re-estimated on training images (<code>fer average</code>).</p>`;
}

export function reportSections(runDir: string): ReportSection[] {
  if (!existsSync(runDir)) throw new UsageError(`report: no such run directory: ${runDir}`);
  const run = readJson(path.join(runDir, 'run.json'), runJsonSchema);
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const metrics = existsSync(metricsFile)
    ? readFileSync(metricsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => epochMetricsSchema.safeParse(parseOrNull(l)))
        .filter((r) => r.success)
        .map((r) => r.data!)
    : [];
  const evalRes = readJson(path.join(runDir, 'eval.json'), evalJsonSchema);
  const bench = readJson(path.join(runDir, 'bench.json'), benchResultSchema);
  const compress = readJson(path.join(runDir, 'compress.json'), compressJsonSchema);
  // The evaluated model's metadata when it is a fer model directory (it may be one made from the run's best,
  // e.g. by fer average), else the run's own.
  const modelJson = [
    ...(evalRes ? [path.join(evalRes.model, 'model.json')] : []),
    ...['best', 'last', '.', 'chosen/model'].map((d) => path.join(runDir, d, 'model.json')),
  ].find(existsSync);
  const meta = modelJson
    ? modelMetaSchema.safeParse((readJsonFile(modelJson) as { userDefinedMetadata?: { fer?: unknown } }).userDefinedMetadata?.fer ?? {})
    : null;
  const fer = meta?.success ? meta.data : null;

  const sections: ReportSection[] = [];
  sections.push({
    id: 'run',
    title: 'Run',
    html: run
      ? `<pre>${esc(run.command)}</pre>${table(
          ['option', 'value'],
          Object.entries(run.options).map(([k, v]) => [k, JSON.stringify(v)]),
        )}`
      : null,
    note: 'no run.json (not a fer train run directory)',
  });
  const best = metrics.reduce<(typeof metrics)[number] | null>(
    (b, m) => (m.valAcc != null && (!b || m.valAcc > (b.valAcc ?? -1)) ? m : b),
    null,
  );
  sections.push({
    id: 'curves',
    title: 'Training curves',
    html: metrics.length
      ? `${curvesSvg(metrics)}<p>${metrics.length} epochs${best ? `; best val accuracy ${pct(best.valAcc!)} at epoch ${best.epoch}` : ''}; ${Math.round(metrics.reduce((a, m) => a + m.seconds, 0) / 60)} min of training.</p>`
      : null,
    note: 'no metrics.jsonl',
  });
  sections.push(confusionSection(evalRes, fer));
  const layers = fer?.pruning ? Object.entries(fer.pruning.perLayer) : [];
  sections.push({
    id: 'pruning',
    title: 'Pruning',
    html: fer?.pruning
      ? `<p>${esc(fer.pruning.pattern)} pruning, overall sparsity <b>${pct(fer.pruning.sparsity)}</b>, eq. (1) compression ratio R = ${compressionRatio([{ total: 1, nonzero: 1 - fer.pruning.sparsity }]).toFixed(2)}.</p>` +
        table(
          ['layer', 'sparsity'],
          layers.map(([k, v]) => [k, pct(v)]),
        )
      : null,
    note: 'the model is not pruned',
  });
  sections.push({
    id: 'quantization',
    title: 'Quantization',
    html: fer?.quantization
      ? `<p>${fer.quantization.bits === 16 ? 'fp16' : `${fer.quantization.bits}-bit symmetric`} weights, ${esc(fer.quantization.granularity)}; ` +
        `${Object.keys(fer.quantization.activations ?? {}).length} activation ranges calibrated.</p>`
      : null,
    note: 'the model is not quantized',
  });
  sections.push(benchSection(bench));
  // A compress folder's only (never a missing note). The fields the section reads are those compressJsonSchema checks.
  if (compress) sections.push(compressSection(compress as unknown as CompressResult));
  sections.push(samplesSection(evalRes));
  return sections;
}

/** eval.json's accuracy, confusion heatmap and per-class table. */
function confusionSection(evalRes: EvalJson | null, fer: FerMeta | null): ReportSection {
  return {
    id: 'confusion',
    title: 'Confusion matrix and per-class results',
    html: evalRes
      ? `<p>${esc(evalRes.model)} on ${esc(evalRes.data)}: accuracy <b>${pct(evalRes.accuracy)}</b>, macro-F1 ${pct(evalRes.macroF1)} (${evalRes.n} images${evalRes.tta !== 'none' ? `, TTA ${evalRes.tta}` : ''}).</p>` +
        averagedNote(fer?.averagedFrom) +
        `<div class="row">${heatmap(
          evalRes.confusionNormalized,
          evalRes.perClass.map((c) => c.name),
          'Row-normalized confusion (%)',
          480,
        )}` +
        table(
          ['class', 'precision', 'recall', 'F1', 'support'],
          evalRes.perClass.map((c) => [c.name, pct(c.precision), pct(c.recall), pct(c.f1), c.support]),
        ) +
        '</div>'
      : null,
    note: 'no eval.json (run `fer eval --model RUN/best --data VAL --out RUN`)',
  };
}

/** bench.json's chart and table. */
function benchSection(bench: BenchResult | null): ReportSection {
  const note = 'no bench.json (run `fer bench --out RUN`)';
  if (!bench) return { id: 'bench', title: 'Benchmark', html: null, note };
  const t = benchCells(bench.rows, summaryColumns(bench.rows, 'report'));
  const models = [...new Set(bench.rows.map((r) => r.model))].map((m) => esc(m)).join(', ');
  const html =
    benchSvg(bench) +
    table(t.head, t.cells) +
    `<p class="muted">Models measured: ${models}. ${esc(bench.machine.cpu)}, ${bench.machine.cores} cores, onnxruntime ${esc(bench.machine.ort)}</p>` +
    bench.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join('');
  return { id: 'bench', title: 'Benchmark', html, note };
}

/** Markdown's **bold** (pareto.md's chosen variant) in already escaped HTML, as <b>. */
const boldMarkdown = (html: string) => html.replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');

/** compress.json's Pareto plot and table of every variant (the fields it reads are checked by compressJsonSchema). */
function compressSection(r: CompressResult): ReportSection {
  const { head, rows } = paretoTable(r);
  const html =
    `<p>fer compress --target ${esc(r.target)} --max-drop ${r.maxDrop}: ${r.variants.length} variant(s) beside the original.</p>` +
    paretoSvg(r) +
    boldMarkdown(table(head, rows)) +
    `<p>${boldMarkdown(esc(chosenLine(r)))}</p><p class="muted">${esc(PARETO_FOOTNOTE)}</p>`;
  return { id: 'compress', title: 'Compression', html };
}

/** eval.json's sample faces, misclassified first, embedded. */
function samplesSection(evalRes: EvalJson | null): ReportSection {
  const samples = (evalRes?.samples ?? []).filter((s) => existsSync(s.file));
  return {
    id: 'samples',
    title: 'Sample validation faces (misclassified first)',
    html: samples.length
      ? `<div class="grid">${samples
          .map((s) => {
            const ext = path.extname(s.file).slice(1).toLowerCase();
            const mime = ext === 'png' ? 'image/png' : 'image/jpeg';
            const ok = s.label === s.predicted;
            return (
              `<figure class="${ok ? 'ok' : 'bad'}"><img alt="${esc(s.label)}" src="data:${mime};base64,${readFileSync(s.file).toString('base64')}"/>` +
              `<figcaption>${esc(s.predicted)}${ok ? '' : `<br/>true: ${esc(s.label)}`}</figcaption></figure>`
            );
          })
          .join('')}</div>`
      : null,
    note: 'no samples (eval.json without samples, or their images are gone)',
  };
}

const CSS = `body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2rem auto;max-width:1240px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:.6rem;white-space:pre-wrap}
svg{max-width:100%;height:auto}.row{display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));gap:.5rem}
figure{margin:0;text-align:center;font-size:.75rem}figure img{width:96px;height:96px;image-rendering:pixelated;border:3px solid #4caf50}
figure.bad img{border-color:#e53935}.muted,.note{color:#777}`;

export function renderReport(runDir: string, sections = reportSections(runDir)): string {
  const body = sections
    .map((s) =>
      s.html
        ? `<section id="${s.id}"><h2>${esc(s.title)}</h2>${s.html}</section>`
        : `<p class="note" id="${s.id}-missing">${esc(s.title)}: ${esc(s.note ?? 'no data')}.</p>`,
    )
    .join('\n');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>fer report: ${esc(path.basename(path.resolve(runDir)))}</title><style>${CSS}</style></head><body>` +
    `<h1>fer report: ${esc(path.basename(path.resolve(runDir)))}</h1>${body}` +
    `<p class="muted">Generated by fer on ${new Date().toISOString()}.</p></body></html>`
  );
}

export interface ReportResult {
  file: string;
  /** The sections written, and those left out for want of their file. */
  sections: string[];
  missing: { id: string; note?: string }[];
}

/**
 * `fer report` as a function: the run's page written to `out` (default RUN_DIR/report.html). Never over a file
 * fer did not write, and never over one of the run's own files, which are the report's inputs.
 */
export function writeReport(runDir: string, o: { out?: string } = {}): ReportResult {
  const file = o.out ?? path.join(runDir, 'report.html');
  checkOutputFile(file, 'out');
  for (const f of existsSync(runDir) ? readdirSync(runDir) : []) {
    if (path.resolve(runDir, f) !== path.resolve(file) || o.out) protectInput(path.join(runDir, f));
  }
  const sections = reportSections(runDir);
  if (!sections.some((s) => s.html))
    throw new UsageError(
      `report: nothing to report in ${runDir} (no run.json, metrics.jsonl, eval.json, bench.json, compress.json or fer model)`,
      {
        hint: 'give a folder fer train, prune, quantize, eval or compress --out wrote',
      },
    );
  writeOutput(file, renderReport(runDir, sections));
  return {
    file,
    sections: sections.filter((s) => s.html).map((s) => s.id),
    missing: sections.filter((s) => !s.html).map((s) => ({ id: s.id, note: s.note })),
  };
}
