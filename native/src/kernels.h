// fer native kernels: plain C++ entry points over caller-owned float buffers (NHWC activations,
// tfjs filter layouts). The N-API layer (addon.cc) only unpacks arguments and calls these.
#pragma once
#include <cstdint>

namespace fer {

// Convolution geometry, in the order the JS side packs it (see src/engine/native/kernels/conv.ts).
struct ConvParams {
  int n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};
enum class ConvKind { Forward = 0, BackwardData = 1, BackwardWeights = 2 };
// Forward: a = x, b = filter, out = y.  BackwardData: a = dy, b = filter, out = dx.
// BackwardWeights: a = x, b = dy, out = dfilter.
void conv(ConvKind kind, const ConvParams& p, const float* a, const float* b, float* out);
// The weight gradient of a stride-1 depthwise convolution under 16 channels (depthwise.cc): whether p is one, and
// the gradient (a = x, b = dy, out = dfilter), which conv hands it in f32 mode.
bool depthwise_weights_fits(const ConvParams& p);
void depthwise_weights(const ConvParams& p, const float* x, const float* dy, float* out);
// Convolutions from now on in bf16 (inputs rounded to bf16, f32 accumulation and outputs) or f32. Returns
// false, leaving f32, when this CPU has no bf16 convolution kernel.
bool set_conv_bf16(bool on);

struct PoolParams {
  int n, ih, iw, c, oh, ow, kh, kw, sh, sw, pt, pl;
};
void max_pool(const PoolParams& p, const float* x, float* y);
void max_pool_grad(const PoolParams& p, const float* dy, const float* x, float* dx);
// The same pair through the maxima's places (idx: per output, the winning cell's place in its window, row-major):
// the forward writes them, the gradient reads them instead of x. Same results, bit for bit, as the pair above.
void max_pool_arg(const PoolParams& p, const float* x, float* y, uint32_t* idx);
void max_pool_grad_arg(const PoolParams& p, const float* dy, const uint32_t* idx, float* dx);

// Batch normalization over rows of an [m, c] matrix (NHWC flattened), batch statistics.
void bn_train_forward(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps,
                      float* y, float* mean, float* var);
void bn_train_backward(const float* dy, const float* x, const float* gamma, const float* mean,
                       const float* var, int64_t m, int c, float eps, float* dx, float* dgamma, float* dbeta);
// The same with ReLU fused: forward writes relu(bn(x)) when relu is true; scale_shift (null, or 2c floats) gets the
// per-channel scale and shift y = relu(x * scale + shift) used.
void bn_relu_train_forward(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps, bool relu,
                           float* y, float* mean, float* var, float* scale_shift = nullptr);
// The backward of relu(bn(x)) from dy of that output: ReLU's mask recomputed from x and the forward's scale_shift
// (the same float operations, so the same mask) rather than read from the ReLU's output.
void bn_relu_train_backward_ss(const float* dy, const float* scale_shift, const float* x, const float* gamma,
                               const float* mean, const float* var, int64_t m, int c, float eps, float* dx, float* dgamma,
                               float* dbeta);
// y = (x - mean) * rsqrt(var + eps) * scale + offset with per-channel vectors (scale/offset may be null).
void bn_infer(const float* x, const float* mean, const float* var, const float* offset, const float* scale,
              int64_t m, int c, float eps, float* y);

enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDiff = 4, Maximum = 5, Minimum = 6 };
// out has max(na, nb) elements; the smaller operand repeats (trailing broadcast) and must divide it.
void binary(BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out);
// Broadcast over a middle block of axes: the small operand is [outer, inner], the big one and out [outer, mid, inner]
// (small_is_a: the small operand is a, else b; operand order is kept).
void binary_mid(BinaryOp op, const float* a, const float* b, int64_t outer, int64_t mid, int64_t inner, bool small_is_a,
                float* out);
// tfjs's cpu Mean over a middle block of axes of [outer, mid, inner]: each value divided by mid in float32, then
// summed over mid in order in double and rounded (its div + transpose + sum), so bit-identical to it.
void mean_mid(const float* x, int64_t outer, int64_t mid, int64_t inner, float* out);
enum class UnaryOp { Relu = 0, Step = 1, Neg = 2, Square = 3, Sqrt = 4, Exp = 5, Relu6 = 6 };
void unary(UnaryOp op, const float* x, int64_t n, float* y);
// out[j] = sum_i x[i * c + j]: reduces all leading axes of a row-major [m, c] matrix.
void sum_rows(const float* x, int64_t m, int c, float* out);
// Batch b = images[idx[b]] (48×48 uint8, n_images of them) through affines[6b..6b+5] (augment.cc).
void warp_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int n, const double* affines, float* out,
                double scale, double offset);
// out[i] = sum_j x[i * c + j]: reduces the trailing axis.
void sum_cols(const float* x, int64_t m, int c, float* out);

// One optimizer step over one weight, the arithmetic of tfjs 4.22's AdamOptimizer / MomentumOptimizer done
// op by op in float32 (each product, sum, quotient and root rounded as tfjs's kernels round it), so the results
// are bit-identical to theirs. Adam's k: beta1, 1-beta1, beta2, 1-beta2, 1-beta1^t, 1-beta2^t, epsilon, -lr.
void adam_update(const float* x, const float* m, const float* v, const float* g, int64_t n, const float* k,
                 float* x1, float* m1, float* v1);
// Momentum's k: momentum, -lr. Nesterov: x + c*(g + a*m), else x + c*a, with a = m*acc + g.
void momentum_update(const float* x, const float* acc, const float* g, int64_t n, const float* k, bool nesterov,
                     float* x1, float* acc1);

// tfjs-layers' L2 regularizer, sum(l2 * (w * w)), as its ops compute it on fer-native (each product rounded to
// float, the sum by sum_rows), and its gradient as tfjs's tape assembles it: a = (dy * l2) * w, reached twice (both
// inputs of w * w), accumulated as a + a.
float l2_penalty(const float* w, int64_t n, float l2);
void l2_penalty_grad(const float* w, int64_t n, float l2, float dy, float* g);
// ReLU's gradient, tfjs's dy * step(x) in one pass: dy * (x > 0 ? 1 : x is NaN ? NaN : 0), so -0 and NaN come
// out as tfjs's cpu kernels give them.
void relu_grad(const float* dy, const float* x, int64_t n, float* dx);

// A whole training step (step.cc): a program of instructions over one float arena, compiled by
// src/engine/native/step-plan.ts, whose opcodes these are (keep the two in step).
enum class PlanOp {
  Conv = 1, BnForward = 2, BnBackward = 3, BnMoving = 4, Relu = 5, ReluGrad = 6, MaxPool = 7, MaxPoolGrad = 8,
  Add = 9, BiasAdd = 10, SumRows = 11, Gap = 12, GapGrad = 13, SoftmaxXent = 14, L2 = 15, Adam = 16, Momentum = 17,
  Copy = 18, SoftmaxXentDistill = 21, SoftmaxXentWeighted = 22, Zero = 23,
  // The ResNet teachers' head (Dense, Dropout); numbered apart from the ones above so that both lists can grow.
  MatMul = 27, Mul = 28,
  // Max pooling through its maxima's places (max_pool_arg, max_pool_grad_arg).
  MaxPoolArg = 29, MaxPoolGradArg = 30,
  // BN + ReLU keeping the forward's scale and shift, whose backward recomputes ReLU's mask from x.
  BnReluForward = 31, BnReluBackward = 32,
  // Inference plans (step-plan.ts compileInference): batch norm with the moving statistics.
  BnInfer = 33
};
// times (null, or 64 doubles): adds each instruction's milliseconds at its opcode, a convolution's at 24 + its kind.
void run_plan(float* arena, const int32_t* program, int64_t len, double* times = nullptr);

void set_threads(int n);
int get_threads();

}  // namespace fer
