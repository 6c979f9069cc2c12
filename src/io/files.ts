/**
 * Writing files without losing anyone's data: atomic writes (a temporary name in the same directory, then
 * a rename), directory replacement that an interrupted process can always recover from, and the checks that
 * keep fer from replacing anything it did not create.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ModelError, UsageError, optionOf } from '../errors.js';
import { MANIFEST, isFerFile, isFerOnnx, isFerRunDir, isFerWebDir, removeFerOutputs, writeOutput } from './output.js';

/**
 * Writes a file atomically: readers see the old content or the new, never a part. It is io/output.ts's
 * writeOutput: never through a symlink, never onto an input or a file fer did not write.
 */
export const writeFileAtomic = (file: string, data: string | Uint8Array): void => writeOutput(file, data);

/** A directory fer may swap: absent, or a real directory (never a symlink, which a swap would replace). */
function checkSwappable(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) throw new UsageError(`${dir} is a symbolic link; fer does not write through links`);
  if (!st.isDirectory()) throw new UsageError(`${dir} exists and is not a folder fer wrote; refusing to replace it`);
}

const lstatOrNull = (f: string) => {
  try {
    return lstatSync(f);
  } catch {
    return null;
  }
};

/** Whether a process with this pid runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const leftover = (dir: string) => new RegExp(`^${path.basename(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)$`);

/** `${dir}.tmp-PID` and `${dir}.old-PID` siblings left by interrupted replaceDir calls. */
function leftovers(dir: string): { file: string; kind: 'tmp' | 'old'; pid: number }[] {
  const parent = path.dirname(dir);
  if (!existsSync(parent)) return [];
  const re = leftover(dir);
  return readdirSync(parent).flatMap((f) => {
    const m = re.exec(f);
    return m ? [{ file: path.join(parent, f), kind: m[1] as 'tmp' | 'old', pid: Number(m[2]) }] : [];
  });
}

/** Whether an interrupted replaceDir left halves of `dir` beside it (recoverDir's work). */
export const hasLeftovers = (dir: string): boolean => leftovers(dir).length > 0;

/**
 * Puts the fully written directory `tmp` in the place of `dir`: dir → dir.old-PID, tmp → dir, old removed.
 * A kill between the two renames leaves no `dir`; recoverDir puts the right one back.
 */
export function replaceDir(tmp: string, dir: string): void {
  const old = `${dir}.old-${process.pid}`;
  checkSwappable(dir);
  faultPoint(`replace:${path.basename(dir)}:before`);
  if (existsSync(dir)) renameSync(dir, old);
  faultPoint(`replace:${path.basename(dir)}:between`);
  renameSync(tmp, dir);
  faultPoint(`replace:${path.basename(dir)}:after`);
  rmSync(old, { recursive: true, force: true });
}

/**
 * After an interrupted replaceDir: when `dir` is missing, a complete new version (its `lastFile` written,
 * which a writer writes last) takes its place, else the old one goes back. Leftovers of processes no longer
 * running are removed. Returns what it did, for a note.
 */
export function recoverDir(dir: string, lastFile: string): string | undefined {
  let note: string | undefined;
  const found = leftovers(dir).filter((l) => !processAlive(l.pid) || l.pid === process.pid);
  if (!existsSync(dir)) {
    const complete = found.find((l) => l.kind === 'tmp' && existsSync(path.join(l.file, lastFile)));
    const old = found.find((l) => l.kind === 'old');
    const use = complete ?? old;
    if (use) {
      renameSync(use.file, dir);
      note = `recovered ${dir} from ${path.basename(use.file)} (a write was interrupted)`;
    }
  }
  for (const l of found) if (existsSync(l.file)) rmSync(l.file, { recursive: true, force: true });
  return note;
}

/** A directory written by fer's saveModel (model.json with generatedBy "fer"). */
export function isFerModelDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { generatedBy?: string }).generatedBy === 'fer';
  } catch {
    return false;
  }
}

/** A run directory of fer train / prune / quantize: its run.json in fer's own format (io/output.ts). */
export { isFerRunDir, isFerWebDir };

/** A fer model folder and nothing else in it: model.json (generatedBy "fer") and the weight files it names. */
export function modelDirExtras(dir: string): string[] {
  try {
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
    const own = new Set(['model.json', MANIFEST, ...(json.weightsManifest ?? []).flatMap((g) => g?.paths ?? [])]);
    // what fer wrote beside a model (fer report's page, fer eval --out's files: its manifest lists them) is its own too
    return readdirSync(dir).filter((f) => !own.has(f) && !isFerFile(path.join(dir, f)));
  } catch {
    return [];
  }
}

/** The nearest existing directory at or above `p`. */
function existingAncestor(p: string): string {
  let dir = path.resolve(p);
  while (!existsSync(dir)) dir = path.dirname(dir);
  return dir;
}

/**
 * Checks an output path before the long work starts: it must be creatable (its nearest existing ancestor
 * writable), and what is already there must be fer's own output of the same kind, replaced only with force.
 * Anything else (a file, a folder of other files) is never replaced.
 */
export type OutputKind = 'model' | 'run' | 'onnx' | 'web';

export function checkOutput(out: string, kind: OutputKind, force: boolean, what = '--out'): void {
  if (existsSync(out) || lstatOrNull(out)) {
    if (lstatOrNull(out)!.isSymbolicLink()) throw new UsageError(`${what} ${out} is a symbolic link; fer does not write through links`);
    const st = statSync(out);
    const isDir = st.isDirectory();
    if (kind !== 'onnx' && !isDir) {
      throw new UsageError(`${what} ${out} exists and is a file; give a folder fer can create`);
    }
    if (kind === 'onnx' && isDir) throw new UsageError(`${what} ${out} is a folder; give a file name`);
    const empty = isDir && readdirSync(out).length === 0;
    const ours =
      kind === 'model' ? isFerModelDir(out) : kind === 'run' ? isFerRunDir(out) : kind === 'web' ? isFerWebDir(out) : isFerOnnx(out);
    if (!empty && !ours) {
      throw new UsageError(`${what} ${out} exists and is not a fer ${kind === 'onnx' ? 'ONNX export' : kind}; refusing to replace it`, {
        hint: 'pick another path',
      });
    }
    const extras = kind === 'model' && !empty ? modelDirExtras(out) : [];
    if (extras.length) {
      throw new UsageError(`${what} ${out} holds files fer did not write (${extras.slice(0, 3).join(', ')}); refusing to replace it`, {
        hint: 'move them out, or pick another path',
      });
    }
    if (!empty && !force) {
      throw new UsageError(`${what} ${out} already holds a fer ${kind === 'onnx' ? 'ONNX export' : kind}`, {
        hint: 'pass --force to replace it, or pick another path',
      });
    }
  }
  const dir = existingAncestor(existsSync(out) && statSync(out).isDirectory() ? out : path.dirname(path.resolve(out)));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${what} ${out}: cannot write in ${dir} (permission denied)`);
  }
}

/** A path resolved through its symbolic links where it exists (a model given as `./m/` or through a link is still m). */
function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * `--out` must not be (or hold) one of the command's inputs: `fer quantize --model m --out m --force` replaced the
 * model it was reading (an --out holding an input is replaced too: `fer average run/last … --out run`).
 */
export function refuseInputAsOutput(out: string, inputs: (string | undefined)[], what = '--out'): void {
  const o = realOrResolved(out);
  for (const input of inputs) {
    if (!input) continue;
    const i = realOrResolved(input);
    if (i === o || i.startsWith(o + path.sep))
      throw new UsageError(`${what} ${out} ${i === o ? 'is' : 'holds'} ${input}, an input of this command; refusing to replace it`, {
        hint: 'pick another path',
      });
  }
}

/**
 * Checks `--out` before any long work (checkOutput); with --force, what fer wrote in an earlier
 * run there is removed first, and only that (removeFerOutputs: a user's notes stay); a model
 * is swapped atomically by saveModel instead.
 */
export function prepareOut(outPath: string, kind: OutputKind, force: boolean, inputs: (string | undefined)[] = []): void {
  refuseInputAsOutput(outPath, inputs);
  checkOutput(outPath, kind, force);
  if (kind === 'run' && force && existsSync(outPath) && isFerRunDir(outPath))
    removeFerOutputs(outPath, (d) => isFerModelDir(d) || isFerModelDir(path.join(d, 'model')));
}

/** Who holds a run's lock. */
export interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/**
 * An exclusive lock on a run directory (`lock`, created with O_EXCL, holding pid, host and start time).
 * A lock left by a dead process on this host is taken over (the returned note says so); a live one, or
 * one from another host, is an error naming its holder.
 */
export function acquireLock(dir: string): { release: () => void; note?: string } {
  const file = path.join(dir, 'lock');
  const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let note: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      const release = () => {
        try {
          const held = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
          if (held.pid === mine.pid && held.host === mine.host) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      return { release, note };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lstatOrNull(file)?.isFile()) {
        throw new UsageError(`${file} is not a lock file fer wrote (a folder or a link); refusing to train in ${dir}`, {
          hint: `remove ${file} if no fer process uses ${dir}`,
        });
      }
      let held: LockInfo | null = null;
      try {
        held = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        held = null; // half-written or corrupt: its writer died mid-write
      }
      const stale = !held || (held.host === mine.host && !processAlive(held.pid));
      if (!stale) {
        throw new UsageError(`${dir} is in use by process ${held!.pid} on ${held!.host} (since ${held!.started})`, {
          hint: `wait for it to finish, or remove ${file} if that process is gone`,
        });
      }
      note = `took over a stale lock${held ? ` of process ${held.pid} (no longer running)` : ''} in ${dir}`;
      rmSync(file, { force: true });
    }
  }
  throw new UsageError(`${dir}: could not take the run lock`);
}

/** Reads a JSON file a user gives with `flag` (--class-map, --prior); a missing or unparsable one is a one-line usage error (exit 2). */
export function readUserJsonFile(file: string, flag: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(`${flag} ${file}: ${missing ? 'no such file' : 'not JSON: ' + (e as Error).message.split('\n')[0]}`, {
      option: optionOf(flag),
    });
  }
}

/** Reads a JSON file fer wrote; a missing or corrupt one is a one-line error naming it (exit 3). */
export function readJsonFile(file: string, what = path.basename(file)): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelError(`${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${what}: ${file} is not valid JSON (corrupt or truncated)`, { cause: e });
  }
}

const faultCounts = new Map<string, number>();
/**
 * Fault injection for the kill test (test/robustness/kill.e2e.test.ts): with FER_FAULT_KILL=<point>#<n> the
 * process SIGKILLs itself the n-th time it passes <point>. No effect (one env lookup) otherwise.
 */
export function faultPoint(point: string): void {
  const spec = process.env.FER_FAULT_KILL;
  if (!spec) return;
  const [name, nth] = spec.split('#');
  if (name !== point) return;
  const count = (faultCounts.get(point) ?? 0) + 1;
  faultCounts.set(point, count);
  if (count === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}

/** JSON.parse that returns null for text that is not JSON (a torn line of a killed run). */
export function parseOrNull(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * The first `n` bytes of a regular file (fewer when it is shorter), or null when it is not one: opened without
 * blocking, so a FIFO is never waited on. A missing file throws as opening it does.
 */
export function fileHead(file: string, n: number): Buffer | null {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) return null;
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}
