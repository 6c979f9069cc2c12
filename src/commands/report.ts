/** `fer report RUN_DIR`: a self-contained HTML page of a run. */
import { Command } from 'commander';
import { z } from 'zod';
import { writeReport } from '../report/report.js';
import { out } from './common.js';
import { printJson } from './printers.js';

export const reportSchema = z.object({ runDir: z.string(), out: z.string().optional(), json: z.boolean().default(false) });

export function reportCommand(): Command {
  return new Command('report')
    .description('write one self-contained HTML page for a run: curves, confusion matrix, pruning, quantization, benchmark, sample faces')
    .argument('<run-dir>', 'a run directory (fer train --out, with eval.json/bench.json when present)')
    .option('--out <file>', 'output file (default: RUN_DIR/report.html)')
    .option('--json', 'print which sections were written')
    .action(async (runDir: string, flags) => {
      const o = reportSchema.parse({ ...flags, runDir });
      const r = writeReport(o.runDir, o);
      if (!printJson(o.json, { file: r.file, sections: r.sections, missing: r.missing.map((m) => m.id) })) {
        out(`wrote ${r.file} (${r.sections.join(', ')})`);
        for (const m of r.missing) out(`  left out ${m.id}: ${m.note}`);
      }
    });
}
