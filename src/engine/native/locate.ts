/**
 * Where fer's native addons (fer_native.node, the training engine; fer_dlib.node, dlib's detector) are loaded from,
 * first found wins:
 *   1. FER_NATIVE_ADDON / FER_DLIB_ADDON: another build (e.g. one built out of tree while a run uses this one);
 *   2. native/build/Release: a build from source (node-gyp at install time where no prebuilt fits, a checkout's
 *      `npm ci`, or `npm rebuild --build-from-source`);
 *   3. native/prebuilds/linux-x64: the prebuilt binaries the package ships (scripts/build-prebuilt.sh at pack time)
 *      with oneDNN beside them, used on linux-x64 with glibc >= PREBUILT_GLIBC. No install script is needed for
 *      these, so they also load where the package manager skipped it (pnpm, Bun, --ignore-scripts).
 */
import { existsSync } from 'node:fs';
import { packagePath } from '../../paths.js';

export const PREBUILT_PLATFORM = 'linux-x64';
/** The newest glibc symbol version the prebuilt binaries need (oneDNN's and libgomp's; Debian 12's builds). */
export const PREBUILT_GLIBC = '2.34';

/** The running glibc's version ("2.36"), or undefined on musl or another OS. */
function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

const atLeast = (have: string, need: string) => {
  const [a, b] = [have, need].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

/** Why the prebuilt binaries do not fit this machine, or undefined when they do. */
export function prebuiltMismatch(): string | undefined {
  const here = `${process.platform}-${process.arch}`;
  if (here !== PREBUILT_PLATFORM) return `no prebuilt binary for ${here} (only ${PREBUILT_PLATFORM})`;
  const glibc = glibcVersion();
  if (!glibc) return 'the prebuilt linux-x64 binary needs glibc (this is not glibc, e.g. musl)';
  if (!atLeast(glibc, PREBUILT_GLIBC)) return `the prebuilt linux-x64 binary needs glibc >= ${PREBUILT_GLIBC} (this is ${glibc})`;
  return undefined;
}

export type AddonName = 'fer_native' | 'fer_dlib';

/** The file to load for an addon, or why there is none. */
export function locateAddon(name: AddonName, override: string | undefined): { file?: string; why?: string } {
  if (override) return existsSync(override) ? { file: override } : { why: `not found (${override})` };
  const built = packagePath('native', 'build', 'Release', `${name}.node`);
  if (existsSync(built)) return { file: built };
  const prebuilt = packagePath('native', 'prebuilds', PREBUILT_PLATFORM, `${name}.node`);
  const mismatch = prebuiltMismatch();
  if (!mismatch && existsSync(prebuilt)) return { file: prebuilt };
  return { why: `not built, ${mismatch ?? 'and the package has no prebuilt binary'}` };
}
