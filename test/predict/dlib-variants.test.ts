/**
 * dlib's detector in its CPU variants (native/binding.gyp, scripts/build-prebuilt.sh: fer_dlib.node for any
 * x86-64, fer_dlib-avx2.node with AVX2+FMA): the loader picks the baseline where AVX2 is not reported (the
 * feature set injected), and both builds find the same faces on a fixture photo (skipped where one is not built).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { DLIB_LANDMARKS, toGray } from '../../src/detect/dlib.js';
import { addonCandidates, locateAddon } from '../../src/engine/native/locate.js';
import { decodeRgb, type RawImage } from '../../src/io/image.js';
import { packagePath } from '../../src/paths.js';

const release = (name: string) => packagePath('native', 'build', 'Release', `${name}.node`);

describe('dlib variant dispatch', () => {
  it('takes the AVX2 build only where the CPU reports both AVX2 and FMA, the baseline otherwise', () => {
    expect(addonCandidates('fer_dlib', new Set(['sse2', 'avx2', 'fma']))).toEqual(['fer_dlib-avx2.node', 'fer_dlib.node']);
    expect(addonCandidates('fer_dlib', new Set(['sse2', 'avx', 'fma']))).toEqual(['fer_dlib.node']);
    expect(addonCandidates('fer_dlib', new Set(['sse2', 'avx2']))).toEqual(['fer_dlib.node']);
    expect(addonCandidates('fer_dlib', new Set())).toEqual(['fer_dlib.node']);
    expect(addonCandidates('fer_native', new Set(['avx2', 'fma']))).toEqual(['fer_native.node']);
  });

  it.runIf(existsSync(release('fer_dlib')))('loads the baseline build when AVX2 is reported absent, whatever else is built', () => {
    expect(locateAddon('fer_dlib', undefined, new Set(['sse2', 'sse4_1', 'avx']))).toEqual({ file: release('fer_dlib') });
    if (existsSync(release('fer_dlib-avx2')))
      expect(locateAddon('fer_dlib', undefined, new Set(['avx2', 'fma']))).toEqual({ file: release('fer_dlib-avx2') });
  });

  it('an override (FER_DLIB_ADDON) is loaded as given, whatever the CPU', () => {
    const file = release('fer_dlib');
    if (existsSync(file)) expect(locateAddon('fer_dlib', file, new Set(['avx2', 'fma']))).toEqual({ file });
  });
});

interface Dlib {
  load(path: string): void;
  detectAsync(gray: Uint8Array, w: number, h: number, upsample: number, threshold: number): Promise<Float64Array>;
}
const cpuHasAvx2 = addonCandidates('fer_dlib').includes('fer_dlib-avx2.node');
const both = existsSync(release('fer_dlib')) && existsSync(release('fer_dlib-avx2')) && cpuHasAvx2;

function load(name: string): Dlib {
  const a = createRequire(import.meta.url)(release(name)) as Dlib;
  if (existsSync(DLIB_LANDMARKS)) a.load(DLIB_LANDMARKS);
  return a;
}

describe.runIf(both)('dlib baseline and AVX2 builds', () => {
  let image: RawImage;
  let builds: Dlib[];
  beforeAll(async () => {
    image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    // Each build reads the 68-point model (~100 MB) once, for both upsampling cases.
    builds = ['fer_dlib', 'fer_dlib-avx2'].map(load);
  });

  it.each([0, 1])('upsample %i: the same boxes and landmarks, scores within float rounding', async (upsample) => {
    const gray = toGray(image);
    const [base, avx2] = await Promise.all(builds.map((b) => b.detectAsync(gray, image.width, image.height, upsample, 0)));
    expect(base.length).toBeGreaterThan(0);
    expect(avx2.length).toBe(base.length);
    base.forEach((v, k) => {
      // [x, y, width, height, score, 136 landmark values] per face; the score is a float sum, added 8 wide with AVX.
      if (k % 141 === 4) expect(Math.abs(avx2[k] - v)).toBeLessThan(1e-5);
      else expect(Object.is(avx2[k], v)).toBe(true);
    });
  });
});
