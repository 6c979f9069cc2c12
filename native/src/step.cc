// A whole training step in one call: a program of instructions over one float arena (activations, gradients,
// weights, optimizer slots, the batch and its targets), compiled once on the JavaScript side
// (src/engine/native/step-plan.ts) and run here op after op through the kernels of kernels.h. Operands are
// float offsets into the arena; float constants (epsilon, decay, l2) are stored as their bits.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace fer {
namespace {

float bits(int32_t v) {
  float f;
  std::memcpy(&f, &v, sizeof f);
  return f;
}

// Softmax over each row of z [n, c] (the model's output activation), then tfjs's loss on it as fer writes it
// (train/distill.ts trainingLoss): softmaxCrossEntropy(y, log(clip(p, 1e-7, 1))), the mean over the rows, and its
// gradient back to z through the clip, the log and the softmax, as tfjs's tape assembles it.
// With `soft` (distillation): (1 - alpha) times that plus alpha T^2 softmaxCrossEntropy(soft, logP / T), as trainingLoss
// writes it with a teacher's soft targets; d loss / d logP gains alpha T (softmax(logP / T) - soft) / n.
// With `rw` (class weights: row i's weight is its label's class weight): the hard term is tfjs's
// softmaxCrossEntropy(y, logP, rw) reduced SUM_BY_NONZERO_WEIGHTS, sum(rw_i row_i) / #{rw_i != 0}: row i's hard
// term and its gradient are scaled by rw_i n / #{rw_i != 0}; the soft term is not weighted.
void softmax_xent(const float* z, const float* y, int n, int c, float* p, float* loss, float* dz, const float* soft = nullptr,
                  float alpha = 0.f, float temp = 1.f, const float* rw = nullptr) {
  double total = 0;
  int nonzero = 0;
  if (rw)
    for (int i = 0; i < n; ++i) nonzero += rw[i] != 0.f;
  for (int i = 0; i < n; ++i) {
    const float* zi = z + static_cast<int64_t>(i) * c;
    const float* yi = y + static_cast<int64_t>(i) * c;
    float* pi = p + static_cast<int64_t>(i) * c;
    float* di = dz + static_cast<int64_t>(i) * c;
    float mx = zi[0];
    for (int j = 1; j < c; ++j) mx = std::max(mx, zi[j]);
    float s = 0;
    for (int j = 0; j < c; ++j) s += (pi[j] = std::exp(zi[j] - mx));
    for (int j = 0; j < c; ++j) pi[j] /= s;
    // log(clip(p)), then log-softmax of that (tfjs's softmaxCrossEntropy treats its input as logits).
    float lp[64], q[64];
    float mx2 = -INFINITY;
    for (int j = 0; j < c; ++j) {
      lp[j] = std::log(std::min(std::max(pi[j], 1e-7f), 1.f));
      mx2 = std::max(mx2, lp[j]);
    }
    float s2 = 0;
    for (int j = 0; j < c; ++j) s2 += std::exp(lp[j] - mx2);
    const float lse = mx2 + std::log(s2);
    float row = 0;
    for (int j = 0; j < c; ++j) {
      const float lr = lp[j] - lse;
      row -= yi[j] * lr;
      q[j] = std::exp(lr);
    }
    // g: d loss / d logP times n, q - y; with soft targets (1 - alpha)(q - y) + alpha T (softmax(logP / T) - soft),
    // which is q - y bit for bit at alpha 0.
    float g[64];
    for (int j = 0; j < c; ++j) g[j] = q[j] - yi[j];
    if (rw) {
      const float hs = rw[i] * static_cast<float>(n) / static_cast<float>(nonzero);
      for (int j = 0; j < c; ++j) g[j] *= hs;
      row *= hs;
    }
    if (soft) {
      const float* si = soft + static_cast<int64_t>(i) * c;
      float mt = -INFINITY;
      for (int j = 0; j < c; ++j) mt = std::max(mt, lp[j] / temp);
      float st = 0;
      for (int j = 0; j < c; ++j) st += std::exp(lp[j] / temp - mt);
      const float lseT = mt + std::log(st);
      float rowSoft = 0;
      for (int j = 0; j < c; ++j) {
        const float lt = lp[j] / temp - lseT;
        rowSoft -= si[j] * lt;
        g[j] = (1.f - alpha) * g[j] + alpha * temp * (std::exp(lt) - si[j]);
      }
      row = (1.f - alpha) * row + alpha * temp * temp * rowSoft;
    }
    total += row;
    // d loss / d logP = (softmax(logP) - y) / n; through log (÷ clipped p, zero outside the clip range); then
    // the softmax: dz = p * (dp - Σ dp·p).
    float dot = 0;
    for (int j = 0; j < c; ++j) {
      const float pc = std::min(std::max(pi[j], 1e-7f), 1.f);
      const bool inside = pi[j] >= 1e-7f && pi[j] <= 1.f;
      const float dp = inside ? (g[j] / static_cast<float>(n)) / pc : 0.f;
      di[j] = dp;
      dot += dp * pi[j];
    }
    for (int j = 0; j < c; ++j) di[j] = pi[j] * (di[j] - dot);
  }
  *loss = static_cast<float>(total / n);
}

// out [m, n] = op(a) op(b) over k, op: as stored or transposed (a stored [k, m], b stored [n, k]); f32 sums in order
// of k. The Dense layer's three products (forward, both gradients): small, so plain loops.
void matmul(const float* a, const float* b, int m, int k, int n, bool ta, bool tb, float* out) {
  for (int i = 0; i < m; ++i) {
    float* oi = out + static_cast<int64_t>(i) * n;
    for (int j = 0; j < n; ++j) oi[j] = 0.f;
    for (int l = 0; l < k; ++l) {
      const float av = ta ? a[static_cast<int64_t>(l) * m + i] : a[static_cast<int64_t>(i) * k + l];
      if (tb)
        for (int j = 0; j < n; ++j) oi[j] += av * b[static_cast<int64_t>(j) * k + l];
      else
        for (int j = 0; j < n; ++j) oi[j] += av * b[static_cast<int64_t>(l) * n + j];
    }
  }
}

}  // namespace

void run_plan(float* a, const int32_t* prog, int64_t len, double* times) {
  auto at = [&](int32_t off) { return off < 0 ? nullptr : a + off; };
  int64_t pc = 0;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  int slot = 0;  // where the previous instruction's time goes: its opcode, or 24 + kind for a convolution
  while (pc < len) {
    const int32_t* o = prog + pc;
    const auto op = static_cast<PlanOp>(o[0]);
    if (times) {
      const auto t1 = clock::now();
      if (pc > 0) times[slot] += std::chrono::duration<double, std::milli>(t1 - t0).count();
      t0 = t1;
      slot = std::min(63, std::max(0, op == PlanOp::Conv ? 24 + o[1] : o[0]));  // times holds 64 doubles
    }
    switch (op) {
      case PlanOp::Conv: {  // kind, params[18], a, b, out
        ConvParams p;
        std::memcpy(&p, o + 2, sizeof p);
        conv(static_cast<ConvKind>(o[1]), p, at(o[20]), at(o[21]), at(o[22]));
        pc += 23;
        break;
      }
      case PlanOp::BnForward:  // x, gamma, beta, m, c, eps, y, mean, var
        bn_train_forward(at(o[1]), at(o[2]), at(o[3]), o[4], o[5], bits(o[6]), at(o[7]), at(o[8]), at(o[9]));
        pc += 10;
        break;
      case PlanOp::BnBackward:  // dy, x, gamma, mean, var, m, c, eps, dx, dgamma, dbeta
        bn_train_backward(at(o[1]), at(o[2]), at(o[3]), at(o[4]), at(o[5]), o[6], o[7], bits(o[8]), at(o[9]),
                          at(o[10]), at(o[11]));
        pc += 12;
        break;
      case PlanOp::BnMoving: {  // moving, stat, c, decay: moving - (moving - stat) * decay, as tfjs-layers
        float* mv = at(o[1]);
        const float* st = at(o[2]);
        const float decay = bits(o[4]);
        for (int j = 0; j < o[3]; ++j) {
          const float d = mv[j] - st[j];
          const float p = d * decay;
          mv[j] = mv[j] - p;
        }
        pc += 5;
        break;
      }
      case PlanOp::Relu:  // x, n, y
        unary(UnaryOp::Relu, at(o[1]), o[2], at(o[3]));
        pc += 4;
        break;
      case PlanOp::ReluGrad:  // dy, x, n, dx
        relu_grad(at(o[1]), at(o[2]), o[3], at(o[4]));
        pc += 5;
        break;
      case PlanOp::MaxPool: {  // params[12], x, y
        PoolParams p;
        std::memcpy(&p, o + 1, sizeof p);
        max_pool(p, at(o[13]), at(o[14]));
        pc += 15;
        break;
      }
      case PlanOp::MaxPoolGrad: {  // params[12], dy, x, dx
        PoolParams p;
        std::memcpy(&p, o + 1, sizeof p);
        max_pool_grad(p, at(o[13]), at(o[14]), at(o[15]));
        pc += 16;
        break;
      }
      case PlanOp::Add:  // a, b, n, out
        binary(BinaryOp::Add, at(o[1]), o[3], at(o[2]), o[3], at(o[4]));
        pc += 5;
        break;
      case PlanOp::BiasAdd:  // x, bias, m, c, y
        binary(BinaryOp::Add, at(o[1]), static_cast<int64_t>(o[3]) * o[4], at(o[2]), o[4], at(o[5]));
        pc += 6;
        break;
      case PlanOp::SumRows:  // x, m, c, out
        sum_rows(at(o[1]), o[2], o[3], at(o[4]));
        pc += 5;
        break;
      case PlanOp::Gap:  // x, n, hw, c, y
        mean_mid(at(o[1]), o[2], o[3], o[4], at(o[5]));
        pc += 6;
        break;
      case PlanOp::GapGrad: {  // dy, n, hw, c, dx: each dy / hw over its hw cells
        const float* dy = at(o[1]);
        float* dx = at(o[5]);
        const int n = o[2], hw = o[3], c = o[4];
        const float k = static_cast<float>(hw);
        for (int i = 0; i < n; ++i)
          for (int s = 0; s < hw; ++s)
            for (int j = 0; j < c; ++j) dx[(static_cast<int64_t>(i) * hw + s) * c + j] = dy[i * c + j] / k;
        pc += 6;
        break;
      }
      case PlanOp::SoftmaxXent:  // z, y, n, c, p, loss, dz
        if (o[4] > 64) throw std::runtime_error("plan: more than 64 classes");
        softmax_xent(at(o[1]), at(o[2]), o[3], o[4], at(o[5]), at(o[6]), at(o[7]));
        pc += 8;
        break;
      case PlanOp::SoftmaxXentDistill:  // z, y, soft, n, c, p, loss, dz, alpha, T
        if (o[5] > 64) throw std::runtime_error("plan: more than 64 classes");
        softmax_xent(at(o[1]), at(o[2]), o[4], o[5], at(o[6]), at(o[7]), at(o[8]), at(o[3]), bits(o[9]), bits(o[10]));
        pc += 11;
        break;
      case PlanOp::SoftmaxXentWeighted:  // z, y, soft (or -1), rw, n, c, p, loss, dz, alpha, T
        if (o[6] > 64) throw std::runtime_error("plan: more than 64 classes");
        softmax_xent(at(o[1]), at(o[2]), o[5], o[6], at(o[7]), at(o[8]), at(o[9]), at(o[3]), bits(o[10]), bits(o[11]),
                     at(o[4]));
        pc += 12;
        break;
      case PlanOp::Zero:  // x, n: a gradient that does not reach the optimizer (a frozen weight's)
        std::memset(at(o[1]), 0, sizeof(float) * static_cast<size_t>(o[2]));
        pc += 3;
        break;
      case PlanOp::L2: {  // w, n, l2, g, loss, (scratch, unused): loss += penalty, g += its gradient
        const float l2 = bits(o[3]);
        *at(o[5]) += l2_penalty(at(o[1]), o[2], l2);
        // g + (a + a) with a = (1 * l2) * w, as l2_penalty_grad then an Add compute it, in one pass (same bits).
        const float* w = at(o[1]);
        float* g = at(o[4]);
        const float s = 1.f * l2;
        const int64_t n = o[2];
#pragma omp parallel for schedule(static) if (n > 32768)
        for (int64_t i = 0; i < n; ++i) {
          const float t = s * w[i];
          g[i] = g[i] + (t + t);
        }
        pc += 7;
        break;
      }
      case PlanOp::Adam:  // x, m, v, g, n, k (8 floats: see adam_update)
        adam_update(at(o[1]), at(o[2]), at(o[3]), at(o[4]), o[5], at(o[6]), at(o[1]), at(o[2]), at(o[3]));
        pc += 7;
        break;
      case PlanOp::Momentum:  // x, acc, g, n, k (2 floats), nesterov
        momentum_update(at(o[1]), at(o[2]), at(o[3]), o[4], at(o[5]), o[6] != 0, at(o[1]), at(o[2]));
        pc += 7;
        break;
      case PlanOp::Copy:  // x, n, y
        std::memcpy(at(o[3]), at(o[1]), sizeof(float) * static_cast<size_t>(o[2]));
        pc += 4;
        break;
      case PlanOp::MatMul:  // a, b, m, k, n, flags (1: a transposed, 2: b transposed), out
        matmul(at(o[1]), at(o[2]), o[3], o[4], o[5], (o[6] & 1) != 0, (o[6] & 2) != 0, at(o[7]));
        pc += 8;
        break;
      case PlanOp::Mul:  // a, b, n, out
        binary(BinaryOp::Mul, at(o[1]), o[3], at(o[2]), o[3], at(o[4]));
        pc += 5;
        break;
      case PlanOp::MaxPoolArg: {  // params[12], x, y, idx (uint32)
        PoolParams p;
        std::memcpy(&p, o + 1, sizeof p);
        max_pool_arg(p, at(o[13]), at(o[14]), reinterpret_cast<uint32_t*>(at(o[15])));
        pc += 16;
        break;
      }
      case PlanOp::MaxPoolGradArg: {  // params[12], dy, idx (uint32), dx
        PoolParams p;
        std::memcpy(&p, o + 1, sizeof p);
        max_pool_grad_arg(p, at(o[13]), reinterpret_cast<const uint32_t*>(at(o[14])), at(o[15]));
        pc += 16;
        break;
      }
      case PlanOp::BnReluForward:  // x, gamma, beta, m, c, eps, y (= relu(bn(x))), mean, var, scale_shift (2c)
        bn_relu_train_forward(at(o[1]), at(o[2]), at(o[3]), o[4], o[5], bits(o[6]), true, at(o[7]), at(o[8]), at(o[9]),
                              at(o[10]));
        pc += 11;
        break;
      case PlanOp::BnReluBackward:  // dy, scale_shift, x, gamma, mean, var, m, c, eps, dx, dgamma, dbeta
        bn_relu_train_backward_ss(at(o[1]), at(o[2]), at(o[3]), at(o[4]), at(o[5]), at(o[6]), o[7], o[8], bits(o[9]),
                                  at(o[10]), at(o[11]), at(o[12]));
        pc += 13;
        break;
      case PlanOp::BnInfer:  // x, moving mean, moving var, beta, gamma, m, c, eps, y
        bn_infer(at(o[1]), at(o[2]), at(o[3]), at(o[4]), at(o[5]), o[6], o[7], bits(o[8]), at(o[9]));
        pc += 10;
        break;
      default:
        throw std::runtime_error("plan: unknown instruction " + std::to_string(o[0]) + " at " + std::to_string(pc));
    }
  }
  if (times && len > 0) times[slot] += std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

}  // namespace fer
