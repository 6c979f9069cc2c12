/** Creating a folder and its missing parents, without Node's recursive mkdir. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * What `mkdirSync(dir, { recursive: true })` does, one level at a time. Node 20's recursive mkdir loops forever
 * where a `mkdir` fails with ENOENT although the parent exists (e.g. `--out /proc/x`); this makes each call once, so
 * such a place fails at once with the system's error (exit 2, naming the folder).
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); !existsSync(p); p = path.dirname(p)) {
    missing.unshift(p); // outermost first
    if (path.dirname(p) === p) break;
  }
  if (!missing.length && !statSync(dir).isDirectory()) mkdirSync(dir); // a file there: the system's EEXIST
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Made meanwhile by another process (two runs sharing a parent): fine if it is a folder.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
    }
  }
}
