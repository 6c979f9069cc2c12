import { describe, it, expect } from 'vitest';
import {
  magnitudeMask,
  globalMasks,
  twoFourMask,
  scheduledSparsity,
  isUpdateStep,
  compressionRatio,
  sparsityReport,
} from '../../src/prune/prune.js';
import { randomArray } from '../helpers.js';

describe('magnitude pruning', () => {
  it('zeroes exactly the smallest |w|', () => {
    const w = Float32Array.of(0.5, -0.1, 2, -3, 0.05, 1);
    // The three smallest magnitudes are 0.05, 0.1 and 0.5.
    expect(Array.from(magnitudeMask(w, 0.5))).toEqual([0, 0, 1, 1, 0, 1]);
  });

  it('reaches the requested sparsity on random weights', () => {
    const w = randomArray(1001, 4);
    const m = magnitudeMask(w, 0.7);
    expect(m.filter((v) => v === 0).length).toBe(Math.floor(0.7 * 1001));
  });

  it('a global threshold prunes small layers more than large-magnitude ones', () => {
    const small = Float32Array.from(randomArray(100, 1), (v) => v * 0.01);
    const big = Float32Array.from(randomArray(100, 2), (v) => Math.sign(v) * (0.5 + Math.abs(v)));
    const [ms, mb] = globalMasks([small, big], 0.5);
    expect(ms.filter((v) => v === 0).length).toBe(100);
    expect(mb.filter((v) => v === 0).length).toBe(0);
  });
});

describe('2:4 pattern', () => {
  it('keeps two of every four consecutive input-channel weights', () => {
    const [kh, kw, ic, oc] = [3, 3, 8, 5];
    const w = randomArray(kh * kw * ic * oc, 11);
    const m = twoFourMask(w, ic, oc)!;
    for (let s = 0; s < kh * kw; s++)
      for (let o = 0; o < oc; o++)
        for (let g = 0; g < ic; g += 4) {
          const idx = [0, 1, 2, 3].map((j) => (s * ic + g + j) * oc + o);
          expect(idx.reduce((a, i) => a + m[i], 0)).toBe(2);
          const kept = idx.filter((i) => m[i]).map((i) => Math.abs(w[i]));
          const dropped = idx.filter((i) => !m[i]).map((i) => Math.abs(w[i]));
          expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
        }
  });

  it('leaves tensors whose input channels are not a multiple of 4 dense', () => {
    expect(twoFourMask(randomArray(18, 1), 1, 2)).toBeNull();
  });
});

describe('schedule and eq. (1)', () => {
  const s = { initialSparsity: 0, finalSparsity: 0.8, beginStep: 100, endStep: 200, frequency: 10 };
  it('is polynomial (cubic) between begin and end', () => {
    expect(scheduledSparsity(s, 50)).toBe(0);
    expect(scheduledSparsity(s, 100)).toBeCloseTo(0, 10);
    expect(scheduledSparsity(s, 150)).toBeCloseTo(0.8 - 0.8 * 0.5 ** 3, 10);
    expect(scheduledSparsity(s, 200)).toBe(0.8);
    expect(scheduledSparsity(s, 1000)).toBe(0.8);
    expect([100, 105, 110, 200, 210].map((t) => isUpdateStep(s, t))).toEqual([true, false, true, true, false]);
  });

  it('compression ratio R = ΣU / ΣP on a hand-computed case', () => {
    // Layer 1: 100 weights, 50 kept; layer 2: 300 weights, 50 kept → R = 400 / 100 = 4.
    expect(
      compressionRatio([
        { total: 100, nonzero: 50 },
        { total: 300, nonzero: 50 },
      ]),
    ).toBe(4);
    const r = sparsityReport([
      { name: 'a', values: Float32Array.of(0, 1, 0, 2) },
      { name: 'b', values: Float32Array.of(3, 0) },
    ]);
    expect(r.total).toBe(6);
    expect(r.nonzero).toBe(3);
    expect(r.compressionRatio).toBe(2);
    expect(r.layers[0].sparsity).toBe(0.5);
  });
});
