import { describe, it, expect } from 'vitest';
import { argmaxRows, calibration, computeMetrics, top1Accuracy } from '../../src/eval/metrics.js';

describe('classification metrics on a hand-checked case', () => {
  // 3 classes; true labels and predictions:
  //   true a: predicted a, a, b      true b: predicted b, c      true c: predicted c
  const labels = [0, 0, 0, 1, 1, 2];
  const predicted = [0, 0, 1, 1, 2, 2];
  const m = computeMetrics(labels, predicted, ['a', 'b', 'c']);

  it('counts the confusion matrix with rows = true class', () => {
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.confusionNormalized[0]).toEqual([2 / 3, 1 / 3, 0]);
    expect(m.confusionNormalized[1]).toEqual([0, 0.5, 0.5]);
  });

  it('gives accuracy, precision, recall, F1 and macro-F1', () => {
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    // a: P = 2/2, R = 2/3; b: P = 1/2, R = 1/2; c: P = 1/2, R = 1/1
    expect(m.perClass.map((c) => c.precision)).toEqual([1, 0.5, 0.5]);
    expect(m.perClass.map((c) => c.recall)).toEqual([2 / 3, 0.5, 1]);
    const f1 = [0.8, 0.5, 2 / 3];
    m.perClass.forEach((c, i) => expect(c.f1).toBeCloseTo(f1[i], 12));
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    // balanced accuracy: the mean recall, (2/3 + 1/2 + 1) / 3, not the accuracy 4/6
    expect(m.balancedAccuracy).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 12);
  });

  it('takes the argmax of probability rows', () => {
    const probs = Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6);
    expect(Array.from(argmaxRows(probs, 3))).toEqual([1, 0, 2]);
    expect(top1Accuracy(probs, [1, 1, 2], 3)).toBeCloseTo(2 / 3, 12);
  });
});

describe('expected calibration error on a hand-checked case', () => {
  // 2 classes, 5 bins of 0.2. Top-1 probabilities and whether right:
  //   0.9 right, 0.9 wrong (bin (0.8, 1]: conf 0.9, acc 0.5), 0.7 right (bin (0.6, 0.8]: conf 0.7, acc 1),
  //   0.5 wrong (bin (0.4, 0.6]: the tie goes to class 0, the label is 1: conf 0.5, acc 0)
  const probs = Float32Array.from([0.9, 0.1, 0.1, 0.9, 0.7, 0.3, 0.5, 0.5]);
  const labels = [0, 0, 0, 1];
  const c = calibration(probs, labels, 2, 5);

  it("weighs each bin's |accuracy − confidence| by its share of the images", () => {
    const ece = (2 / 4) * Math.abs(0.5 - 0.9) + (1 / 4) * Math.abs(1 - 0.7) + (1 / 4) * Math.abs(0 - 0.5);
    expect(c.ece).toBeCloseTo(ece, 6);
    expect(c.bins.map((b) => b.count)).toEqual([0, 0, 1, 1, 2]);
    expect(c.bins[4].confidence).toBeCloseTo(0.9, 6);
    expect(c.bins[4].accuracy).toBe(0.5);
  });

  it("is 0 when each bin's accuracy is its confidence", () => {
    // four images at 0.75 of which three are right
    const p = Float32Array.from([0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.25, 0.75]);
    expect(calibration(p, [0, 0, 0, 0], 2).ece).toBeCloseTo(0, 6);
  });
});
