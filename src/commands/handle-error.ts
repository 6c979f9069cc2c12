/** The one place that turns errors into a one-line message and an exit code (stacks with --debug). */
import { CommanderError } from 'commander';
import { ZodError } from 'zod';
import { ERRNO, FerError } from '../errors.js';
import { oneLine } from '../util/text-table.js';
import { dropNote, releaseNote } from './held-note.js';
import { flagOf } from '../util/options.js';

export function describeError(e: unknown): { message: string; exitCode: number; hint?: string } {
  if (e instanceof FerError) return { message: asFlag(e.message, e.option), exitCode: e.exitCode, hint: e.hint };
  if (e instanceof ZodError) {
    const i = e.issues[0];
    const flag = i.path.length ? flagOf(String(i.path[0])) : 'options';
    // a flag that is not a number reaches the schema as NaN (its parser's Number()): say that, not zod's wording
    const message = /expected number, received NaN/.test(i.message) ? 'not a number' : i.message;
    return { message: `invalid ${flag}: ${message}`, exitCode: 2 };
  }
  if (e instanceof CommanderError) {
    // `fer`, `fer export` without their subcommand: commander has printed the help on stderr, which is the message
    if (e.code === 'commander.help' || e.code === 'commander.helpDisplayed') return { message: '', exitCode: e.exitCode === 0 ? 0 : 2 };
    // commander's suggestion comes on a line of its own: "unknown option '--epoch'\n(Did you mean --epochs?)"
    const m = e.message.replace(/^error: /, '').replace(/\s*\n\s*\(Did you mean/, ' (did you mean');
    return { message: `${m} (see --help)`, exitCode: e.exitCode === 0 ? 0 : 2 };
  }
  const io = describeIoError(e);
  if (io) return io;
  return {
    message: `unexpected error: ${(e as Error)?.message ?? String(e)}`,
    exitCode: 1,
    hint: 'run with --debug for the stack trace, and report it',
  };
}

/** A library message naming its option by key (`prior happy=…`, `out x: …`) as the command line spells it (`--prior`). */
export function asFlag(message: string, option: string | undefined): string {
  if (!option) return message;
  return message.replace(new RegExp(`(^|: )${option}(?=[ :])`), `$1${flagOf(option)}`);
}

/** A file-system error (Node's errno exceptions) as one line naming the file: bad input or place, exit 2. */
function describeIoError(e: unknown): { message: string; exitCode: number } | null {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string' || !(err.code in ERRNO)) return null;
  const file = err.path ?? (err as { dest?: string }).dest;
  return { message: `${file ? `${file}: ` : ''}${ERRNO[err.code]} (${err.code}${err.syscall ? ` in ${err.syscall}` : ''})`, exitCode: 2 };
}

export function reportError(e: unknown, debug = false): number {
  const { message, exitCode, hint } = describeError(e);
  if (exitCode === 0) return 0;
  if (!message) return exitCode; // said already (commander's help)
  if (debug) releaseNote();
  else dropNote();
  // One line, whatever the message holds (a file name may contain a newline): control characters escaped.
  process.stderr.write(`fer: ${oneLine(message)}\n`);
  if (hint) process.stderr.write(`  hint: ${hint}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return exitCode;
}
