/** Classification metrics: confusion matrix (rows = true class), accuracy, per-class precision/recall/F1. */
import { argmaxRows } from '../util/argmax.js';

export { argmaxRows };
export interface ClassMetrics {
  name: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalMetrics {
  n: number;
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** counts[true][predicted] */
  confusion: number[][];
  /** Row-normalized confusion (the paper's Table II). */
  confusionNormalized: number[][];
}

/** Fraction of rows of `probs` whose argmax is the label. */
export function top1Accuracy(probs: Float32Array, labels: ArrayLike<number>, k: number): number {
  const pred = argmaxRows(probs, k);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
  return pred.length ? correct / pred.length : 0;
}

export function computeMetrics(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: readonly string[]): EvalMetrics {
  const k = classes.length;
  const confusion = classes.map(() => Array.from({ length: k }, () => 0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]][predicted[i]]++;
  const perClass = classes.map((name, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedC = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedC ? tp / predictedC : 0,
      recall = support ? tp / support : 0;
    return { name, support, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  });
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const present = perClass.filter((c) => c.support > 0);
  return {
    n: labels.length,
    accuracy: labels.length ? correct / labels.length : 0,
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : 0,
    perClass,
    confusion,
    confusionNormalized: confusion.map((row) => {
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((v) => (s ? v / s : 0));
    }),
  };
}
