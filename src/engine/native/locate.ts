/**
 * Where fer's native addons (fer_native.node, the training engine; fer_dlib.node, dlib's detector) are loaded from,
 * and the one loader for both (loadAddon). First found wins:
 *   1. FER_NATIVE_ADDON / FER_DLIB_ADDON: another build (e.g. one built out of tree while a run uses this one),
 *      loaded as given (no CPU dispatch);
 *   2. native/build/Release: a build from source (node-gyp at install time where no prebuilt fits, a checkout's
 *      `npm ci`, or `npm rebuild --build-from-source`);
 *   3. native/prebuilds/linux-x64: the prebuilt binaries the package ships (scripts/build-prebuilt.sh at pack time)
 *      with oneDNN beside them, used on linux-x64 with glibc >= PREBUILT_GLIBC. No install script is needed for
 *      these, so they also load where the package manager skipped it (pnpm, Bun, --ignore-scripts).
 * In 2 and 3 an addon may come in CPU variants (VARIANTS: dlib's HOG detector built with AVX2+FMA is ~1.3×
 * faster): the first variant whose CPU features this machine has (cpuFeatures(), /proc/cpuinfo) and whose file
 * exists is taken, then the baseline x86-64 build; a variant that fails to load falls back to the baseline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
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

/** The environment variable that points an addon at another file. */
export const ADDON_ENV: Record<AddonName, string> = { fer_native: 'FER_NATIVE_ADDON', fer_dlib: 'FER_DLIB_ADDON' };

/**
 * Faster builds of an addon, best first, each with the CPU features (/proc/cpuinfo flag names) it needs; the
 * baseline `${name}.node` (x86-64, SSE2) comes after them. Only dlib's detector has one: its HOG features and
 * filters are dlib's SIMD templates, compiled into the addon (native/binding.gyp, scripts/build-prebuilt.sh).
 */
export const VARIANTS: Record<AddonName, { file: string; needs: string[] }[]> = {
  fer_native: [],
  fer_dlib: [{ file: 'fer_dlib-avx2', needs: ['avx2', 'fma'] }],
};

let features: ReadonlySet<string> | undefined;
/** This CPU's feature flags as Linux reports them (`avx2`, `fma`, ...; the kernel hides those the OS cannot run); empty elsewhere. */
export function cpuFeatures(): ReadonlySet<string> {
  if (features) return features;
  let flags = '';
  try {
    if (process.platform === 'linux') flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // no /proc (a sandbox): baseline builds only
  }
  features = new Set(flags.trim().split(/\s+/).filter(Boolean));
  return features;
}

/** The addon's files this CPU can run, best first: its variants whose features `cpu` has, then the baseline. */
export function addonCandidates(name: AddonName, cpu: ReadonlySet<string> = cpuFeatures()): string[] {
  return [...VARIANTS[name].filter((v) => v.needs.every((f) => cpu.has(f))).map((v) => `${v.file}.node`), `${name}.node`];
}

/**
 * The files to try for an addon, best first (a variant, then the baseline from the same folder), or why there
 * is none. `cpu` stands in for this machine's features (tests).
 */
export function locateAddonFiles(
  name: AddonName,
  override: string | undefined,
  cpu?: ReadonlySet<string>,
): { files: string[]; why?: string } {
  if (override) return existsSync(override) ? { files: [override] } : { files: [], why: `not found (${override})` };
  const names = addonCandidates(name, cpu);
  const built = names.map((n) => packagePath('native', 'build', 'Release', n)).filter((f) => existsSync(f));
  if (built.length) return { files: built };
  const mismatch = prebuiltMismatch();
  const prebuilt = mismatch ? [] : names.map((n) => packagePath('native', 'prebuilds', PREBUILT_PLATFORM, n)).filter((f) => existsSync(f));
  if (prebuilt.length) return { files: prebuilt };
  return { files: [], why: `not built, ${mismatch ?? 'and the package has no prebuilt binary'}` };
}

/** The file to load for an addon (the best this CPU runs), or why there is none. */
export function locateAddon(name: AddonName, override: string | undefined, cpu?: ReadonlySet<string>): { file?: string; why?: string } {
  const { files, why } = locateAddonFiles(name, override, cpu);
  return files.length ? { file: files[0] } : { why };
}

export interface LoadedAddon<T> {
  addon: T | null;
  /** The file loaded (or the last one tried, when none loaded). */
  file?: string;
  /** Why none loaded (the one-line reason for a fallback message). */
  why?: string;
}

const loaded = new Map<AddonName, LoadedAddon<unknown>>();

/**
 * The one loader of fer's native addons, once per process: the override in ADDON_ENV[name], else the best
 * variant this CPU runs (locateAddonFiles), falling back to the next file when one fails to load. Loading has
 * no side effects on the process (training applies its allocator settings itself: engine/native/backend.ts).
 */
export function loadAddon<T>(name: AddonName): LoadedAddon<T> {
  const done = loaded.get(name);
  if (done) return done as LoadedAddon<T>;
  // A relative override is the user's, from the working directory (require would resolve it from this module)
  const override = process.env[ADDON_ENV[name]] || undefined;
  const { files, why } = locateAddonFiles(name, override && path.resolve(override));
  let result: LoadedAddon<T> = { addon: null, why };
  for (const file of files) {
    try {
      result = { addon: createRequire(import.meta.url)(file) as T, file };
      break;
    } catch (e) {
      result = { addon: null, file, why: (e as Error).message.split('\n')[0] };
    }
  }
  loaded.set(name, result);
  return result;
}
