/**
 * Second-order mask selection (prune/least-squares.ts obsQuadratics, obsSelect) against direct least-squares
 * solves (NormalEquations.fit, itself checked against the normal equations in reconstruct.test.ts) and brute force.
 */
import { describe, expect, it } from 'vitest';
import { cholesky, inverseFromCholesky, NormalEquations, obsQuadratics, obsSelect, type Rows } from '../../src/prune/least-squares.js';
import { randomArray } from '../helpers.js';

/** Normal equations of `o` outputs on m random rows of k inputs, correlated (input i mixes in input i−1). */
function problem(m: number, k: number, o: number, seed: number, scale: (i: number) => number = () => 1) {
  const base = randomArray(m * k, seed, 1);
  const data = new Float32Array(m * k);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < k; i++) data[r * k + i] = scale(i) * (base[r * k + i] + (i > 0 ? 0.8 * base[r * k + i - 1] : 0));
  const x: Rows = { data, m, k };
  const w = Array.from(randomArray(k * o, seed + 1, 1));
  const eq = new NormalEquations(k, o);
  eq.add(x, x, w);
  eq.symmetrize();
  return { eq, w };
}

describe('inverse by Cholesky', () => {
  it('H⁻¹ H = I on a random symmetric positive-definite matrix', () => {
    const { eq } = problem(50, 7, 1, 3);
    const k = 7,
      inv = inverseFromCholesky(cholesky(eq.g, k), k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += inv[i * k + q] * eq.g[q * k + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
  });
});

describe('OBS quadratics and selection', () => {
  it('w* is the unconstrained refit, and U is the upper Cholesky factor of H⁻¹', () => {
    const { eq, w } = problem(60, 6, 2, 5);
    const { hInv, u, wStar } = obsQuadratics(eq, w, 0.05);
    for (let j = 0; j < 2; j++) {
      const fit = eq.fit(j, w, () => true, 0.05);
      fit.forEach((v, i) => expect(wStar[j][i]).toBeCloseTo(v, 9));
    }
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++) {
        if (i > j) expect(u[i * 6 + j]).toBe(0);
        let s = 0;
        for (let q = 0; q < 6; q++) s += u[q * 6 + i] * u[q * 6 + j];
        expect(s).toBeCloseTo(hInv[i * 6 + j], 9);
      }
  });

  it("'obs' prunes the weight whose removal (with the others refitted) costs least: brute force over every weight", () => {
    const k = 6,
      o = 3;
    // Inputs of unequal scale: a small weight on a large input matters more than its |w| says.
    const { eq, w } = problem(80, k, o, 7, (i) => [1, 1, 10, 0.5, 1, 1][i]);
    const { hInv, u, wStar } = obsQuadratics(eq, w, 0);
    const { mask } = obsSelect(
      k,
      o,
      (j) => ({ hInv, u, wStar: wStar[j] }),
      1,
      () => true,
      'obs',
    );
    // The error each single removal adds, by a direct solve with that weight held at zero.
    const cost = (i: number, j: number) =>
      eq.error(
        eq.fit(j, w, (t) => t !== i, 0),
        j,
      ) -
      eq.error(
        eq.fit(j, w, () => true, 0),
        j,
      );
    let best: [number, number] = [0, 0];
    for (let i = 0; i < k; i++) for (let j = 0; j < o; j++) if (cost(i, j) < cost(...best)) best = [i, j];
    expect([...mask].filter((v) => v === 0).length).toBe(1);
    expect(mask[best[0] * o + best[1]]).toBe(0);
    // The saliency w*²/[H⁻¹]ᵢᵢ is that cost (OBS is exact for one removal).
    const [bi, bj] = best;
    expect(wStar[bj][bi] ** 2 / hInv[bi * k + bi]).toBeCloseTo(cost(bi, bj), 4);
    // And it is not the smallest |w*| here (else this test would not tell the two criteria apart).
    let small: [number, number] = [0, 0];
    for (let i = 0; i < k; i++) for (let j = 0; j < o; j++) if (Math.abs(wStar[j][i]) < Math.abs(wStar[small[1]][small[0]])) small = [i, j];
    expect(small).not.toEqual(best);
  });

  it("'sparsegpt': removing the first inputs one by one with OBS updates gives the least-squares solve with that mask", () => {
    // The first two inputs carry tiny weights, so the sequential selection takes them; with every pruned input
    // before every kept one, the sequential updates reach all the kept weights and are exact.
    const k = 6;
    const { eq, w } = problem(80, k, 1, 11);
    const { hInv, u, wStar } = obsQuadratics(eq, w, 0.01);
    const star = Float64Array.from(wStar[0]);
    star[0] = 1e-3;
    star[1] = -2e-3;
    const { mask, weights } = obsSelect(
      k,
      1,
      () => ({ hInv, u, wStar: star }),
      2,
      () => true,
      'sparsegpt',
      k,
    );
    expect([...mask]).toEqual([0, 0, 1, 1, 1, 1]);
    // The reference: minimise (v − w*)ᵀH(v − w*) with v₀ = v₁ = 0, by a direct solve of the kept block:
    // H_SS v_S = H_S· w*  (H = G + λI, λ as obsQuadratics damps).
    let diag = 0;
    for (let i = 0; i < k; i++) diag += eq.g[i * k + i];
    const lambda = (0.01 * diag) / k;
    const h = (i: number, j: number) => eq.g[i * k + j] + (i === j ? lambda : 0);
    const s = [2, 3, 4, 5];
    const hs = new NormalEquations(s.length, 1);
    s.forEach((i, p) => s.forEach((j, q) => (hs.g[p * s.length + q] = h(i, j))));
    s.forEach((i, p) => (hs.r[p] = star.reduce((a, v, t) => a + h(i, t) * v, 0)));
    const direct = hs.fit(0, new Float64Array(s.length), () => true, 0);
    expect(weights[0]).toBe(0);
    expect(weights[1]).toBe(0);
    s.forEach((i, p) => expect(weights[i]).toBeCloseTo(direct[p], 8));
  });

  it('prunes exactly the asked number, never an ineligible input, and in blocks keeps each block its share', () => {
    const k = 9,
      o = 4;
    const { eq, w } = problem(100, k, o, 13);
    const { hInv, u, wStar } = obsQuadratics(eq, w, 0.01);
    for (const method of ['obs', 'sparsegpt'] as const) {
      const { mask } = obsSelect(
        k,
        o,
        (j) => ({ hInv, u, wStar: wStar[j] }),
        14,
        (i) => i !== 8,
        method,
        4,
      );
      expect([...mask].filter((v) => v === 0).length).toBe(14);
      for (let j = 0; j < o; j++) expect(mask[8 * o + j]).toBe(1);
      if (method === 'sparsegpt') {
        // Eligible inputs 0..7 in blocks 0..3 and 4..7: 7 zeros each (round(14·4/8) = 7).
        const zerosIn = (a: number, b: number) =>
          [...mask].filter((v, t) => v === 0 && Math.floor(t / o) >= a && Math.floor(t / o) < b).length;
        expect(zerosIn(0, 4)).toBe(7);
        expect(zerosIn(4, 8)).toBe(7);
      }
    }
  });
});
