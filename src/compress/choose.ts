/**
 * `fer compress`'s choice among measured variants (pure: no files, no models): the Pareto front of accuracy
 * against the target's cost, and the fastest or smallest variant within the accuracy budget.
 */
export const COMPRESS_TARGETS = ['latency', 'size'] as const;
export type CompressTarget = (typeof COMPRESS_TARGETS)[number];

/** One variant's measured numbers (accuracy on --val from its ONNX export; bench numbers from one interleaved run). */
export interface VariantMeasure {
  name: string;
  /** Top-1 accuracy, 0..1. */
  accuracy: number;
  /** Mean per-class recall, 0..1. */
  balancedAccuracy: number;
  /** The ONNX file's bytes. */
  bytes: number;
  gzipBytes?: number;
  /** p50 latency at batch 1 (ms). */
  latencyMs?: number;
  /** Images/s at batch 64. */
  throughput?: number;
}

/**
 * What a variant costs for the target (lower is better): p50 batch-1 latency, or the ONNX file's gzip'd bytes
 * when measured (else its bytes). The ONNX writer stores every tensor dense, so pruning leaves the raw file's
 * size as it was: the zeros count only in what is shipped compressed.
 */
export function cost(v: VariantMeasure, target: CompressTarget): number {
  return target === 'size' ? (v.gzipBytes ?? v.bytes) : (v.latencyMs ?? Infinity);
}

/** Accuracy drop of `v` against `original`, in points (percentage points; negative when `v` is better). */
export const dropPoints = (v: VariantMeasure, original: VariantMeasure) => (original.accuracy - v.accuracy) * 100;

/**
 * The variants no other beats on both cost and accuracy (at least as good on both, better on one), cheapest
 * first. Ties (same cost, same accuracy) keep the first.
 */
export function paretoFront<T extends VariantMeasure>(variants: T[], target: CompressTarget): T[] {
  const dominated = (v: T, i: number) =>
    variants.some((w, j) => {
      if (j === i) return false;
      const cw = cost(w, target),
        cv = cost(v, target);
      const noWorse = cw <= cv && w.accuracy >= v.accuracy;
      const better = cw < cv || w.accuracy > v.accuracy;
      return noWorse && (better || j < i);
    });
  const front = variants.filter((v, i) => !dominated(v, i)); // a new array: sorted in place
  front.sort((a, b) => cost(a, target) - cost(b, target));
  return front;
}

export interface Choice<T> {
  chosen: T;
  /** Why: the rule and the numbers it compared. */
  reason: string;
}

/**
 * The cheapest variant (target `latency`: lowest p50 batch-1 latency; `size`: fewest ONNX bytes) whose accuracy
 * is at most `maxDrop` points below `original`'s; ties go to the more accurate. The original is a candidate too,
 * so there is always a choice: it is returned when no compressed variant keeps within the budget.
 */
export function chooseVariant<T extends VariantMeasure>(original: T, variants: T[], target: CompressTarget, maxDrop: number): Choice<T> {
  const within = [original, ...variants].filter((v) => dropPoints(v, original) <= maxDrop + 1e-9 && Number.isFinite(cost(v, target)));
  within.sort((a, b) => cost(a, target) - cost(b, target) || b.accuracy - a.accuracy);
  const chosen = within[0] ?? original;
  const what = target === 'size' ? "smallest gzip'd ONNX file" : 'lowest p50 latency at batch 1';
  const reason =
    chosen === original
      ? `no variant within ${maxDrop} point(s) of the original's accuracy is cheaper: the original is kept`
      : `${what} among the ${within.length - (within.includes(original) ? 1 : 0)} variant(s) within ${maxDrop} point(s) of the original (drop ${dropPoints(chosen, original).toFixed(2)})`;
  return { chosen, reason };
}
