/** Chart axis labels tell their ticks apart (curves.png's accuracy axis repeated "61" for 60.5 and 61). */
import { it, expect } from 'vitest';
import { tickLabels } from '../../src/plot/svg.js';
import { curvesSvg } from '../../src/train/curves.js';

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
