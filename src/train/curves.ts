/** curves.png: loss and accuracy for train and val per epoch (the paper's Fig. 12), plus the LR. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { linePanel, svgDoc } from '../plot/svg.js';
import { svgToPng } from '../io/image.js';
import { parseOrNull } from '../io/files.js';
import type { EpochMetrics } from './types.js';

export function readMetrics(runDir: string): EpochMetrics[] {
  const f = path.join(runDir, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  // A torn last line (a killed run) is skipped, not fatal.
  return readFileSync(f, 'utf8')
    .split('\n')
    .map((l) => parseOrNull(l) as EpochMetrics | null)
    .filter((m): m is EpochMetrics => m !== null);
}

export function curvesSvg(m: EpochMetrics[]): string {
  const pts = (f: (e: EpochMetrics) => number | null) => m.filter((e) => f(e) != null).map((e) => [e.epoch, f(e)!] as [number, number]);
  const w = 1200,
    h = 380;
  return svgDoc(
    w,
    h,
    [
      linePanel(
        0,
        0,
        400,
        h,
        'Loss',
        [
          { name: 'train', color: '#1f77b4', points: pts((e) => e.loss) },
          { name: 'val', color: '#ff7f0e', points: pts((e) => e.valLoss) },
        ],
        { xLabel: 'epoch' },
      ),
      linePanel(
        400,
        0,
        400,
        h,
        'Accuracy (%)',
        [
          { name: 'train', color: '#1f77b4', points: pts((e) => e.acc * 100) },
          { name: 'val', color: '#ff7f0e', points: pts((e) => (e.valAcc == null ? null : e.valAcc * 100)) },
        ],
        { xLabel: 'epoch' },
      ),
      linePanel(800, 0, 400, h, 'Learning rate', [{ name: 'lr', color: '#2ca02c', points: pts((e) => e.lr) }], {
        xLabel: 'epoch',
        yMin: 0,
      }),
    ].join(''),
  );
}

export async function writeCurves(runDir: string): Promise<string | null> {
  const m = readMetrics(runDir);
  if (m.length === 0) return null;
  const file = path.join(runDir, 'curves.png');
  await svgToPng(curvesSvg(m), file);
  return file;
}
