/**
 * fer's fused batch normalization with batch statistics, the training path of every BatchNormalization
 * layer: one kernel computes y, the batch mean and the (biased) variance; one kernel computes dx, dgamma
 * and dbeta in two passes. tfjs instead composes moments() + batchNorm(), whose gradient tiles channel
 * vectors to full activations and runs a dozen full-size element-wise ops.
 *
 * JavaScript implementations here serve `cpu` and `wasm`; `fer-native` overrides them natively.
 */
import { tf } from '../tf.js';
import type { TensorInfo } from '../tf.js';
import { makeF32, readF32 } from '../kernel-io.js';
import { heapPtr, simdKernels, withScratch } from '../wasm/simd.js';

export const BN_TRAIN = 'FerBatchNormTrain';
export const BN_TRAIN_GRAD = 'FerBatchNormTrainGrad';

/** Reference forward: statistics in float64 over rows of an [m, c] matrix. */
export function bnTrainForwardJs(
  x: Float32Array,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  c: number,
  eps: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const m = x.length / c;
  const s1 = new Float64Array(c),
    s2 = new Float64Array(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < c; j++) {
      const v = x[i * c + j];
      s1[j] += v;
      s2[j] += v * v;
    }
  }
  const scale = new Float32Array(c),
    shift = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    const mu = s1[j] / m,
      v = Math.max(0, s2[j] / m - mu * mu);
    mean[j] = mu;
    variance[j] = v;
    scale[j] = (gamma ? gamma[j] : 1) / Math.sqrt(v + eps);
    shift[j] = (beta ? beta[j] : 0) - mu * scale[j];
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < c; j++) y[i * c + j] = x[i * c + j] * scale[j] + shift[j];
}

/** Reference backward: dx = g·inv/m·(m·dy − Σdy − x̂·Σ(dy·x̂)), dgamma = Σ(dy·x̂), dbeta = Σdy. */
export function bnTrainBackwardJs(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array | null,
  mean: Float32Array,
  variance: Float32Array,
  c: number,
  eps: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const m = x.length / c;
  const inv = new Float64Array(c),
    sdy = new Float64Array(c),
    sdyx = new Float64Array(c);
  for (let j = 0; j < c; j++) inv[j] = 1 / Math.sqrt(variance[j] + eps);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < c; j++) {
      const g = dy[i * c + j];
      sdy[j] += g;
      sdyx[j] += g * (x[i * c + j] - mean[j]) * inv[j];
    }
  }
  // dx = dy·k + x·a + b per channel (the formula above, expanded), one multiply-add pass.
  const k = new Float64Array(c),
    a = new Float64Array(c),
    b = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    dbeta[j] = sdy[j];
    dgamma[j] = sdyx[j];
    const gi = (gamma ? gamma[j] : 1) * inv[j];
    k[j] = gi;
    a[j] = (-gi * sdyx[j] * inv[j]) / m;
    b[j] = (-gi * sdy[j]) / m + (gi * sdyx[j] * inv[j] * mean[j]) / m;
  }
  for (let i = 0; i < m; i++) {
    const o = i * c;
    for (let j = 0; j < c; j++) dx[o + j] = dy[o + j] * k[j] + x[o + j] * a[j] + b[j];
  }
}

type Args = { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown };

function forwardKernel({ inputs, attrs, backend }: Args): TensorInfo[] {
  const { x, gamma, beta } = inputs;
  const c = x.shape[x.shape.length - 1];
  const y = makeF32(backend, x.shape).info,
    mean = makeF32(backend, [c]).info,
    variance = makeF32(backend, [c]).info;
  const simd = simdKernels(backend);
  if (simd) {
    const p = (t: TensorInfo | undefined) => (t ? heapPtr(backend, t) : 0);
    withScratch(backend, 32 * c, (s) =>
      simd.bn_train_forward(
        p(x),
        p(gamma),
        p(beta),
        x.shape.reduce((a, b) => a * b, 1) / c,
        c,
        attrs!.epsilon as number,
        p(y),
        p(mean),
        p(variance),
        s + 16 * c,
        s,
      ),
    );
    return [y, mean, variance];
  }
  // Views taken after every allocation: on wasm an allocation can grow the heap and detach older views.
  const f = (t: TensorInfo) => readF32(backend, t);
  bnTrainForwardJs(f(x), gamma ? f(gamma) : null, beta ? f(beta) : null, c, attrs!.epsilon as number, f(y), f(mean), f(variance));
  return [y, mean, variance];
}

function backwardKernel({ inputs, attrs, backend }: Args): TensorInfo[] {
  const { dy, x, gamma, mean, variance } = inputs;
  const c = x.shape[x.shape.length - 1];
  const dx = makeF32(backend, x.shape).info,
    dgamma = makeF32(backend, [c]).info,
    dbeta = makeF32(backend, [c]).info;
  const simd = simdKernels(backend);
  if (simd) {
    const p = (t: TensorInfo | undefined) => (t ? heapPtr(backend, t) : 0);
    withScratch(backend, 40 * c, (s) =>
      simd.bn_train_backward(
        p(dy),
        p(x),
        p(gamma),
        p(mean),
        p(variance),
        x.shape.reduce((a, b) => a * b, 1) / c,
        c,
        attrs!.epsilon as number,
        p(dx),
        p(dgamma),
        p(dbeta),
        s + 16 * c,
        s,
      ),
    );
    return [dx, dgamma, dbeta];
  }
  const f = (t: TensorInfo) => readF32(backend, t);
  bnTrainBackwardJs(f(dy), f(x), gamma ? f(gamma) : null, f(mean), f(variance), c, attrs!.epsilon as number, f(dx), f(dgamma), f(dbeta));
  return [dx, dgamma, dbeta];
}

let registered = false;

/** Registers the two kernels on `cpu` and `wasm`, and the gradient, once. */
export function registerBatchNormTrainKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['cpu', 'wasm']) {
    tf.registerKernel({ kernelName: BN_TRAIN, backendName, kernelFunc: forwardKernel as tf.KernelFunc });
    tf.registerKernel({ kernelName: BN_TRAIN_GRAD, backendName, kernelFunc: backwardKernel as tf.KernelFunc });
  }
  tf.registerGradient({
    kernelName: BN_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const [x, gamma, mean, variance] = saved;
      const [dx, dgamma, dbeta] = tf
        .engine()
        .runKernel(BN_TRAIN_GRAD, { dy, x, gamma, mean, variance }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      // Mean and variance are outputs for the moving averages only: no gradient flows back through them.
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
}

/** y, batch mean and batch variance of x over all axes but the last. */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  registerBatchNormTrainKernels();
  return tf.engine().runKernel(BN_TRAIN, { x, gamma, beta }, { epsilon }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
