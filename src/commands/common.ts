/** Options every command shares, and the small helpers commands use to print. */
import { Command, Option } from 'commander';
import { BACKENDS, useBackend, type BackendChoice, type BackendInfo } from '../engine/backend.js';

export interface GlobalOpts {
  backend: BackendChoice;
  threads?: number;
  json?: boolean;
  debug?: boolean;
}

export function withEngineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS as unknown as string[]).env('FER_BACKEND').default('auto'))
    .option('--threads <n>', 'native threads (default: all cores)', (v) => parseInt(v, 10));
}

export async function startEngine(opts: { backend?: string; threads?: number }, quiet = false): Promise<BackendInfo> {
  const info = await useBackend((opts.backend ?? 'auto') as BackendChoice, opts.threads);
  if (info.note) process.stderr.write(`fer: ${info.note}\n`);
  if (!quiet) process.stderr.write(`fer: backend ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}\n`);
  return info;
}

export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

/** Formats rows as an aligned text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
