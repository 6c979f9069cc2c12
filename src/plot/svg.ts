/**
 * Minimal SVG charts (line charts, heatmaps, bar charts) for curves.png, confusion.png, bench.png and the
 * HTML report. Pure functions returning SVG text; io/image.ts turns them into PNG.
 */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toFixed(10));
  return ticks;
}

const fmt = (v: number) =>
  v === 0 ? '0' : Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 0.01 ? String(+v.toFixed(3)) : v.toExponential(1);

/**
 * Tick labels that tell the ticks apart: the short form where it does, else as many decimals as it takes
 * (an accuracy axis from 60 to 64 in steps of 0.5 would otherwise read 60, 61, 61, 62, …).
 */
export function tickLabels(ticks: number[]): string[] {
  const unique = (ls: string[]) => new Set(ls).size === ls.length;
  const short = ticks.map(fmt);
  if (unique(short)) return short;
  for (let d = 1; d <= 6; d++) {
    const ls = ticks.map((t) => String(+t.toFixed(d)));
    if (unique(ls)) return ls;
  }
  return short;
}

/** A line chart panel as an SVG <g>, placed at (x, y) with size (w, h). */
interface Frame {
  parts: string[];
  px: (v: number) => number;
  py: (v: number) => number;
}

/** A panel's background, title, grid, tick labels and axis label for data in [x0, x1] × [y0, y1]. */
function plotFrame(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  [x0, x1, y0, y1]: [number, number, number, number],
  xLabel?: string,
  right = 15,
): Frame {
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const L = 55,
    R = right,
    T = 30,
    B = 40;
  const px = (v: number) => x + L + ((v - x0) / Math.max(1e-9, x1 - x0)) * (w - L - R);
  const py = (v: number) => y + T + (1 - (v - y0) / (y1 - y0)) * (h - T - B);
  const parts: string[] = [`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="white"/>`];
  parts.push(`<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(title)}</text>`);
  const yTicks = niceTicks(y0, y1),
    yLabels = tickLabels(yTicks);
  yTicks.forEach((t, i) => {
    parts.push(`<line x1="${x + L}" x2="${x + w - R}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x + L - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${yLabels[i]}</text>`);
  });
  const xTicks = niceTicks(x0, x1, 6),
    xLabels = tickLabels(xTicks);
  xTicks.forEach((t, i) => {
    parts.push(`<text x="${px(t)}" y="${y + h - B + 16}" text-anchor="middle" font-size="11" ${FONT}>${xLabels[i]}</text>`);
  });
  parts.push(`<rect x="${x + L}" y="${y + T}" width="${w - L - R}" height="${h - T - B}" fill="none" stroke="#888"/>`);
  if (xLabel)
    parts.push(`<text x="${x + L + (w - L - R) / 2}" y="${y + h - 6}" text-anchor="middle" font-size="12" ${FONT}>${esc(xLabel)}</text>`);
  return { parts, px, py };
}

export function linePanel(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  series: Series[],
  opts: { xLabel?: string; yMin?: number; yMax?: number; xMin?: number; xMax?: number; legendOutside?: boolean } = {},
): string {
  const all = series.flatMap((s) => s.points).filter(([, v]) => Number.isFinite(v));
  if (all.length === 0) return '';
  const x0 = opts.xMin ?? Math.min(...all.map((p) => p[0])),
    x1 = opts.xMax ?? Math.max(...all.map((p) => p[0]));
  const y0 = opts.yMin ?? Math.min(...all.map((p) => p[1])),
    y1 = opts.yMax ?? Math.max(...all.map((p) => p[1]));
  // legendOutside: the legend gets its own column right of the plot, so no line runs under it
  const legendW = opts.legendOutside ? 115 : 0;
  const { parts, px, py } = plotFrame(x, y, w, h, title, [x0, x1, y0, y1], opts.xLabel, 15 + legendW);
  const R = legendW ? -10 : 15, // the legend's line starts 110 px left of x + w - R
    T = 30;
  series.forEach((s, i) => {
    const pts = s.points.filter(([, v]) => Number.isFinite(v));
    if (pts.length === 0) return;
    const d = pts.map(([a, b], k) => `${k ? 'L' : 'M'}${px(a).toFixed(1)},${py(b).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    if (pts.length === 1) parts.push(`<circle cx="${px(pts[0][0])}" cy="${py(pts[0][1])}" r="3" fill="${s.color}"/>`);
    const ly = y + T + 8 + i * 16;
    parts.push(
      `<line x1="${x + w - R - 110}" x2="${x + w - R - 90}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
    );
    parts.push(`<text x="${x + w - R - 85}" y="${ly + 4}" font-size="11" ${FONT}>${esc(s.name)}</text>`);
  });
  return `<g>${parts.join('')}</g>`;
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  color: string;
}

/** Labelled points on a frame whose ranges are padded by 8% (a point never sits on the border). */
export function scatterPanel(x: number, y: number, w: number, h: number, title: string, points: ScatterPoint[], xLabel?: string): string {
  const pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) return '';
  const pad = (a: number, b: number): [number, number] => [a - (b - a || 1) * 0.08, b + (b - a || 1) * 0.08];
  const [x0, x1] = pad(Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x)));
  const [y0, y1] = pad(Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y)));
  const { parts, px, py } = plotFrame(x, y, w, h, title, [x0, x1, y0, y1], xLabel);
  for (const p of pts) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${p.color}"/>`);
  for (const l of placeLabels(pts, px, py, x + w - 15)) {
    if (l.moved) parts.push(`<line x1="${l.ax}" y1="${l.ay}" x2="${l.x}" y2="${(l.y - 3).toFixed(1)}" stroke="#999" stroke-width="0.5"/>`);
    parts.push(`<text x="${l.x}" y="${l.y.toFixed(1)}"${l.end ? ' text-anchor="end"' : ''} font-size="10" ${FONT}>${esc(l.label)}</text>`);
  }
  return `<g>${parts.join('')}</g>`;
}

/** Width of one character of a 10 px label, on average. */
const SCATTER_CHAR_PX = 5.6;

/**
 * Where each point's label goes: above-right of the point (above-left where it would cross `right`), moved down
 * in 11 px steps past labels already placed when they would overlap (greedy, top to bottom), with a leader line.
 */
export function placeLabels(pts: ScatterPoint[], px: (v: number) => number, py: (v: number) => number, right: number) {
  const placed: { x0: number; x1: number; y0: number; y1: number }[] = [];
  const order = pts.map((_, i) => i).sort((a, b) => py(pts[a].y) - py(pts[b].y));
  const out: { label: string; x: string; y: number; end: boolean; moved: boolean; ax: string; ay: string }[] = [];
  for (const i of order) {
    const p = pts[i];
    const width = p.label.length * SCATTER_CHAR_PX;
    const end = px(p.x) + 6 + width > right;
    const tx = px(p.x) + (end ? -6 : 6);
    const x0 = end ? tx - width : tx,
      x1 = end ? tx : tx + width;
    let ty = py(p.y) - 6;
    const hits = (t: number) => placed.some((b) => x0 < b.x1 && b.x0 < x1 && t - 10 < b.y1 && b.y0 < t);
    for (let k = 0; k < 12 && hits(ty); k++) ty += 11;
    placed.push({ x0, x1, y0: ty - 10, y1: ty });
    const moved = ty !== py(p.y) - 6;
    out.push({ label: p.label, x: tx.toFixed(1), y: ty, end, moved, ax: px(p.x).toFixed(1), ay: py(p.y).toFixed(1) });
  }
  return out;
}

export function svgDoc(w: number, h: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="100%" height="100%" fill="white"/>${body}</svg>`;
}

/** Row-normalized confusion matrix heatmap with percentages. */
export function heatmap(matrix: number[][], labels: readonly string[], title: string, size = 560): string {
  const n = labels.length,
    L = 90,
    T = 40,
    cell = (size - L - 20) / n;
  const parts = [`<text x="${size / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${esc(title)}</text>`];
  matrix.forEach((row, i) => {
    row.forEach((v, j) => {
      const shade = Math.round(255 - v * 200);
      const fill = `rgb(${shade},${Math.round(255 - v * 120)},255)`;
      parts.push(`<rect x="${L + j * cell}" y="${T + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="white"/>`);
      parts.push(
        `<text x="${L + (j + 0.5) * cell}" y="${T + (i + 0.5) * cell + 4}" text-anchor="middle" font-size="12" fill="${v > 0.55 ? 'white' : 'black'}" ${FONT}>${(v * 100).toFixed(0)}</text>`,
      );
    });
    parts.push(`<text x="${L - 6}" y="${T + (i + 0.5) * cell + 4}" text-anchor="end" font-size="12" ${FONT}>${esc(labels[i])}</text>`);
  });
  labels.forEach((l, j) =>
    parts.push(`<text x="${L + (j + 0.5) * cell}" y="${T + n * cell + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(l)}</text>`),
  );
  parts.push(
    `<text x="${L + (n * cell) / 2}" y="${T + n * cell + 34}" text-anchor="middle" font-size="12" ${FONT}>predicted (rows: true class, % of row)</text>`,
  );
  return svgDoc(size, T + n * cell + 44, parts.join(''));
}

/** Width of one character of an 11 px label, on average (DejaVu Sans). */
export const LABEL_CHAR_PX = 6.2;

/** Horizontal bar chart: one bar per label. */
export function barPanel(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  bars: { label: string; value: number; color?: string }[],
  unit = '',
): string {
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  // Room for the longest label (~6.2 px a character at 11 px), up to half the panel.
  const L = Math.min(w / 2, Math.max(150, 12 + LABEL_CHAR_PX * Math.max(0, ...bars.map((b) => b.label.length)))),
    T = 30,
    bh = (h - T - 10) / Math.max(1, bars.length);
  const parts = [
    `<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const bw = ((w - L - 80) * b.value) / max;
    const by = y + T + i * bh;
    parts.push(`<text x="${x + L - 6}" y="${by + bh / 2 + 4}" text-anchor="end" font-size="11" ${FONT}>${esc(b.label)}</text>`);
    parts.push(`<rect x="${x + L}" y="${by + 2}" width="${Math.max(1, bw)}" height="${bh - 4}" fill="${b.color ?? '#4c78a8'}"/>`);
    parts.push(`<text x="${x + L + bw + 4}" y="${by + bh / 2 + 4}" font-size="11" ${FONT}>${fmt(b.value)}${esc(unit)}</text>`);
  });
  return `<g>${parts.join('')}</g>`;
}
