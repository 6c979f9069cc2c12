/** Chart axis labels tell their ticks apart (curves.png's accuracy axis repeated "61" for 60.5 and 61). */
import { it, expect } from 'vitest';
import { barPanel, LABEL_CHAR_PX, placeLabels, tickLabels } from '../../src/plot/svg.js';
import { curvesSvg } from '../../src/train/curves.js';
import { benchSvg } from '../../src/bench/chart.js';

it('labels every tick distinctly, in the short form where that suffices', () => {
  expect(tickLabels([60, 60.5, 61, 61.5, 62])).toEqual(['60', '60.5', '61', '61.5', '62']);
  expect(tickLabels([0, 0.25, 0.5])).toEqual(['0', '0.25', '0.5']);
  expect(tickLabels([10, 20, 30])).toEqual(['10', '20', '30']);
});

it('the accuracy panel of a run between 61% and 62.2% repeats no label', () => {
  const m = [1, 2, 3, 4].map((e) => ({
    epoch: e,
    loss: 1,
    acc: 0.61 + e * 0.003,
    valLoss: 1,
    valAcc: 0.61 + e * 0.002,
    lr: 1e-3,
    seconds: 1,
    imagesPerSecond: 1,
  }));
  const svg = curvesSvg(m);
  const panel = svg.slice(svg.indexOf('Accuracy (%)'), svg.indexOf('Learning rate'));
  const yLabels = [...panel.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((x) => x[1]);
  expect(yLabels.length).toBeGreaterThan(2);
  expect(new Set(yLabels).size).toBe(yLabels.length);
});

const row = (model: string, batch: number, p50: number, throughput: number, accuracy: number | null) => ({
  model,
  variant: model,
  engine: 'onnxruntime' as const,
  provider: 'cpu',
  batch,
  threads: 0,
  iterations: 10,
  latencyMs: { p50, p90: p50, p99: p50, mean: p50 },
  throughput,
  cpuPercent: 100,
  memPercent: 1,
  peakRssMb: 100,
  fileBytes: 1000,
  parameters: 10,
  nonzeroParameters: 10,
  accuracy,
});
const circles = (p: string) => [...p.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);

it("bench.png's Pareto panels place each model's point by its accuracy and cost, and only when accuracy was measured", () => {
  const machine = { cpu: 'x', cores: 2, memoryGb: 1, platform: 'linux', node: 'v20', ort: '1' };
  const rows = [
    row('fast', 1, 0.1, 10000, 0.6),
    row('fast', 64, 3, 21000, 0.6),
    row('good', 1, 0.2, 5000, 0.66),
    row('good', 64, 10, 6400, 0.66),
  ];
  const svg = benchSvg({ machine, date: '', rows, notes: [] });
  const panel = (title: string) => svg.slice(svg.indexOf(title), svg.indexOf('</g>', svg.indexOf(title)));
  const lat = circles(panel('vs p50 latency, batch 1'));
  const thr = circles(panel('vs throughput, batch 64'));
  expect(lat).toHaveLength(2);
  expect(thr).toHaveLength(2);
  // "good": more accurate (higher on the page, smaller y) and slower (right in latency, left in throughput).
  expect(lat[1][1]).toBeLessThan(lat[0][1]);
  expect(lat[1][0]).toBeGreaterThan(lat[0][0]);
  expect(thr[1][0]).toBeLessThan(thr[0][0]);
  const without = benchSvg({ machine, date: '', rows: rows.map((r) => ({ ...r, accuracy: null })), notes: [] });
  expect(without).not.toContain('Accuracy (%) vs');
});

it("bar panels leave room for long labels (two shipped models' variant names) inside the panel", () => {
  const label = 'fer-mini-xception-slim.int8-tensorrt ×64';
  const svg = barPanel(550, 0, 550, 200, 't', [
    { label, value: 1 },
    { label: 'x', value: 2 },
  ]);
  const end = Number(/<text x="([\d.]+)"[^>]*text-anchor="end"/.exec(svg)![1]);
  expect(end - label.length * LABEL_CHAR_PX).toBeGreaterThanOrEqual(550);
  expect(Number(/<rect x="([\d.]+)"/.exec(svg)![1])).toBeGreaterThan(end);
});

it('scatter labels of points that sit together do not overlap (bench.png with many variants at one accuracy)', () => {
  const pts = ['fp32', 'fp16', 'int8', 'int8-tensorrt'].map((v, i) => ({
    x: 1 + i * 0.01,
    y: 65.3,
    label: `fer-mini-xception.${v}`,
    color: '#000',
  }));
  const ls = placeLabels(
    pts,
    (v) => v * 100,
    (v) => 400 - v * 5,
    1000,
  );
  const ys = ls.map((l) => l.y).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) expect(ys[i] - ys[i - 1]).toBeGreaterThanOrEqual(10);
  expect(ls.filter((l) => l.moved)).toHaveLength(3);
  // A lone point keeps its label right above it.
  const [lone] = placeLabels(
    [{ x: 1, y: 2, label: 'a', color: '#000' }],
    (v) => v,
    (v) => v,
    100,
  );
  expect(lone).toMatchObject({ y: -4, moved: false, end: false });
});
