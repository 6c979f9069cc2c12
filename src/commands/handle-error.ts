/** The one place that turns errors into a one-line message and an exit code (stacks with --debug). */
import { CommanderError } from 'commander';
import { ZodError } from 'zod';
import { FerError } from '../errors.js';

export function describeError(e: unknown): { message: string; exitCode: number; hint?: string } {
  if (e instanceof FerError) return { message: e.message, exitCode: e.exitCode, hint: e.hint };
  if (e instanceof ZodError) {
    const i = e.issues[0];
    const flag = i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` : 'options';
    return { message: `invalid ${flag}: ${i.message}`, exitCode: 2 };
  }
  if (e instanceof CommanderError) return { message: e.message.replace(/^error: /, ''), exitCode: e.exitCode === 0 ? 0 : 2 };
  return { message: `unexpected error: ${(e as Error)?.message ?? String(e)}`, exitCode: 1 };
}

export function reportError(e: unknown, debug = false): number {
  const { message, exitCode, hint } = describeError(e);
  if (exitCode === 0) return 0;
  process.stderr.write(`fer: ${message}\n`);
  if (hint) process.stderr.write(`  hint: ${hint}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return exitCode;
}
