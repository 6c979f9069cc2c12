/**
 * The native step's max pooling through its maxima's places (MaxPoolArg / MaxPoolGradArg, native/src/pool.cc):
 * bit for bit the output and gradient of the plain pair (MaxPool / MaxPoolGrad, which kernels.test.ts checks
 * against tfjs's cpu backend, ties and negative windows included), on data made of ties, signed zeros and NaNs.
 */
import { describe, it, expect } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { PLAN_OP } from '../../src/engine/native/step-compiler.js';
import { randomArray } from '../helpers.js';

const addon = loadNativeAddon();
const hasArg = (addon?.planOps ?? 0) >= PLAN_OP.MaxPoolGradArg;

/** [n, h, w, c, k, s, padding]: the geometries of the architectures and odd ones around them. */
const CASES = [
  [4, 44, 44, 16, 3, 2, 'same'],
  [3, 11, 11, 64, 3, 2, 'same'],
  [2, 9, 8, 5, 3, 2, 'valid'],
  [2, 7, 7, 3, 3, 1, 'same'],
  [2, 10, 9, 4, 2, 2, 'valid'],
  [1, 13, 12, 6, 5, 3, 'same'],
] as const;

function geometry(n: number, h: number, w: number, c: number, k: number, s: number, pad: 'same' | 'valid') {
  const oh = pad === 'same' ? Math.ceil(h / s) : Math.floor((h - k) / s) + 1;
  const ow = pad === 'same' ? Math.ceil(w / s) : Math.floor((w - k) / s) + 1;
  const pt = pad === 'same' ? Math.floor(Math.max((oh - 1) * s + k - h, 0) / 2) : 0;
  const pl = pad === 'same' ? Math.floor(Math.max((ow - 1) * s + k - w, 0) / 2) : 0;
  return { params: [n, h, w, c, oh, ow, k, k, s, s, pt, pl], nin: n * h * w * c, nout: n * oh * ow * c };
}

describe.skipIf(!hasArg)('native MaxPoolArg / MaxPoolGradArg equal MaxPool / MaxPoolGrad bit for bit', () => {
  it.each(CASES)('n%i %ix%ix%i k%i s%i %s, 1 and 2 threads', (n, h, w, c, k, s, pad) => {
    const { params, nin, nout } = geometry(n, h, w, c, k, s, pad);
    // Values from {-1, -0, 0, 1} (ties in nearly every window) with a few NaNs; gradients of either sign.
    const tiers = [-1, -0, 0, 1];
    const xs = randomArray(nin, 5).map((v, i) => (i % 97 === 3 ? NaN : tiers[Math.floor((v + 1) * 2) & 3]));
    const dys = randomArray(nout, 6);
    const at = { x: 0, dy: nin, y1: nin + nout, dx1: nin + 2 * nout, y2: 2 * nin + 2 * nout, idx: 2 * nin + 3 * nout };
    const dx2 = at.idx + nout;
    const arena = new Float32Array(dx2 + nin).fill(7);
    arena.set(xs, at.x);
    arena.set(dys, at.dy);
    const program = Int32Array.from([
      PLAN_OP.MaxPool,
      ...params,
      at.x,
      at.y1,
      PLAN_OP.MaxPoolGrad,
      ...params,
      at.dy,
      at.x,
      at.dx1,
      PLAN_OP.MaxPoolArg,
      ...params,
      at.x,
      at.y2,
      at.idx,
      PLAN_OP.MaxPoolGradArg,
      ...params,
      at.dy,
      at.idx,
      dx2,
    ]);
    const bits = new Uint32Array(arena.buffer);
    for (const threads of [1, 2]) {
      addon!.setThreads(threads);
      addon!.runPlan!(arena, program);
      const y1 = bits.slice(at.y1, at.y1 + nout),
        y2 = bits.slice(at.y2, at.y2 + nout);
      const dx1 = bits.slice(at.dx1, at.dx1 + nin),
        dxArg = bits.slice(dx2, dx2 + nin);
      expect(y2).toEqual(y1);
      expect(dxArg).toEqual(dx1);
      // Not vacuous: gradients reached x, and windows' ties made some cells receive nothing.
      const dx = new Float32Array(dx1.buffer);
      expect(dx.some((v) => v !== 0)).toBe(true);
      expect(dx.some((v) => Object.is(v, 0))).toBe(true);
    }
  });
});
