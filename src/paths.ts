/**
 * The one place that locates fer's package assets (package.json, models/, native/build, the wasm
 * kernels). It walks up from this module to the directory whose package.json names `fer-toolkit` (the
 * package's name on npm; its command is `fer`), so the same code finds them when run from the sources
 * (src/paths.ts) and from the compiled package (dist/paths.js, installed under node_modules/fer-toolkit).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's name on npm (`fer` there is another project's). */
export const PACKAGE_NAME = 'fer-toolkit';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json on the way up is not ours
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`fer: cannot find the fer package root above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the package. */
export const packagePath = (...parts: string[]) => path.join(PACKAGE_ROOT, ...parts);

let version: string | undefined;
/** The package's version (read once, on first use). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
