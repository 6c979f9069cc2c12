import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import { im2col, NormalEquations, solveSpd, type Rows } from '../../src/prune/reconstruct.js';
import { randomArray } from '../helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('im2col against tf.conv2d', () => {
  for (const [padding, stride, h] of [
    ['same', 1, 7],
    ['same', 2, 7],
    ['same', 2, 8],
    ['valid', 1, 7],
    ['valid', 2, 9],
  ] as const) {
    it(`${padding}, stride ${stride}, ${h}×${h}`, () => {
      const xs = randomArray(2 * h * h * 3, 1, 1),
        ks = randomArray(3 * 3 * 3 * 4, 2, 1);
      const ref = tf.conv2d(tf.tensor4d(xs, [2, h, h, 3]), tf.tensor4d(ks, [3, 3, 3, 4]), stride, padding);
      const p = im2col(xs, [2, h, h, 3], { kernel: [3, 3], strides: [stride, stride], padding });
      expect(p.m).toBe(ref.shape[0] * ref.shape[1] * ref.shape[2]);
      const want = ref.dataSync();
      let err = 0;
      for (let r = 0; r < p.m; r++)
        for (let o = 0; o < 4; o++) {
          let v = 0;
          for (let i = 0; i < p.k; i++) v += p.data[r * p.k + i] * ks[i * 4 + o];
          err = Math.max(err, Math.abs(v - want[r * 4 + o]));
        }
      expect(err).toBeLessThan(1e-5);
    });
  }
});

/** Rows of a k-column matrix from a flat array. */
const rows = (data: ArrayLike<number>, k: number): Rows => ({ data: Float32Array.from(data), m: data.length / k, k });

describe('masked least squares', () => {
  it('solveSpd solves a hand-made system', () => {
    // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0]
    const x = solveSpd(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2);
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
  });

  it('with nothing pruned and the same inputs, the fit is the dense weights whatever the damping', () => {
    const k = 5,
      x = rows(randomArray(40 * k, 3, 1), k);
    const w = [0.3, -1.2, 0.7, 0.05, 2];
    const eq = new NormalEquations(k, 1);
    eq.add(x, x, w);
    eq.symmetrize();
    for (const damping of [0, 0.1]) {
      const fit = eq.fit(0, w, () => true, damping);
      w.forEach((v, i) => expect(fit[i]).toBeCloseTo(v, 6));
      expect(eq.error(fit, 0)).toBeLessThan(1e-8);
    }
  });

  it('with a weight pruned, the kept ones absorb its correlated part (normal equations hold)', () => {
    // Column 1 = column 0 + small noise: pruning w1 is repaired by moving its weight onto w0.
    const m = 200,
      k = 3;
    const noise = randomArray(m, 4, 0.05),
      base = randomArray(m * 2, 5, 1);
    const data = new Float32Array(m * k);
    for (let r = 0; r < m; r++) {
      data[r * k] = base[r];
      data[r * k + 1] = base[r] + noise[r];
      data[r * k + 2] = base[m + r];
    }
    const x = rows(data, k);
    const w = [1, 1, 0.5];
    const eq = new NormalEquations(k, 1);
    eq.add(x, x, w);
    eq.symmetrize();
    const fit = eq.fit(0, w, (i) => i !== 1, 0);
    expect(fit[1]).toBe(0);
    expect(fit[0]).toBeGreaterThan(1.9);
    expect(fit[0]).toBeLessThan(2.1);
    // Gradient zero on the kept coordinates: (XᵀX ŵ − XᵀX w)_i = 0 for i ∈ {0, 2}, computed from the rows.
    for (const i of [0, 2]) {
      let gr = 0;
      for (let r = 0; r < m; r++) {
        let res = 0;
        for (let j = 0; j < k; j++) res += data[r * k + j] * (fit[j] - w[j]);
        gr += data[r * k + i] * res;
      }
      expect(Math.abs(gr)).toBeLessThan(1e-3);
    }
    // And the error it reports is the residual computed directly.
    let direct = 0;
    for (let r = 0; r < m; r++) {
      let res = 0;
      for (let j = 0; j < k; j++) res += data[r * k + j] * (fit[j] - w[j]);
      direct += res * res;
    }
    expect(eq.error(fit, 0)).toBeCloseTo(direct, 3);
  });
});
