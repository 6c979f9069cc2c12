/** Options every command shares, and the small helpers commands use to print. */
import { Command, Option } from 'commander';
import type { z } from 'zod';
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

/**
 * Shows each option's default in --help as the command's zod schema defines it, so that the schema stays
 * the one place a default is written. Flags (booleans) and options the schema has no default for are left.
 */
export function showSchemaDefaults(cmd: Command, schema: z.ZodObject): Command {
  for (const opt of cmd.options) {
    const def = (schema.shape[opt.attributeName()] as { _zod?: { def: { type: string; defaultValue?: unknown } } } | undefined)?._zod?.def;
    // An option whose help already explains its default (e.g. "the shipped model") keeps that wording.
    if (opt.defaultValue === undefined && !opt.negate && def?.type === 'default' && typeof def.defaultValue !== 'boolean'
      && !/\bdefault\b/.test(opt.description)) {
      opt.default(def.defaultValue);
    }
  }
  return cmd;
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
