import { describe, it, expect } from 'vitest';
import { allocateBySensitivity, meanKl } from '../../src/prune/sensitivity.js';
import { erkZeros } from '../../src/prune/prune.js';

describe('sensitivity allocation', () => {
  // Two kernels of 10 weights, tried at 50% and 100%. A: 5 zeros cost 1, 10 cost 4 (0.2 then 0.6 per zero).
  // B: 5 zeros cost 4, 10 cost 5 (0.8 then 0.2 per zero: on its hull, 10 zeros at 0.5 per zero).
  const sizes = [10, 10],
    levels = [0.5, 1];
  const costs = [
    [1, 4],
    [4, 5],
  ];

  it('takes the cheapest zeros first along each kernel’s convex hull', () => {
    // A's first 5 (0.2/zero), then all of B at once (0.5/zero, cheaper than A's next 5 at 0.6): [5, 10].
    // Step by step without the hull, B's first 5 (0.8) would lose to A's next 5 (0.6): [10, 5].
    expect(allocateBySensitivity(sizes, levels, costs, 15)).toEqual([5, 10]);
  });

  it('stops the last move at the zeros asked for, exactly', () => {
    expect(allocateBySensitivity(sizes, levels, costs, 3)).toEqual([3, 0]);
    expect(allocateBySensitivity(sizes, levels, costs, 8)).toEqual([5, 3]);
    expect(allocateBySensitivity(sizes, levels, costs, 20)).toEqual([10, 10]);
    expect(allocateBySensitivity(sizes, levels, costs, 25)).toEqual([10, 10]);
  });

  it('a kernel whose zeros cost nothing gives them all before any other', () => {
    const free = [
      [0, 0],
      [1, 2],
    ];
    expect(allocateBySensitivity(sizes, levels, free, 10)).toEqual([10, 0]);
  });

  it('mean KL divergence by hand', () => {
    const p = Float32Array.of(0.5, 0.5, 1, 0),
      q = Float32Array.of(0.25, 0.75, 0.5, 0.5);
    const row1 = 0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75),
      row2 = Math.log(2);
    expect(meanKl(p, q, 2)).toBeCloseTo((row1 + row2) / 2, 6);
  });
});

describe('ERK allocation', () => {
  it('densities ∝ Σshape/Πshape, scaled to the target', () => {
    // n = 20, keep 10: ε = 10 / (1·4 + 0.5·16); zeros 4(1 − ε) ≈ 0.67 → 1 and 16(1 − ε/2) ≈ 9.33 → 9.
    expect(
      erkZeros(
        [
          [2, 2],
          [4, 4],
        ],
        0.5,
      ),
    ).toEqual([1, 9]);
  });

  it('a kernel whose density would pass 1 stays dense and the rest is solved again', () => {
    // [1, 2]: 1.5 per weight → density 1.23 at ε = 9/11: dense; then ε = 7/8 for [4, 4] keeps 7 of 16.
    expect(
      erkZeros(
        [
          [1, 2],
          [4, 4],
        ],
        0.5,
      ),
    ).toEqual([0, 9]);
  });
});
