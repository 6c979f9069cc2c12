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
  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad flags, missing files, unreadable inputs, bad datasets: exit code 2. */
export class UsageError extends FerError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** A model that cannot be loaded, converted or run as asked: exit code 3. */
export class ModelError extends FerError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: 3 });
  }
}

/** A failure while running (backend, provider, I/O mid-run): exit code 4. */
export class RuntimeFailure extends FerError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
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
