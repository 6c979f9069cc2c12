// Batch norm, element-wise ops and row/column reductions, multithreaded with OpenMP.
// Reductions accumulate in double so that results do not depend on the thread count beyond rounding.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace fer {

void set_threads(int n) { omp_set_num_threads(n > 0 ? n : omp_get_num_procs()); }
int get_threads() { return omp_get_max_threads(); }

void sum_rows(const float* x, int64_t m, int c, float* out) {
  const int nt = omp_get_max_threads();
  std::vector<double> part(static_cast<size_t>(nt) * c, 0.0);
#pragma omp parallel
  {
    double* acc = part.data() + static_cast<size_t>(omp_get_thread_num()) * c;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m; ++i) {
      const float* row = x + i * c;
      for (int j = 0; j < c; ++j) acc[j] += row[j];
    }
  }
  for (int j = 0; j < c; ++j) {
    double s = 0;
    for (int t = 0; t < nt; ++t) s += part[static_cast<size_t>(t) * c + j];
    out[j] = static_cast<float>(s);
  }
}

void sum_cols(const float* x, int64_t m, int c, float* out) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    double s = 0;
    const float* row = x + i * c;
    for (int j = 0; j < c; ++j) s += row[j];
    out[i] = static_cast<float>(s);
  }
}

namespace {
template <int C>
using Ch = std::integral_constant<int, C>;

// The per-thread partial sums (nt rows of c) of the two channel sums added up in thread order.
void sum_threads(const std::vector<double>& p1, const std::vector<double>& p2, int nt, int c, std::vector<double>& out1,
                 std::vector<double>& out2) {
  out1.assign(c, 0.0);
  out2.assign(c, 0.0);
  for (int t = 0; t < nt; ++t)
    for (int j = 0; j < c; ++j) {
      out1[j] += p1[static_cast<size_t>(t) * c + j];
      out2[j] += p2[static_cast<size_t>(t) * c + j];
    }
}

// Per-channel sums over the rows of an [m, c] matrix: rows are taken in blocks of 64 accumulated in float, and each
// block is flushed into a per-thread double accumulator. (Channel counts of 8 or a multiple of 16 take the vector
// kernels further down, with the same arithmetic.)
template <typename F>
void channel_sums(int64_t m, int c, std::vector<double>& out1, std::vector<double>& out2, F f) {
  const int nt = omp_get_max_threads();
  std::vector<double> p1(static_cast<size_t>(nt) * c, 0.0), p2(static_cast<size_t>(nt) * c, 0.0);
  const int64_t blocks = (m + 63) / 64;
#pragma omp parallel
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num()) * c;
    std::vector<float> va(c), vb(c);
    float* a = va.data();
    float* b = vb.data();
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      for (int j = 0; j < c; ++j) a[j] = b[j] = 0.f;
      const int64_t end = std::min(m, (blk + 1) * 64);
      for (int64_t i = blk * 64; i < end; ++i) f(i, a, b);
      for (int j = 0; j < c; ++j) {
        p1[t + j] += a[j];
        p2[t + j] += b[j];
      }
    }
  }
  sum_threads(p1, p2, nt, c, out1, out2);
}

// dy where v is above 0 (ReLU's gradient at output v), else +0: as a bit mask, so that the loops vectorize (a float
// select on a comparison does not, without fast-math).
inline float masked(float dy, float v) {
  uint32_t gb;
  std::memcpy(&gb, &dy, sizeof gb);
  gb &= 0u - static_cast<uint32_t>(v > 0.f);
  float g;
  std::memcpy(&g, &gb, sizeof g);
  return g;
}

// From the channel sums Sum(x) and Sum(x²): the batch's mean and variance, and the scale and shift that normalize
// (y = x * scale + shift), also written to scale_shift (2c floats) when given.
void bn_forward_coefficients(const std::vector<double>& s1, const std::vector<double>& s2, const float* gamma,
                             const float* beta, int64_t m, int c, float eps, float* mean, float* var,
                             std::vector<float>& scale, std::vector<float>& shift, float* scale_shift) {
  for (int j = 0; j < c; ++j) {
    const double a = s1[j], b = s2[j];
    const double mu = a / m, v = std::max(0.0, b / m - mu * mu);
    mean[j] = static_cast<float>(mu);
    var[j] = static_cast<float>(v);
    const double inv = 1.0 / std::sqrt(v + eps);
    scale[j] = static_cast<float>(inv * (gamma ? gamma[j] : 1.f));
    shift[j] = static_cast<float>((beta ? beta[j] : 0.f) - mu * scale[j]);
  }
  if (scale_shift) {
    std::copy(scale.begin(), scale.end(), scale_shift);
    std::copy(shift.begin(), shift.end(), scale_shift + c);
  }
}

// From the channel sums Sum(dy) and Sum(dy * (x - mean)): dbeta, dgamma, and dx = g*inv/m * (m*dy - sum(dy) -
// xhat*sum(dy*xhat)) written as dy*k + x*a + b.
void bn_backward_coefficients(const std::vector<double>& sdy, const std::vector<double>& sdyx, const std::vector<float>& inv,
                              const float* gamma, const float* mean, int64_t m, int c, float* dgamma, float* dbeta,
                              std::vector<float>& k, std::vector<float>& a, std::vector<float>& b) {
  for (int j = 0; j < c; ++j) {
    const double db = sdy[j], dg = sdyx[j] * inv[j];
    dbeta[j] = static_cast<float>(db);
    dgamma[j] = static_cast<float>(dg);
    const double gi = (gamma ? gamma[j] : 1.f) * inv[j];
    k[j] = static_cast<float>(gi);
    a[j] = static_cast<float>(-gi * dg * inv[j] / m);
    b[j] = static_cast<float>(-gi * db / m + gi * dg * inv[j] * mean[j] / m);
  }
}

// The batch-norm backward of an [m, c] matrix; with scale_shift (the forward's, relu(x * scale + shift) was its
// output) dy is first masked where that pre-ReLU value, recomputed with the same float operations, is not above 0.
// Every thread that runs a kernel has flush-to-zero and denormals-are-zero on (addon.cc FlushDenormals), so the
// recomputed value is the forward's whichever thread computes either.
void bn_backward(const float* dy, const float* scale_shift, const float* x, const float* gamma, const float* mean,
                 const float* var, int64_t m, int c, float eps, float* dx, float* dgamma, float* dbeta) {
  const float* sc = scale_shift;
  const float* sh = scale_shift ? scale_shift + c : nullptr;
  std::vector<float> inv(c);
  for (int j = 0; j < c; ++j) inv[j] = 1.f / std::sqrt(var[j] + eps);
  // Sum(dy) and Sum(dy * (x - mean)); the latter times inv is Sum(dy * xhat).
  std::vector<double> sdy, sdyx;
  channel_sums(m, c, sdy, sdyx, [&](int64_t i, float* __restrict a, float* __restrict b) {
    const float* __restrict row = x + i * c;
    const float* __restrict gi = dy + i * c;
    if (sc)
      for (int j = 0; j < c; ++j) {
        const float g = masked(gi[j], row[j] * sc[j] + sh[j]);
        a[j] += g;
        b[j] += g * (row[j] - mean[j]);
      }
    else
      for (int j = 0; j < c; ++j) {
        a[j] += gi[j];
        b[j] += gi[j] * (row[j] - mean[j]);
      }
  });
  std::vector<float> a(c), b(c), k(c);
  bn_backward_coefficients(sdy, sdyx, inv, gamma, mean, m, c, dgamma, dbeta, k, a, b);
  const float* __restrict kk = k.data();
  const float* __restrict aa = a.data();
  const float* __restrict bb = b.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    const float* __restrict g = dy + i * c;
    const float* __restrict row = x + i * c;
    float* __restrict o = dx + i * c;
    if (sc)
      for (int j = 0; j < c; ++j) o[j] = masked(g[j], row[j] * sc[j] + sh[j]) * kk[j] + row[j] * aa[j] + bb[j];
    else
      for (int j = 0; j < c; ++j) o[j] = g[j] * kk[j] + row[j] * aa[j] + bb[j];
  }
}

void bn_forward(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps, bool relu,
                float* y, float* mean, float* var, float* scale_shift) {
  std::vector<double> s1, s2;
  channel_sums(m, c, s1, s2, [&](int64_t i, float* __restrict a, float* __restrict b) {
    const float* __restrict row = x + i * c;
    for (int j = 0; j < c; ++j) {
      a[j] += row[j];
      b[j] += row[j] * row[j];
    }
  });
  std::vector<float> scale(c), shift(c);
  bn_forward_coefficients(s1, s2, gamma, beta, m, c, eps, mean, var, scale, shift, scale_shift);
  const float* __restrict sc = scale.data();
  const float* __restrict sh = shift.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    const float* __restrict row = x + i * c;
    float* __restrict o = y + i * c;
    if (relu)
      for (int j = 0; j < c; ++j) {
        const float v = row[j] * sc[j] + sh[j];
        o[j] = v > 0.f ? v : 0.f;
      }
    else
      for (int j = 0; j < c; ++j) o[j] = row[j] * sc[j] + sh[j];
  }
}

// The same two kernels for 8 channels or a multiple of 16, on whole vectors of W floats (GCC's vector extensions) in
// blocks of VB vectors, built for AVX-512, AVX2 and plain x86-64 and picked at load (target_clones). The loops over a
// runtime channel count above spend most of their time on loop control at 8 and 16 channels (one or two vectors a
// row). Each channel sees the same float operations in the same order as above (rows in order within blocks of 64,
// then into per-thread doubles), so the results are the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FER_BN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FER_BN_CLONES
#endif
template <int W>
struct Vec {
  typedef float F __attribute__((vector_size(W * 4)));
  typedef uint32_t U __attribute__((vector_size(W * 4)));
  static F load(const float* p) {
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  // dy where v is above 0, else +0 (masked() above, lane by lane)
  static F masked(F dy, F v) { return reinterpret_cast<F>(reinterpret_cast<U>(dy) & reinterpret_cast<U>(v > 0.f)); }
};

// channel_sums for c = blocks * VB * W: f(row, channel offset, a[VB], b[VB]) adds one row's block of channels.
template <int W, int VB, typename F>
FER_BN_CLONES void channel_sums_vec(int64_t m, int c, std::vector<double>& out1, std::vector<double>& out2, F f) {
  using V = Vec<W>;
  const int nt = omp_get_max_threads(), cb = c / (W * VB);
  std::vector<double> p1(static_cast<size_t>(nt) * c, 0.0), p2(static_cast<size_t>(nt) * c, 0.0);
  const int64_t blocks = (m + 63) / 64;
#pragma omp parallel
  {
    double* t1 = p1.data() + static_cast<size_t>(omp_get_thread_num()) * c;
    double* t2 = p2.data() + static_cast<size_t>(omp_get_thread_num()) * c;
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t end = std::min(m, (blk + 1) * 64);
      for (int k = 0; k < cb; ++k) {
        const int off = k * W * VB;
        typename V::F a[VB], b[VB];
        for (int v = 0; v < VB; ++v) a[v] = b[v] = typename V::F{};
        for (int64_t i = blk * 64; i < end; ++i) f(i, off, a, b);
        for (int v = 0; v < VB; ++v)
          for (int l = 0; l < W; ++l) {
            t1[off + v * W + l] += a[v][l];
            t2[off + v * W + l] += b[v][l];
          }
      }
    }
  }
  sum_threads(p1, p2, nt, c, out1, out2);
}

template <int W, int VB>
FER_BN_CLONES void bn_forward_vec(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps,
                                  bool relu, float* y, float* mean, float* var, float* scale_shift) {
  using V = Vec<W>;
  using VF = typename V::F;
  std::vector<double> s1, s2;
  channel_sums_vec<W, VB>(m, c, s1, s2, [&](int64_t i, int off, VF* a, VF* b) {
    const float* row = x + i * c + off;
    for (int v = 0; v < VB; ++v) {
      const VF r = V::load(row + v * W);
      a[v] += r;
      b[v] += r * r;
    }
  });
  std::vector<float> scale(c), shift(c);
  bn_forward_coefficients(s1, s2, gamma, beta, m, c, eps, mean, var, scale, shift, scale_shift);
  const int cb = c / (W * VB);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i)
    for (int k = 0; k < cb; ++k) {
      const int off = k * W * VB;
      for (int v = 0; v < VB; ++v) {
        const int o = off + v * W;
        const VF t = V::load(x + i * c + o) * V::load(scale.data() + o) + V::load(shift.data() + o);
        V::store(y + i * c + o, relu ? (t > 0.f ? t : VF{}) : t);
      }
    }
}

template <int W, int VB>
FER_BN_CLONES void bn_backward_vec(const float* dy, const float* scale_shift, const float* x, const float* gamma,
                                   const float* mean, const float* var, int64_t m, int c, float eps, float* dx,
                                   float* dgamma, float* dbeta) {
  using V = Vec<W>;
  using VF = typename V::F;
  const float* sc = scale_shift;
  const float* sh = scale_shift ? scale_shift + c : nullptr;
  std::vector<float> inv(c);
  for (int j = 0; j < c; ++j) inv[j] = 1.f / std::sqrt(var[j] + eps);
  std::vector<double> sdy, sdyx;
  channel_sums_vec<W, VB>(m, c, sdy, sdyx, [&](int64_t i, int off, VF* a, VF* b) {
    for (int v = 0; v < VB; ++v) {
      const int o = off + v * W;
      const VF r = V::load(x + i * c + o);
      const VF g = sc ? V::masked(V::load(dy + i * c + o), r * V::load(sc + o) + V::load(sh + o)) : V::load(dy + i * c + o);
      a[v] += g;
      b[v] += g * (r - V::load(mean + o));
    }
  });
  std::vector<float> a(c), b(c), k(c);
  bn_backward_coefficients(sdy, sdyx, inv, gamma, mean, m, c, dgamma, dbeta, k, a, b);
  const int cb = c / (W * VB);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i)
    for (int kb = 0; kb < cb; ++kb)
      for (int v = 0; v < VB; ++v) {
        const int o = kb * W * VB + v * W;
        const VF r = V::load(x + i * c + o);
        const VF g = sc ? V::masked(V::load(dy + i * c + o), r * V::load(sc + o) + V::load(sh + o)) : V::load(dy + i * c + o);
        V::store(dx + i * c + o, g * V::load(k.data() + o) + r * V::load(a.data() + o) + V::load(b.data() + o));
      }
}

// Calls fn(W, VB) as compile-time constants for the vector kernels (W floats a vector, VB vectors a block), or
// returns false for a channel count they do not take.
template <typename Fn>
bool with_vectors(int c, Fn&& fn) {
  if (c == 8) return fn(Ch<8>{}, Ch<1>{}), true;
  if (c % 16) return false;
  const int n = c / 16;
  if (n % 4 == 0) return fn(Ch<16>{}, Ch<4>{}), true;
  if (n % 2 == 0) return fn(Ch<16>{}, Ch<2>{}), true;
  return fn(Ch<16>{}, Ch<1>{}), true;
}
}  // namespace

void bn_train_forward(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps,
                      float* y, float* mean, float* var) {
  bn_relu_train_forward(x, gamma, beta, m, c, eps, false, y, mean, var);
}

void bn_relu_train_forward(const float* x, const float* gamma, const float* beta, int64_t m, int c, float eps, bool relu,
                           float* y, float* mean, float* var, float* scale_shift) {
  if (with_vectors(c, [&](auto w, auto vb) {
        bn_forward_vec<decltype(w)::value, decltype(vb)::value>(x, gamma, beta, m, c, eps, relu, y, mean, var, scale_shift);
      }))
    return;
  bn_forward(x, gamma, beta, m, c, eps, relu, y, mean, var, scale_shift);
}

void bn_train_backward(const float* dy, const float* x, const float* gamma, const float* mean,
                       const float* var, int64_t m, int c, float eps, float* dx, float* dgamma, float* dbeta) {
  if (with_vectors(c, [&](auto w, auto vb) {
        bn_backward_vec<decltype(w)::value, decltype(vb)::value>(dy, nullptr, x, gamma, mean, var, m, c, eps, dx, dgamma, dbeta);
      }))
    return;
  bn_backward(dy, nullptr, x, gamma, mean, var, m, c, eps, dx, dgamma, dbeta);
}

void bn_relu_train_backward_ss(const float* dy, const float* scale_shift, const float* x, const float* gamma,
                               const float* mean, const float* var, int64_t m, int c, float eps, float* dx, float* dgamma,
                               float* dbeta) {
  if (with_vectors(c, [&](auto w, auto vb) {
        bn_backward_vec<decltype(w)::value, decltype(vb)::value>(dy, scale_shift, x, gamma, mean, var, m, c, eps, dx, dgamma,
                                                                 dbeta);
      }))
    return;
  bn_backward(dy, scale_shift, x, gamma, mean, var, m, c, eps, dx, dgamma, dbeta);
}

void bn_infer(const float* x, const float* mean, const float* var, const float* offset, const float* scale,
              int64_t m, int c, float eps, float* y) {
  std::vector<float> s(c), sh(c);
  for (int j = 0; j < c; ++j) {
    s[j] = (scale ? scale[j] : 1.f) / std::sqrt(var[j] + eps);
    sh[j] = (offset ? offset[j] : 0.f) - mean[j] * s[j];
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * c;
    float* o = y + i * c;
    for (int j = 0; j < c; ++j) o[j] = row[j] * s[j] + sh[j];
  }
}

namespace {
template <typename F>
void apply_binary(F f, const float* a, int64_t na, const float* b, int64_t nb, float* out) {
  if (na == nb) {
#pragma omp parallel for schedule(static) if (na > 32768)
    for (int64_t i = 0; i < na; ++i) out[i] = f(a[i], b[i]);
  } else if (na > nb) {
#pragma omp parallel for schedule(static) if (na > 32768)
    for (int64_t r = 0; r < na / nb; ++r)
      for (int64_t j = 0; j < nb; ++j) out[r * nb + j] = f(a[r * nb + j], b[j]);
  } else {
#pragma omp parallel for schedule(static) if (nb > 32768)
    for (int64_t r = 0; r < nb / na; ++r)
      for (int64_t j = 0; j < na; ++j) out[r * na + j] = f(a[j], b[r * na + j]);
  }
}
template <typename F>
void apply_unary(F f, const float* x, int64_t n, float* y) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}
}  // namespace

void binary(BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb, float* out) {
  switch (op) {
    case BinaryOp::Add: return apply_binary([](float u, float v) { return u + v; }, a, na, b, nb, out);
    case BinaryOp::Sub: return apply_binary([](float u, float v) { return u - v; }, a, na, b, nb, out);
    case BinaryOp::Mul: return apply_binary([](float u, float v) { return u * v; }, a, na, b, nb, out);
    case BinaryOp::Div: return apply_binary([](float u, float v) { return u / v; }, a, na, b, nb, out);
    case BinaryOp::SquaredDiff:
      return apply_binary([](float u, float v) { return (u - v) * (u - v); }, a, na, b, nb, out);
    case BinaryOp::Maximum: return apply_binary([](float u, float v) { return u > v ? u : v; }, a, na, b, nb, out);
    case BinaryOp::Minimum: return apply_binary([](float u, float v) { return u < v ? u : v; }, a, na, b, nb, out);
  }
}

namespace {
template <typename F>
void apply_mid(F f, const float* a, const float* b, int64_t outer, int64_t mid, int64_t inner, bool small_is_a,
               float* out) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * mid * inner > 32768)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t m = 0; m < mid; ++m) {
      const int64_t big = (o * mid + m) * inner, small = o * inner;
      if (small_is_a)
        for (int64_t i = 0; i < inner; ++i) out[big + i] = f(a[small + i], b[big + i]);
      else
        for (int64_t i = 0; i < inner; ++i) out[big + i] = f(a[big + i], b[small + i]);
    }
}
}  // namespace

void binary_mid(BinaryOp op, const float* a, const float* b, int64_t outer, int64_t mid, int64_t inner, bool small_is_a,
                float* out) {
  switch (op) {
    case BinaryOp::Add: return apply_mid([](float u, float v) { return u + v; }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::Sub: return apply_mid([](float u, float v) { return u - v; }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::Mul: return apply_mid([](float u, float v) { return u * v; }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::Div: return apply_mid([](float u, float v) { return u / v; }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::SquaredDiff:
      return apply_mid([](float u, float v) { return (u - v) * (u - v); }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::Maximum:
      return apply_mid([](float u, float v) { return u > v ? u : v; }, a, b, outer, mid, inner, small_is_a, out);
    case BinaryOp::Minimum:
      return apply_mid([](float u, float v) { return u < v ? u : v; }, a, b, outer, mid, inner, small_is_a, out);
  }
}

void mean_mid(const float* x, int64_t outer, int64_t mid, int64_t inner, float* out) {
  const float n = static_cast<float>(mid);
#pragma omp parallel for schedule(static) if (outer * mid * inner > 32768)
  for (int64_t o = 0; o < outer; ++o) {
    std::vector<double> acc(static_cast<size_t>(inner), 0.0);
    for (int64_t m = 0; m < mid; ++m) {
      const float* row = x + (o * mid + m) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const float q = row[i] / n;
        acc[i] += q;
      }
    }
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(acc[i]);
  }
}

void unary(UnaryOp op, const float* x, int64_t n, float* y) {
  switch (op) {
    case UnaryOp::Relu: return apply_unary([](float v) { return v > 0.f ? v : 0.f; }, x, n, y);
    case UnaryOp::Step: return apply_unary([](float v) { return v > 0.f ? 1.f : 0.f; }, x, n, y);
    case UnaryOp::Neg: return apply_unary([](float v) { return -v; }, x, n, y);
    case UnaryOp::Square: return apply_unary([](float v) { return v * v; }, x, n, y);
    case UnaryOp::Sqrt: return apply_unary([](float v) { return std::sqrt(v); }, x, n, y);
    case UnaryOp::Exp: return apply_unary([](float v) { return std::exp(v); }, x, n, y);
    case UnaryOp::Relu6: return apply_unary([](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }, x, n, y);
  }
}

// Every operation its own statement on a named float, in tfjs's order: fp-contract is off (binding.gyp) so
// no product and sum fuse into one rounding, which would differ from tfjs in the last bit.
void adam_update(const float* x, const float* m, const float* v, const float* g, int64_t n, const float* k,
                 float* x1, float* m1, float* v1) {
  const float beta1 = k[0], omb1 = k[1], beta2 = k[2], omb2 = k[3], oma1 = k[4], oma2 = k[5], eps = k[6], nlr = k[7];
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float ma = m[i] * beta1, mb = gi * omb1;
    const float mm = ma + mb;
    const float g2 = gi * gi;
    const float va = v[i] * beta2, vb = g2 * omb2;
    const float vv = va + vb;
    const float mh = mm / oma1, vh = vv / oma2;
    const float den = std::sqrt(vh) + eps;
    const float step = mh / den;
    const float delta = step * nlr;
    x1[i] = delta + x[i];
    m1[i] = mm;
    v1[i] = vv;
  }
}

void momentum_update(const float* x, const float* acc, const float* g, int64_t n, const float* k, bool nesterov,
                     float* x1, float* acc1) {
  const float mom = k[0], c = k[1];
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const float ma = mom * acc[i];
    const float a = ma + g[i];
    float delta;
    if (nesterov) {
      const float am = a * mom;
      const float s = g[i] + am;
      delta = c * s;
    } else {
      delta = c * a;
    }
    x1[i] = delta + x[i];
    acc1[i] = a;
  }
}

float l2_penalty(const float* w, int64_t n, float l2) {
  // sum_rows(l2 * (w * w), n, 1) without the temporary: the same static partition of the rows over the threads,
  // each accumulating in double, the parts added in thread order, so the same bits.
  const int nt = omp_get_max_threads();
  std::vector<double> part(static_cast<size_t>(nt), 0.0);
#pragma omp parallel
  {
    double acc = 0.0;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float sq = w[i] * w[i];
      const float p = l2 * sq;
      acc += p;
    }
    part[static_cast<size_t>(omp_get_thread_num())] = acc;
  }
  double s = 0;
  for (int t = 0; t < nt; ++t) s += part[static_cast<size_t>(t)];
  return static_cast<float>(s);
}

void l2_penalty_grad(const float* w, int64_t n, float l2, float dy, float* g) {
  const float s = dy * l2;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const float a = s * w[i];
    g[i] = a + a;
  }
}

void relu_grad(const float* dy, const float* x, int64_t n, float* dx) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const float s = x[i] > 0.f ? 1.f : (x[i] != x[i] ? x[i] : 0.f);  // tfjs's step: NaN stays NaN
    dx[i] = dy[i] * s;
  }
}

}  // namespace fer
