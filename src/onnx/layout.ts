/** tfjs → ONNX weight layouts, 'same'/'valid' padding, batch-norm folding, and denormal weights flushed to zero. */

/** [kh, kw, ic, oc] → OIHW. */
export function convKernelToOihw(k: Float32Array, [kh, kw, ic, oc]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < ic; i++) for (let o = 0; o < oc; o++) out[((o * ic + i) * kh + h) * kw + w] = k[((h * kw + w) * ic + i) * oc + o];
  return out;
}

/** Depthwise [kh, kw, c, mult] → [c·mult, 1, kh, kw] (output channel c·mult + m, as tfjs orders them). */
export function depthwiseKernelToOihw(k: Float32Array, [kh, kw, c, mult]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let ch = 0; ch < c; ch++)
        for (let m = 0; m < mult; m++) out[((ch * mult + m) * kh + h) * kw + w] = k[((h * kw + w) * c + ch) * mult + m];
  return out;
}

/** ONNX pads [top, left, bottom, right] for tfjs padding on a known input size (TF's convention). */
export function padsFor(
  padding: string,
  [ih, iw]: [number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [dh, dw]: [number, number] = [1, 1],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new Error(`unsupported padding "${padding}"`);
  const ekh = (kh - 1) * dh + 1,
    ekw = (kw - 1) * dw + 1;
  const oh = Math.ceil(ih / sh),
    ow = Math.ceil(iw / sw);
  const th = Math.max((oh - 1) * sh + ekh - ih, 0),
    tw = Math.max((ow - 1) * sw + ekw - iw, 0);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

export interface BatchNormParams {
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** float32's smallest normal number. */
export const FLT_MIN = 2 ** -126; // 1.1754944e-38

/** A number below float32's smallest normal in magnitude, a zero of either sign included, as +0. */
export const flushTiny = (x: number): number => (Math.abs(x) < FLT_MIN ? 0 : x);

/**
 * A weight array with every value below float32's smallest normal (denormals, -0) written as +0.
 *
 * Denormal weights (long-dead channels decay into them under L2) are numerically nothing, but x86 multiplies a
 * denormal through a microcode assist, which made inference of a model with 3,444 of them 4× slower. And they
 * must all become the same +0 for an export to be the same bytes in every process: onnxruntime, creating a
 * session with set_denormal_as_zero (runtime/ort.ts), turns on flush-to-zero and denormals-are-zero on the
 * JavaScript thread for good, after which JavaScript reads a float32 denormal as ±0 and stores a tiny result as
 * ±0, where a fresh process reads and stores the denormal. Flushed this way, on reading the model's weights and
 * on writing them, the two give the same values.
 */
export const flushDenormals = (v: Float32Array): Float32Array => v.map(flushTiny);

/**
 * Folds y = γ(conv(x) + b − μ)/√(σ² + ε) + β into the conv's OIHW weights and bias. A product below float32's
 * smallest normal is +0 (flushTiny, computed in float64), not left to the float32 store, which rounds it as the
 * thread's floating-point mode says (see flushDenormals).
 */
export function foldBatchNorm(weight: Float32Array, bias: Float32Array | undefined, outChannels: number, bn: BatchNormParams) {
  const per = weight.length / outChannels;
  const w = new Float32Array(weight.length),
    b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const s = (bn.gamma ? bn.gamma[o] : 1) / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let i = 0; i < per; i++) w[o * per + i] = flushTiny(weight[o * per + i] * s);
    b[o] = flushTiny(((bias ? bias[o] : 0) - bn.mean[o]) * s + (bn.beta ? bn.beta[o] : 0));
  }
  return { weight: w, bias: b };
}
