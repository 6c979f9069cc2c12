/**
 * The one writer of fer's output files (eval.json, confusion.png, bench.json, report.html, annotated
 * images, run.json, metrics.jsonl, curves.png, ONNX exports, …). Every file goes through a temporary name in
 * its folder and a rename, so readers see the old content or the new; it is never written through a
 * symlink, never onto an input of the running command, and never onto a file fer did not write. Which files
 * fer wrote is kept in a manifest in each folder (`.fer-files.jsonl`: one line per write, name and sha256 of
 * the bytes), appended before the rename, so a file is fer's when its bytes are ones fer logged under that
 * name — not because of its name.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError, optionOf } from '../errors.js';
import { makeDirs } from './make-dirs.js';

/** The manifest's name in each folder fer writes files into. */
export const MANIFEST = '.fer-files.jsonl';
const HEADER = { fer: 'outputs', version: 1, about: 'files fer wrote in this folder (name, sha256); fer replaces only these' };

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Inputs of the running command (device:inode), never written over (`fer predict DIR --annotate DIR`). */
const inputs = new Set<string>();
const fileId = (st: Stats) => `${st.dev}:${st.ino}`;

/** Marks a file as an input of this process's command: no output may replace it. */
export function protectInput(file: string): void {
  try {
    inputs.add(fileId(statSync(file)));
  } catch {
    // not there: nothing to protect
  }
}

/** Forgets the protected inputs (a long-lived process running several commands, tests). */
export function clearProtectedInputs(): void {
  inputs.clear();
}

const lstatOrNull = (f: string) => {
  try {
    return lstatSync(f);
  } catch {
    return null;
  }
};

/** The hashes fer logged per name in `dir`'s manifest; null when there is none; 'foreign' when the file is not fer's. */
function readManifest(dir: string): Map<string, Set<string>> | null | 'foreign' {
  const file = path.join(dir, MANIFEST);
  const st = lstatOrNull(file);
  if (!st) return null;
  if (!st.isFile()) return 'foreign';
  const lines = readFileSync(file, 'utf8').split('\n');
  try {
    if ((JSON.parse(lines[0]) as { fer?: string }).fer !== HEADER.fer) return 'foreign';
  } catch {
    return 'foreign';
  }
  const hashes = new Map<string, Set<string>>();
  for (const line of lines.slice(1)) {
    let e: { name?: unknown; sha256?: unknown };
    try {
      e = JSON.parse(line);
    } catch {
      continue; // a torn last line of a killed process
    }
    if (typeof e?.name === 'string' && typeof e.sha256 === 'string') {
      if (!hashes.has(e.name)) hashes.set(e.name, new Set());
      hashes.get(e.name)!.add(e.sha256);
    }
  }
  return hashes;
}

/** In a folder without a manifest that is a fer run or web export: its single-linked regular files (fer's, by then). */
function legacyFiles(dir: string): string[] {
  if (!(isFerRunDir(dir) || isFerWebDir(dir))) return [];
  return readdirSync(dir).filter((f) => {
    const st = lstatOrNull(path.join(dir, f));
    return !!st?.isFile() && st.nlink === 1 && !f.startsWith('.');
  });
}

/** Appends `name`'s new hash to `dir`'s manifest (created with its header), never through a symlink. */
function logWrite(dir: string, name: string, hash: string): void {
  const file = path.join(dir, MANIFEST);
  const m = readManifestCached(dir);
  if (m === 'foreign') throw new UsageError(`${file} exists and was not written by fer; refusing to write in ${dir}`);
  // The first manifest in a run or web folder written before manifests existed takes over its files.
  const adopted =
    m === null ? legacyFiles(dir).map((f) => JSON.stringify({ name: f, sha256: sha256(readFileSync(path.join(dir, f))) }) + '\n') : [];
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const head = m === null ? JSON.stringify(HEADER) + '\n' + adopted.join('') : '';
    writeSync(fd, head + JSON.stringify({ name, sha256: hash }) + '\n');
  } finally {
    closeSync(fd);
  }
  manifests.delete(dir);
}

const manifests = new Map<string, { key: string; value: ReturnType<typeof readManifest> }>();
/** readManifest, cached while the manifest file is unchanged (thousands of annotated frames in one folder). */
function readManifestCached(dir: string): ReturnType<typeof readManifest> {
  const st = lstatOrNull(path.join(dir, MANIFEST));
  const key = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none';
  const hit = manifests.get(dir);
  if (hit?.key === key) return hit.value;
  const value = readManifest(dir);
  manifests.set(dir, { key, value });
  return value;
}

/** run.json as fer writes it: a fer run is a folder whose run.json parses as this. */
export const ferRunJsonSchema = z
  .object({
    generatedBy: z.literal('fer').optional(),
    command: z.string().regex(/^fer /),
    options: z.record(z.string(), z.unknown()),
  })
  .passthrough();

/** A run directory of fer train / prune / quantize: its run.json (a regular file) in fer's own format. */
export function isFerRunDir(dir: string): boolean {
  const f = path.join(dir, 'run.json');
  if (!lstatOrNull(f)?.isFile()) return false;
  try {
    return ferRunJsonSchema.safeParse(JSON.parse(readFileSync(f, 'utf8'))).success;
  } catch {
    return false;
  }
}

/** A folder `fer export web` wrote (its fer-web.json beside index.html). */
export function isFerWebDir(dir: string): boolean {
  return !!lstatOrNull(path.join(dir, 'fer-web.json'))?.isFile() && !!lstatOrNull(path.join(dir, 'index.html'))?.isFile();
}

/** An .onnx file fer wrote: its own marker, producer name "fer", read off the file's first bytes. */
export function isFerOnnx(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes(Buffer.from('\x12\x03fer', 'latin1'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Whether `file` (a regular file, not a link) holds bytes fer wrote under its name: its hash is in the
 * folder's manifest, or it carries fer's own marker (an ONNX export). A run or web folder written before
 * manifests existed (no manifest; a fer run.json or fer-web.json) counts its single-linked files as fer's.
 */
export function isFerFile(file: string, st: Stats | null = lstatOrNull(file)): boolean {
  if (!st?.isFile()) return false;
  if (/\.onnx$/i.test(file) && isFerOnnx(file)) return true;
  const dir = path.dirname(path.resolve(file));
  const m = readManifestCached(dir);
  if (m === 'foreign') return false;
  if (m === null) return st.nlink === 1 && (isFerRunDir(dir) || isFerWebDir(dir));
  const known = m.get(path.basename(file));
  return !!known && known.has(sha256(readFileSync(file)));
}

/**
 * Throws (exit 2, one line) unless `file` may be written: absent, or a regular file fer wrote that is not an
 * input of this command. Commands call it before their long work; writeOutput calls it again.
 */
export function checkOutputFile(file: string, what = 'output'): void {
  const st = lstatOrNull(file);
  if (!st) return;
  const option = optionOf(what);
  if (st.isSymbolicLink()) throw new UsageError(`${what} ${file} is a symbolic link; fer does not write through links`, { option });
  if (!st.isFile()) throw new UsageError(`${what} ${file} exists and is not a file fer wrote; refusing to replace it`, { option });
  if (inputs.has(fileId(statSync(file))))
    throw new UsageError(`${what} ${file} is an input of this command; refusing to replace it`, { option });
  if (!isFerFile(file, st)) {
    throw new UsageError(`${what} ${file} exists and was not written by fer; refusing to replace it`, {
      hint: 'move it, or pick another place',
      option,
    });
  }
}

let serial = 0;
/**
 * Writes `file` atomically (a temporary name in its folder, created exclusively, then a rename), after
 * checkOutputFile, and logs it in the folder's manifest before the rename (so that a process killed between
 * the two leaves a file that is still known as fer's).
 */
export function writeOutput(file: string, data: string | Uint8Array, what = 'output'): void {
  checkOutputFile(file, what);
  const dir = path.dirname(path.resolve(file));
  makeDirs(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${serial++}`);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    logWrite(dir, path.basename(file), sha256(data));
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Appends a line to an output (metrics.jsonl): the whole file rewritten through writeOutput. */
export function appendOutput(file: string, text: string): void {
  const st = lstatOrNull(file);
  writeOutput(file, (st ? (checkOutputFile(file), readFileSync(file, 'utf8')) : '') + text);
}

/**
 * For `--force` on a run: removes what fer wrote there and nothing else — the files its manifest knows
 * (still with the bytes fer wrote), the manifest, and its model and checkpoint folders (fer's by their
 * model.json). A user's notes or folders inside the run stay. Returns what was removed.
 */
export function removeFerOutputs(dir: string, isFerDir: (d: string) => boolean): string[] {
  const removed: string[] = [];
  const m = readManifestCached(dir);
  const legacy = m === null && isFerRunDir(dir);
  let names: string[] = [];
  if (m instanceof Map) names = [...m.keys()];
  // A run from before manifests: the files of the documented run layout (report/schema.ts), if single-linked.
  else if (legacy)
    names = [
      'run.json',
      'metrics.jsonl',
      'curves.png',
      'eval.json',
      'confusion.png',
      'bench.json',
      'bench.png',
      'report.html',
      'teacher.f32',
    ];
  for (const name of names) {
    const f = path.join(dir, name);
    if (name !== 'run.json' && isFerFile(f)) {
      rmSync(f);
      removed.push(name);
    }
  }
  for (const d of ['best', 'last', 'checkpoint']) {
    const p = path.join(dir, d);
    if (lstatOrNull(p)?.isDirectory() && isFerDir(p)) {
      rmSync(p, { recursive: true });
      removed.push(d);
    }
  }
  // run.json last: until it goes, the folder is still recognisably a fer run (a kill midway is recoverable).
  const run = path.join(dir, 'run.json');
  if (isFerFile(run)) {
    rmSync(run);
    removed.push('run.json');
  }
  if (lstatOrNull(path.join(dir, MANIFEST))?.isFile() && m instanceof Map) rmSync(path.join(dir, MANIFEST));
  manifests.delete(dir);
  return removed;
}
