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
  /** Mean per-class recall over the classes present: the accuracy at a uniform class prior. */
  balancedAccuracy: number;
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
    balancedAccuracy: present.length ? present.reduce((a, c) => a + c.recall, 0) / present.length : 0,
    macroF1: present.length ? present.reduce((a, c) => a + c.f1, 0) / present.length : 0,
    perClass,
    confusion,
    confusionNormalized: confusion.map((row) => {
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((v) => (s ? v / s : 0));
    }),
  };
}

/** One confidence bin of a reliability diagram: its images' mean top-1 probability and their accuracy. */
export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  confidence: number;
  accuracy: number;
}

export interface Calibration {
  /** Expected calibration error: Σ_bins (count / n) · |accuracy − confidence|, over equal-width bins of top-1 probability. */
  ece: number;
  bins: CalibrationBin[];
}

/** How far top-1 probabilities are from the accuracy they claim (Guo et al. 2017's ECE, `bins` equal-width bins). */
export function calibration(probs: Float32Array, labels: ArrayLike<number>, k: number, bins = 15): Calibration {
  const n = labels.length;
  const count = new Float64Array(bins),
    conf = new Float64Array(bins),
    hits = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    const p = probs[i * k + best];
    // Bin b holds (b/bins, (b+1)/bins]; 0 goes to the first.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(p * bins) - 1));
    count[b]++;
    conf[b] += p;
    if (best === labels[i]) hits[b]++;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const m = count[b];
    const row = { lo: b / bins, hi: (b + 1) / bins, count: m, confidence: m ? conf[b] / m : 0, accuracy: m ? hits[b] / m : 0 };
    if (m) ece += (m / n) * Math.abs(row.accuracy - row.confidence);
    out.push(row);
  }
  return { ece, bins: out };
}
