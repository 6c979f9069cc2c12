/**
 * Typed errors with exit codes. Stages throw these; only src/commands turns them into output and an
 * exit status (see commands/handle-error.ts).
 *   2: usage and bad input (flags, paths, images, datasets)
 *   3: model errors (unsupported layer, bad checkpoint)
 *   4: runtime failures (a backend or provider that fails while running)
 *   1: anything unexpected
 */
export class FerError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  /**
   * The library option the message names by its key (`prior`, `out`), where the CLI names its flag: the CLI
   * writes it as `--prior`, `--out` (commands/handle-error.ts), so one message serves a library user and a command line.
   */
  readonly option?: string;
  constructor(message: string, options: ErrorOptions & { exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
    this.option = options.option;
  }
}

/** What a FerError may carry beside its message (see FerError). */
export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  option?: string;
}

/** `what` as FerError's `option` when it is a library key (`out`, `classMap`), not a flag (`--out`) or a word (`output`). */
export const optionOf = (what: string): string | undefined => (/^[a-z][A-Za-z]*$/.test(what) && what !== 'output' ? what : undefined);

/** Bad flags, missing files, unreadable inputs, bad datasets: exit code 2. */
export class UsageError extends FerError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** A model that cannot be loaded, converted or run as asked: exit code 3. */
export class ModelError extends FerError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, exitCode: 3 });
  }
}

/** A failure while running (backend, provider, I/O mid-run): exit code 4. */
export class RuntimeFailure extends FerError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { ...options, exitCode: 4 });
  }
}

/** Stopped by the user (Ctrl-C) in a stage that keeps nothing of its work: exit code 130, as an interrupted run. */
export class Interrupted extends FerError {
  constructor(what: string) {
    super(`interrupted during ${what}; nothing of it was kept`, { exitCode: 130 });
  }
}

/** Node's file-system error codes as the words fer's one-line messages use (commands/handle-error.ts, --annotate). */
export const ERRNO: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'already exists',
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EMFILE: 'too many open files',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symlinks',
};
