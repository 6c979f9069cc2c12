/**
 * Symmetric uniform quantization, the paper's eqs. (2)–(4): for b bits, q_max = 2^(b-1) − 1,
 * scale s = q_max / max|W| (eq. 2), q = round(s·w) clipped to [−q_max, q_max] (eq. 3), ŵ = q / s (eq. 4).
 * Zero point 0 (what TensorRT needs). Fig. 6: max|W| = 11.05 → 11.05 ↦ 127, 8.92 ↦ 103, −0.66 ↦ −8.
 * Per tensor (the paper) or per output channel, where channel c of a flat tfjs kernel is index % channels.
 */
export type Granularity = 'per-tensor' | 'per-channel';

export interface Quantized {
  q: Int8Array;
  /** Multiply q by 1/scale to dequantize; one scale, or one per channel. */
  scales: Float32Array;
  bits: number;
  channels: number;
}

export function qmax(bits: number): number {
  if (!(Number.isInteger(bits) && bits >= 2 && bits <= 8)) throw new RangeError(`quantize: bits must be 2..8, got ${bits}`);
  return 2 ** (bits - 1) - 1;
}

/** Rounds half away from zero (Fig. 6's 102.5… ↦ 103 either way; ties are explicit). */
const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

export function quantize(values: Float32Array, bits: number, granularity: Granularity = 'per-tensor', channels = 1): Quantized {
  const m = qmax(bits);
  const nc = granularity === 'per-channel' ? channels : 1;
  const maxAbs = new Float32Array(nc);
  for (let i = 0; i < values.length; i++) {
    const c = i % nc,
      a = Math.abs(values[i]);
    if (a > maxAbs[c]) maxAbs[c] = a;
  }
  // Scales are applied in double precision (q = round(w · q_max / max|W|) exactly), stored as float32.
  const exact = Array.from(maxAbs, (a) => (a > 0 ? m / a : 1));
  const scales = Float32Array.from(exact);
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = roundHalfAway(values[i] * exact[i % nc]);
    q[i] = v > m ? m : v < -m ? -m : v;
  }
  return { q, scales, bits, channels: nc };
}

export function dequantize({ q, scales }: Quantized): Float32Array {
  const nc = scales.length;
  return Float32Array.from(q, (v, i) => v / scales[i % nc]);
}

/** quantize → dequantize in one go (fake quantization for QAT and for evaluating a quantized model). */
export function fakeQuantize(values: Float32Array, bits: number, granularity: Granularity = 'per-tensor', channels = 1): Float32Array {
  return dequantize(quantize(values, bits, granularity, channels));
}

// IEEE 754 half precision, for --bits 16 and the fp16 ONNX export.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even, with subnormals, infinities and NaN. */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1),
      mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f,
    mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function toFloat16(values: Float32Array): Uint16Array {
  return Uint16Array.from(values, toFloat16Bits);
}

export function roundTripFloat16(values: Float32Array): Float32Array {
  return Float32Array.from(values, (v) => fromFloat16Bits(toFloat16Bits(v)));
}

/** Activation ranges per tensor (quantize/calibrate.ts): max |x| and the 99.99th percentile of |x| over `images`. */
export interface Calibration {
  images: number;
  maxAbs: Record<string, number>;
  percentile: Record<string, number>;
}
