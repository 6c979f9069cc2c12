/** The compress chooser and Pareto front on hand-made numbers (the rule, checked by hand). */
import { describe, it, expect } from 'vitest';
import { chooseVariant, paretoFront, dropPoints, type VariantMeasure } from '../../src/compress/choose.js';

const v = (name: string, accuracy: number, bytes: number, latencyMs: number): VariantMeasure => ({
  name,
  accuracy,
  balancedAccuracy: accuracy,
  bytes,
  latencyMs,
});

const original = v('original', 0.66, 1000, 10);
const variants = [
  v('a', 0.658, 400, 9), // drop 0.2
  v('b', 0.652, 200, 8), // drop 0.8
  v('c', 0.64, 100, 5), // drop 2.0: outside a 1-point budget
  v('d', 0.655, 300, 7.5), // drop 0.5
];

describe('chooseVariant', () => {
  it('size: the smallest file within the budget', () => {
    expect(chooseVariant(original, variants, 'size', 1).chosen.name).toBe('b');
    expect(chooseVariant(original, variants, 'size', 2).chosen.name).toBe('c');
    expect(chooseVariant(original, variants, 'size', 0.3).chosen.name).toBe('a');
  });

  it('latency: the fastest within the budget', () => {
    expect(chooseVariant(original, variants, 'latency', 1).chosen.name).toBe('d');
    expect(chooseVariant(original, variants, 'latency', 0.6).chosen.name).toBe('d');
    expect(chooseVariant(original, variants, 'latency', 0.4).chosen.name).toBe('a');
  });

  it('keeps the original when nothing is within the budget, and counts a gain as no drop', () => {
    const r = chooseVariant(original, [v('x', 0.5, 10, 1)], 'size', 1);
    expect(r.chosen.name).toBe('original');
    expect(r.reason).toMatch(/original is kept/);
    expect(chooseVariant(original, [v('better', 0.7, 900, 11)], 'size', 0).chosen.name).toBe('better');
    expect(dropPoints(v('y', 0.65, 1, 1), original)).toBeCloseTo(1, 9);
  });

  it('breaks a cost tie toward accuracy, and never picks an unmeasured latency', () => {
    const tie = [v('lo', 0.655, 300, 7), v('hi', 0.659, 300, 7)];
    expect(chooseVariant(original, tie, 'size', 1).chosen.name).toBe('hi');
    const noBench = { ...v('nb', 0.66, 10, 0), latencyMs: undefined };
    expect(chooseVariant(original, [noBench], 'latency', 1).chosen.name).toBe('original');
  });
});

it("size: a sparse file is smaller only gzip'd, and that is what counts when measured", () => {
  const dense = { ...v('int8', 0.659, 250, 9), gzipBytes: 220 };
  const sparse = { ...v('prune80-int8', 0.655, 250, 9), gzipBytes: 90 };
  expect(chooseVariant(original, [dense, sparse], 'size', 1).chosen.name).toBe('prune80-int8');
  expect(chooseVariant(original, [dense, { ...sparse, gzipBytes: undefined }], 'size', 1).chosen.name).toBe('int8');
});

describe('paretoFront', () => {
  it('keeps the variants nothing beats on both cost and accuracy, cheapest first', () => {
    const all = [original, ...variants, v('dominated', 0.65, 500, 9.5)];
    expect(paretoFront(all, 'size').map((x) => x.name)).toEqual(['c', 'b', 'd', 'a', 'original']);
    // latency: d (7.5 ms, 65.5%) beats b (8 ms, 65.2%).
    expect(paretoFront(all, 'latency').map((x) => x.name)).toEqual(['c', 'd', 'a', 'original']);
  });

  it('keeps one of two identical points', () => {
    expect(paretoFront([v('p', 0.6, 10, 1), v('q', 0.6, 10, 1)], 'size').map((x) => x.name)).toEqual(['p']);
  });
});
