import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FER2013_TRAIN_COUNTS,
  accuracyAtPrior,
  frequencies,
  onnxRecordedPrior,
  priorFromWeights,
  priorShift,
  resolvePrior,
  shiftPrior,
  trainedPrior,
} from '../../src/data/prior.js';
import { CLASSES } from '../../src/data/classes.js';
import { UsageError } from '../../src/errors.js';

const ABC = ['a', 'b', 'c'];

describe('class priors from what a user writes', () => {
  it('normalizes weights that name every class', () => {
    expect([...priorFromWeights({ a: 1, b: 1, c: 2 }, ABC)]).toEqual([0.25, 0.25, 0.5]);
  });

  it('shares what fractions leave among the classes left out', () => {
    const p = resolvePrior('a=0.5, c=0.1', ABC)!;
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[1]).toBeCloseTo(0.4, 12);
    expect(p[2]).toBeCloseTo(0.1, 12);
  });

  it('reads uniform, train (no change) and a JSON file', () => {
    expect([...resolvePrior('uniform', ABC)!]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(resolvePrior('train', ABC)).toBeNull();
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-prior-')), 'p.json');
    writeFileSync(f, JSON.stringify({ a: 3, b: 1, c: 0 + 4 }));
    expect([...resolvePrior(f, ABC)!]).toEqual([3 / 8, 1 / 8, 4 / 8]);
  });

  it('skips empty entries, splits at the last =, and refuses a class given twice or a file naming none', () => {
    expect([...resolvePrior('a=1, b=1, c=2,', ABC)!]).toEqual([0.25, 0.25, 0.5]);
    expect(() => resolvePrior('a=b=0.3', ABC)).toThrow(/a=b not among/);
    expect(() => resolvePrior('a=0.2,a=0.3', ABC)).toThrow(/a is given twice/);
    expect(() => resolvePrior('=0.2', ABC)).toThrow(/names no class/);
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-prior-')), 'empty.json');
    writeFileSync(f, '{}');
    expect(() => resolvePrior(f, ABC)).toThrow(/names no class/);
  });

  it('refuses unknown classes, a zero prior, weights over 1 with classes left out, and non-numbers', () => {
    expect(() => resolvePrior('d=0.5', ABC)).toThrow(/d not among/);
    expect(() => resolvePrior('a=1,b=0,c=1', ABC)).toThrow(/b would never be predicted/);
    expect(() => resolvePrior('a=2', ABC)).toThrow(UsageError);
    expect(() => resolvePrior('a=x', ABC)).toThrow(/not a weight/);
    expect(() => resolvePrior('happy', ABC)).toThrow(/expected train, uniform/);
    expect(() => resolvePrior('/nonexistent/p.json', ABC)).toThrow(/no such file/);
  });
});

describe('moving probabilities to another prior', () => {
  it('matches a hand computation', () => {
    // p = (0.5, 0.5) at prior (0.8, 0.2), moved to (0.5, 0.5): ∝ (0.5·0.625, 0.5·2.5) = (0.3125, 1.25) → (0.2, 0.8)
    const out = shiftPrior(Float32Array.from([0.5, 0.5]), 2, [0.8, 0.2], [0.5, 0.5]);
    expect(out[0]).toBeCloseTo(0.2, 6);
    expect(out[1]).toBeCloseTo(0.8, 6);
  });

  it('gives the exact posterior at the new prior (Bayes with known likelihoods)', () => {
    // Three classes with fixed likelihoods of four observations: the posterior at prior π is ∝ π_c · L(x|c).
    const L = [
      [0.5, 0.2, 0.2, 0.1],
      [0.1, 0.6, 0.2, 0.1],
      [0.25, 0.25, 0.25, 0.25],
    ];
    const posterior = (pi: number[], x: number) => {
      const u = pi.map((p, c) => p * L[c][x]);
      const s = u.reduce((a, b) => a + b, 0);
      return u.map((v) => v / s);
    };
    const piA = [0.7, 0.2, 0.1],
      piB = [0.1, 0.3, 0.6];
    const atA = Float32Array.from([0, 1, 2, 3].flatMap((x) => posterior(piA, x)));
    const moved = shiftPrior(atA, 3, piA, piB);
    const atB = [0, 1, 2, 3].flatMap((x) => posterior(piB, x));
    atB.forEach((v, i) => expect(moved[i]).toBeCloseTo(v, 6));
  });

  it('round-trips and leaves rows summing to 1', () => {
    const p = Float32Array.from([0.1, 0.6, 0.3, 0.7, 0.2, 0.1]);
    const there = shiftPrior(p, 3, [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]);
    expect(there[0] + there[1] + there[2]).toBeCloseTo(1, 6);
    const back = shiftPrior(there, 3, [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]);
    p.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 6));
  });
});

describe('the prior a model was trained at', () => {
  it("is FER2013 Training's for the seven FER2013 classes that record none", () => {
    const p = trainedPrior(CLASSES)!;
    expect(p[CLASSES.indexOf('happy')]).toBeCloseTo(7215 / 28709, 9);
    expect(p[CLASSES.indexOf('disgust')]).toBeCloseTo(436 / 28709, 9);
    expect(Object.values(FER2013_TRAIN_COUNTS).reduce((a, b) => a + b, 0)).toBe(28709);
  });

  it('is the recorded one when there is one, and unknown for other classes without', () => {
    const rec = frequencies([1, 3, 4], ABC);
    expect(rec).toEqual({ a: 0.125, b: 0.375, c: 0.5 });
    // label smoothing s mixes each target with the uniform share: the learnt prior is (1 − s)·n_c/n + s/k
    const smoothed = frequencies([1, 3, 4], ABC, 0.3);
    expect(smoothed.a).toBeCloseTo(0.7 * 0.125 + 0.1, 6);
    expect(smoothed.c).toBeCloseTo(0.7 * 0.5 + 0.1, 6);
    // a record that gives a class 0, or is no set of weights, counts as none (never an error at load)
    expect(trainedPrior(ABC, { a: 0.5, b: 0.5, c: 0 })).toBeNull();
    expect(trainedPrior(ABC, { a: 0.5, b: 'x' as unknown as number, c: 0.5 })).toBeNull();
    expect(trainedPrior(['constructor', 'b'], { b: 1 })).toBeNull();
    expect([...trainedPrior(ABC, rec)!]).toEqual([0.125, 0.375, 0.5]);
    expect(trainedPrior(ABC)).toBeNull();
    expect(onnxRecordedPrior({ train_prior: JSON.stringify(rec) })).toEqual(rec);
    expect(onnxRecordedPrior({ train_prior: 'not json' })).toBeUndefined();
    expect(() => priorShift('uniform', ABC, () => null, 'm.onnx')).toThrow(/records no training prior/);
    expect(priorShift('train', ABC, () => null, 'm.onnx')).toBeUndefined();
  });

  it('weighs per-class recalls into the accuracy expected at a prior (uniform: balanced accuracy)', () => {
    expect(accuracyAtPrior([0.9, 0.5, 0.4], [1 / 3, 1 / 3, 1 / 3])).toBeCloseTo(0.6, 12);
    expect(accuracyAtPrior([0.9, 0.5, 0.4], [0.5, 0.5, 0])).toBeCloseTo(0.7, 12);
  });
});
