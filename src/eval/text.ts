/** The text `fer eval` prints of an evaluation: its accuracy and macro-F1, per-class metrics, the confusion matrix. */
import path from 'node:path';
import { textTable } from '../util/text-table.js';
import type { EvaluateResult } from './evaluate-data.js';

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export function evaluationText(r: EvaluateResult): string {
  const lines = [
    `model ${path.relative(process.cwd(), r.model) || r.model}  data ${r.data}  ${r.n} images${r.tta !== 'none' ? `  tta ${r.tta}` : ''}`,
    `accuracy ${pct(r.accuracy)}   balanced accuracy ${pct(r.balancedAccuracy)}   macro-F1 ${pct(r.macroF1)}   calibration error (ECE) ${pct(r.calibration.ece)}`,
    ...(r.prior
      ? [
          `at the prior ${Object.entries(r.prior.classes)
            .map(([c, p]) => `${c} ${(p * 100).toFixed(1)}%`)
            .join(', ')}: expected accuracy ${pct(r.prior.accuracy)}`,
        ]
      : []),
    textTable(
      ['class', 'precision', 'recall', 'f1', 'support'],
      r.perClass.map((c) => [c.name, (c.precision * 100).toFixed(1), (c.recall * 100).toFixed(1), (c.f1 * 100).toFixed(1), c.support]),
    ),
    '\nconfusion (rows: true, % of row)',
    textTable(
      ['', ...r.perClass.map((c) => c.name.slice(0, 5))],
      r.confusionNormalized.map((row, i) => [r.perClass[i].name, ...row.map((v) => (v * 100).toFixed(0))]),
    ),
  ];
  if (r.written.length) lines.push(`\nwrote ${r.written.join(', ')}`);
  return lines.join('\n');
}
