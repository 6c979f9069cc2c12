/**
 * The training augmentation's warp in the addon (native/src/augment.cc) against data/augment.ts's JavaScript one:
 * the same floats bit for bit, for random maps of every kind (flips, rotations, zooms, shifts, crops) and for
 * extreme ones that send pixels far outside the image (edge clamping), on threads; and makeBatch through either
 * warp draws the same maps from the same seed.
 */
import { describe, it, expect } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { nativeWarpBatch } from '../../src/engine/native/backend.js';
import { makeBatch, PREPROCESS, randomAffine, warpBatch, type AugmentOptions } from '../../src/data/augment.js';
import { Rng } from '../../src/util/rng.js';

const addon = loadNativeAddon();
const P = 48 * 48;

function images(n: number, seed: number): Uint8Array {
  const r = new Rng(seed);
  return Uint8Array.from({ length: n * P }, () => Math.floor(r.next() * 256));
}

function sameBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length),
    ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) diff++;
  return diff;
}

describe.skipIf(!addon?.warpBatch)('native augmentation warp', () => {
  const native = nativeWarpBatch()!;
  const warpNative = (imgs: Uint8Array, idx: Int32Array, affines: Float64Array, out: Float32Array) =>
    native(imgs, idx, affines, out, PREPROCESS.scale, PREPROCESS.offset);
  const imgs = images(40, 1);

  it.each([
    ['training default', { flip: true, rotation: 10, zoom: 0.1, shift: 0.1 }],
    ['strong', { flip: true, rotation: 60, zoom: 0.5, shift: 0.4 }],
    ['crops', { flip: true, rotation: 15, zoom: 0.2, shift: 0.1, crop: 0.3 }],
    ['flips only', { flip: true, rotation: 0, zoom: 0, shift: 0 }],
  ] as [string, AugmentOptions][])('%s: bit for bit the JavaScript warp', (_name, aug) => {
    const rng = new Rng(7);
    const n = 33;
    const idx = Int32Array.from({ length: n }, (_, i) => (i * 7) % 40);
    const affines = new Float64Array(6 * n);
    for (let b = 0; b < n; b++) affines.set(randomAffine(aug, rng), 6 * b);
    const js = new Float32Array(n * P),
      nat = new Float32Array(n * P);
    warpBatch(imgs, idx, affines, js);
    warpNative(imgs, idx, affines, nat);
    expect(sameBits(js, nat)).toBe(0);
    // and the warp did something: not the plain copy of the images
    const plain = makeBatch(imgs, idx);
    expect(sameBits(plain, nat)).toBeGreaterThan(n * P * 0.3);
  });

  it('clamps maps that read far outside the image as JavaScript does', () => {
    const affines = Float64Array.from([3, 0.5, -200, -0.7, 2.5, 90, 0, 0, 47, 0, 0, -5, 1e-9, 0, 1e6, -1, 0, 47]);
    const idx = Int32Array.from([0, 1, 2]);
    const js = new Float32Array(3 * P),
      nat = new Float32Array(3 * P);
    warpBatch(imgs, idx, affines, js);
    warpNative(imgs, idx, affines, nat);
    expect(sameBits(js, nat)).toBe(0);
  });

  it('makeBatch gives the same batch through either warp, and the addon refuses an index outside the images', () => {
    const aug = { flip: true, rotation: 10, zoom: 0.1, shift: 0.1 };
    const idx = [3, 9, 27, 39, 0];
    const a = makeBatch(imgs, idx, aug, new Rng(11));
    const b = makeBatch(imgs, idx, aug, new Rng(11), undefined, warpNative);
    expect(sameBits(a, b)).toBe(0);
    expect(() => warpNative(imgs, Int32Array.from([40]), new Float64Array(6), new Float32Array(P))).toThrow(/out of range/);
  });
});
