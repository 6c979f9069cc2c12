/** Shared test helpers: numeric comparison that checks shape first and names the first bad index. */
import { expect } from 'vitest';

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4, label = '' } = {}): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = 0,
    worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - rtol * Math.abs(expected[i]);
    if (!(err <= atol)) {
      if (Number.isNaN(err) || err > worst) {
        worst = Number.isNaN(err) ? Infinity : err;
        worstAt = i;
      }
    }
  }
  if (worstAt >= 0) {
    expect.fail(
      `${label} first worst mismatch at [${worstAt}]: got ${actual[worstAt]}, expected ${expected[worstAt]} ` +
        `(atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Deterministic pseudo-random floats (mulberry32), so failures reproduce. */
export function randomArray(n: number, seed = 1, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
