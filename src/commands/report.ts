/** `fer report RUN_DIR`: a self-contained HTML page of a run. */
import { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { checkOutputFile, protectInput, writeOutput } from '../io/output.js';
import path from 'node:path';
import { z } from 'zod';
import { renderReport, reportSections } from '../report/report.js';
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
      const o = reportSchema.parse({ ...flags, runDir, json: !!flags.json });
      const file = o.out ?? path.join(o.runDir, 'report.html');
      // Never a file fer did not write; and the run's files are the report's inputs, never replaced by it.
      checkOutputFile(file, '--out');
      for (const f of existsSync(o.runDir) ? readdirSync(o.runDir) : []) {
        if (path.resolve(o.runDir, f) !== path.resolve(file) || o.out) protectInput(path.join(o.runDir, f));
      }
      const sections = reportSections(o.runDir);
      writeOutput(file, renderReport(o.runDir, sections));
      const present = sections.filter((s) => s.html).map((s) => s.id);
      if (!printJson(o.json, { file, sections: present, missing: sections.filter((s) => !s.html).map((s) => s.id) })) {
        out(`wrote ${file} (${present.join(', ')})`);
        for (const s of sections.filter((x) => !x.html)) out(`  left out ${s.id}: ${s.note}`);
      }
    });
}
