/** The distillation variant's epoch budget (compress/distil-arch.ts epochsWithin), hand-computed. */
import { describe, it, expect } from 'vitest';
import { epochsWithin } from '../../src/compress/distil-arch.js';

describe('epochsWithin', () => {
  it('an epoch costs its training images plus its validation images at 4× the rate', () => {
    // 1000 img/s, 28,000 training + 4,000 val images: 28 + 1 = 29 s per epoch; 600 s → 20 epochs (20.7 floored).
    expect(epochsWithin(600, 1000, 28_000, 4_000)).toBe(20);
  });
  it('is at most max, and 0 when fewer than min fit', () => {
    expect(epochsWithin(10, 1000, 28_000, 4_000)).toBe(0);
    expect(epochsWithin(100, 1000, 28_000, 4_000, 2)).toBe(3);
    expect(epochsWithin(100, 1000, 28_000, 4_000)).toBe(0);
    expect(epochsWithin(1e6, 1000, 28_000, 4_000)).toBe(60);
    expect(epochsWithin(1e6, 1000, 28_000, 4_000, 5, 90)).toBe(90);
  });
  it('counts validation when deciding whether the minimum fits', () => {
    // Five epochs of training alone take 140 s, but with validation 145 s: they do not fit in 140 s.
    expect(epochsWithin(140, 1000, 28_000, 4_000)).toBe(0);
    expect(epochsWithin(145, 1000, 28_000, 4_000)).toBe(5);
  });
});
