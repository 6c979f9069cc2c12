/**
 * The regularizers of the strong FER2013 recipes (issue #23), as pure functions on the batch arrays the
 * training loop builds, each seeded from (seed, epoch, batch) like the augmentations so that a resumed run
 * replays them exactly:
 *   - mixup (Zhang et al. 2018): x = λ·x_i + (1 − λ)·x_j, y likewise, λ ~ Beta(α, α);
 *   - cutmix (Yun et al. 2019): a box of x_j pasted into x_i, y mixed by the box's share of the image;
 *   - random erasing (Zhong et al. 2020): a random rectangle of an image replaced by noise;
 *   - an exponential moving average of the weights (EMA), validated and saved instead of the raw weights.
 */
import { IMAGE_SIZE } from '../data/classes.js';
import type { Rng } from '../util/rng.js';

const S = IMAGE_SIZE;
const P = S * S;

export interface MixResult {
  kind: 'none' | 'mixup' | 'cutmix';
  /** Weight of each image's own label (1 − lam goes to its partner's). */
  lam: number;
  /** Partner of image i: images are mixed with the batch in reverse order (i ↔ n − 1 − i). */
  partner: (i: number) => number;
}

/**
 * Mixes a batch in place: images x [n × 48 × 48] and one or more label arrays [n × k] (one-hot, smoothed or a
 * teacher's soft targets). With both α > 0, a batch takes mixup or cutmix with equal odds; `prob` is the
 * share of batches mixed at all. Returns what it did (λ after cutmix's box is clipped to the image).
 */
export function mixBatch(
  x: Float32Array,
  labels: Float32Array[],
  n: number,
  o: { mixup: number; cutmix: number; prob: number },
  rng: Rng,
): MixResult {
  const partner = (i: number) => n - 1 - i;
  const none: MixResult = { kind: 'none', lam: 1, partner };
  if ((o.mixup <= 0 && o.cutmix <= 0) || n < 2 || rng.next() >= o.prob) return none;
  const kind = o.mixup > 0 && (o.cutmix <= 0 || rng.next() < 0.5) ? 'mixup' : 'cutmix';
  const alpha = kind === 'mixup' ? o.mixup : o.cutmix;
  let lam = rng.beta(alpha, alpha);
  const src = x.slice(0, n * P);
  if (kind === 'mixup') {
    for (let i = 0; i < n; i++) {
      const a = i * P,
        b = partner(i) * P;
      for (let p = 0; p < P; p++) x[a + p] = lam * src[a + p] + (1 - lam) * src[b + p];
    }
  } else {
    const box = cutBox(lam, rng);
    lam = 1 - (box.w * box.h) / P; // the pasted share, after clipping
    for (let i = 0; i < n; i++) {
      const a = i * P,
        b = partner(i) * P;
      for (let yy = box.y; yy < box.y + box.h; yy++)
        for (let xx = box.x; xx < box.x + box.w; xx++) x[a + yy * S + xx] = src[b + yy * S + xx];
    }
  }
  for (const y of labels) {
    const k = y.length / n,
      orig = y.slice();
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) y[i * k + c] = lam * orig[i * k + c] + (1 - lam) * orig[partner(i) * k + c];
  }
  return { kind, lam, partner };
}

/** CutMix's box: side ratio √(1 − λ), centred uniformly at random, clipped to the image. */
export function cutBox(lam: number, rng: Rng): { x: number; y: number; w: number; h: number } {
  const r = Math.sqrt(1 - lam);
  const cw = Math.round(S * r),
    ch = Math.round(S * r);
  const cx = rng.int(S),
    cy = rng.int(S);
  const x0 = Math.max(0, cx - (cw >> 1)),
    y0 = Math.max(0, cy - (ch >> 1));
  const x1 = Math.min(S, cx - (cw >> 1) + cw),
    y1 = Math.min(S, cy - (ch >> 1) + ch);
  return { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
}

/**
 * Random erasing: each image, with probability `prob`, gets one rectangle (2–33% of its area, aspect ratio
 * 0.3–3.3, log-uniform) replaced by uniform noise in the network's input range [−1, 1]. In place.
 * Returns the rectangles erased (for tests).
 */
export function eraseBatch(
  x: Float32Array,
  n: number,
  prob: number,
  rng: Rng,
): { image: number; x: number; y: number; w: number; h: number }[] {
  const erased: { image: number; x: number; y: number; w: number; h: number }[] = [];
  if (prob <= 0) return erased;
  for (let i = 0; i < n; i++) {
    if (rng.next() >= prob) continue;
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = rng.uniform(0.02, 0.33) * P;
      const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(1 / 0.3)));
      const h = Math.round(Math.sqrt(area * aspect)),
        w = Math.round(Math.sqrt(area / aspect));
      if (w < 1 || h < 1 || w >= S || h >= S) continue;
      const x0 = rng.int(S - w + 1),
        y0 = rng.int(S - h + 1);
      for (let yy = y0; yy < y0 + h; yy++) for (let xx = x0; xx < x0 + w; xx++) x[i * P + yy * S + xx] = rng.uniform(-1, 1);
      erased.push({ image: i, x: x0, y: y0, w, h });
      break;
    }
  }
  return erased;
}

/**
 * The EMA's decay at update `step` (0-based): `decay`, but no more than (1 + t)/(10 + t) early on, so the
 * average is not dominated by the random initial weights (TensorFlow's ExponentialMovingAverage num_updates).
 */
export function emaDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/** ema ← d·ema + (1 − d)·w, element-wise, in place. */
export function emaUpdate(ema: Float32Array, w: ArrayLike<number>, d: number): void {
  for (let i = 0; i < ema.length; i++) ema[i] = d * ema[i] + (1 - d) * w[i];
}
