import { describe, it, expect } from 'vitest';
import { quantize, dequantize, fakeQuantize, qmax, toFloat16Bits, fromFloat16Bits, roundTripFloat16 } from '../../src/quantize/quantize.js';
import { randomArray } from '../helpers.js';

describe('symmetric uniform quantization, eqs. (2)–(4)', () => {
  it("reproduces the paper's Fig. 6 exactly", () => {
    const w = Float32Array.of(1.15, 11.05, -1.75, -6.78, -4.89, -0.66, 2.35, 0.46, 8.92);
    const { q, scales } = quantize(w, 8);
    expect(Array.from(q)).toEqual([13, 127, -20, -78, -56, -8, 27, 5, 103]);
    expect(scales[0]).toBeCloseTo(127 / 11.05, 5);
  });

  it.each([2, 3, 4, 8])('dequantization error is at most scale/2 per element (%i bits)', (bits) => {
    const w = randomArray(1000, bits, 3);
    const r = quantize(w, bits);
    const back = dequantize(r);
    const step = 1 / r.scales[0];
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(step / 2 + 1e-6);
    expect(Math.max(...Array.from(r.q, Math.abs))).toBe(qmax(bits));
  });

  it("per-channel scales follow each channel's own max (channel = index % channels)", () => {
    const w = Float32Array.of(1, 100, -2, 50, 0.5, -100); // channel 0: 1,-2,0.5 ; channel 1: 100,50,-100
    const r = quantize(w, 8, 'per-channel', 2);
    expect(r.scales.length).toBe(2);
    expect(Array.from(r.q)).toEqual([64, 127, -127, 64, 32, -127]);
    // Per tensor, channel 0 collapses to almost nothing.
    expect(Array.from(quantize(w, 8).q.filter((_, i) => i % 2 === 0))).toEqual([1, -3, 1]);
  });

  it('rejects bit widths outside 2..8', () => {
    expect(() => quantize(Float32Array.of(1), 9)).toThrow(/2\.\.8/);
    expect(() => quantize(Float32Array.of(1), 1)).toThrow(/2\.\.8/);
  });

  it('fake quantization is idempotent', () => {
    const w = randomArray(200, 5);
    const once = fakeQuantize(w, 4);
    expect(Array.from(fakeQuantize(once, 4))).toEqual(Array.from(once));
  });
});

describe('float16', () => {
  it('matches known encodings', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(fromFloat16Bits(0x3555)).toBeCloseTo(0.333251953125, 10);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
  });

  it('round trip keeps 11 significant bits (relative error ≤ 2^-11)', () => {
    const w = randomArray(1000, 9, 10);
    const back = roundTripFloat16(w);
    for (let i = 0; i < w.length; i++) {
      if (Math.abs(w[i]) > 6.2e-5) expect(Math.abs(back[i] - w[i]) / Math.abs(w[i])).toBeLessThanOrEqual(2 ** -11);
    }
  });
});
