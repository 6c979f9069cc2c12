/**
 * Where the native addons load from (src/engine/native/locate.ts): an override first, then a build from source,
 * then the package's prebuilt linux-x64 binaries where they fit (glibc >= 2.34).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateAddon, prebuiltMismatch, PREBUILT_GLIBC } from '../../src/engine/native/locate.js';
import { packagePath } from '../../src/paths.js';

describe('locateAddon', () => {
  it('an override wins, and a missing one says which file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-locate-'));
    const file = path.join(dir, 'other.node');
    writeFileSync(file, '');
    expect(locateAddon('fer_native', file)).toEqual({ file });
    expect(locateAddon('fer_dlib', path.join(dir, 'missing.node')).why).toContain('missing.node');
  });

  it.skipIf(!existsSync(packagePath('native', 'build', 'Release', 'fer_native.node')))(
    'an override relative to the working directory loads from there (require alone would resolve it from src/)',
    () => {
      const script = `import { loadAddon } from ${JSON.stringify(packagePath('src', 'engine', 'native', 'locate.ts'))}; const r = loadAddon('fer_native'); console.log(JSON.stringify({ loaded: !!r.addon, file: r.file, why: r.why }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: packagePath(),
        env: { ...process.env, FER_NATIVE_ADDON: path.join('native', 'build', 'Release', 'fer_native.node') },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ loaded: true, file: packagePath('native', 'build', 'Release', 'fer_native.node') });
    },
  );

  it('a build from source comes before the prebuilt binary, which is used only where it fits', () => {
    const built = packagePath('native', 'build', 'Release', 'fer_native.node');
    const prebuilt = packagePath('native', 'prebuilds', 'linux-x64', 'fer_native.node');
    const { file, why } = locateAddon('fer_native', undefined);
    if (existsSync(built)) expect(file).toBe(built);
    else if (existsSync(prebuilt) && !prebuiltMismatch()) expect(file).toBe(prebuilt);
    else expect(why).toMatch(/^not built, /);
  });

  it('the prebuilt binary fits linux-x64 with a new enough glibc only', () => {
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
    const fits = process.platform === 'linux' && process.arch === 'x64' && !!glibc;
    const [major, minor] = (glibc ?? '0.0').split('.').map(Number);
    const newEnough = major > 2 || (major === 2 && minor >= Number(PREBUILT_GLIBC.split('.')[1]));
    if (fits && newEnough) expect(prebuiltMismatch()).toBeUndefined();
    else expect(prebuiltMismatch()).toMatch(/prebuilt|glibc/);
  });
});
