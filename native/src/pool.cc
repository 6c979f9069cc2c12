// Max pooling and its gradient, NHWC. Semantics follow tfjs's cpu backend: padding cells never win,
// and the gradient of each output goes to the first maximum of its window (row-major scan), so
// results match the reference exactly. (tfjs-backend-wasm 4.22 starts its running max at FLT_MIN,
// which routes gradients to the wrong cell whenever a window's max is <= 0.)
#include <algorithm>
#include <cstring>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "kernels.h"

namespace fer {


namespace {
inline float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// The window of output (oy, ox) clipped to the image: rows [y0, y1), columns [x0, x1).
struct Window { int y0, y1, x0, x1; };
inline Window window(const PoolParams& p, int oy, int ox) {
  const int y = oy * p.sh - p.pt, x = ox * p.sw - p.pl;
  return {std::max(y, 0), std::min(y + p.kh, p.ih), std::max(x, 0), std::min(x + p.kw, p.iw)};
}

// The first and last window (along one axis) whose cells hold input position i: o * s - pad <= i < o * s - pad + k.
inline std::pair<int, int> holding(int i, int pad, int k, int s, int n_out) {
  return {std::max(0, (i + pad - k + s) / s), std::min(n_out - 1, (i + pad) / s)};
}

// Max of one window, vectorized over channels: started from the first cell, so padding never wins, and
// compared with '>' as tfjs's cpu backend does (a NaN never replaces a number). Branch-free inner loop.
void window_max(const PoolParams& p, const float* img, const Window& w, float* __restrict best) {
  const float* __restrict first = img + (static_cast<int64_t>(w.y0) * p.iw + w.x0) * p.c;
  std::copy(first, first + p.c, best);
  for (int yy = w.y0; yy < w.y1; ++yy)
    for (int xx = w.x0; xx < w.x1; ++xx) {
      const float* __restrict v = img + (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
      for (int ch = 0; ch < p.c; ++ch) best[ch] = v[ch] > best[ch] ? v[ch] : best[ch];
    }
}

// Adds each channel's gradient g to the window's first cell (row-major) holding that channel's maximum `best`
// (window_max's result): the cell tfjs's cpu backend picks, since its '>' scan keeps the first maximum. A NaN
// first cell makes `best` NaN and keeps the gradient (no value is '>' NaN), hence `best != best`. Once routed,
// `left` is 0 and later cells add +0, which leaves every sum as it was (dx starts at +0). Branch-free and
// vectorized over channels, unlike a scatter through per-channel argmax offsets.
void route_to_first_max(const PoolParams& p, const float* img, float* d, const Window& w, const float* __restrict best,
                        const float* __restrict g, uint32_t* __restrict left) {
  std::memcpy(left, g, sizeof(float) * p.c);
  for (int yy = w.y0; yy < w.y1; ++yy)
    for (int xx = w.x0; xx < w.x1; ++xx) {
      const int64_t base = (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
      const float* __restrict v = img + base;
      float* __restrict dd = d + base;
      // As bit masks, so the loop vectorizes (a float select on a comparison does not, without fast-math).
      for (int ch = 0; ch < p.c; ++ch) {
        const uint32_t hit = 0u - static_cast<uint32_t>((v[ch] == best[ch]) | (best[ch] != best[ch]));
        dd[ch] += as_float(left[ch] & hit);
        left[ch] &= ~hit;
      }
    }
}
}  // namespace

namespace {
void max_pool_rt(const PoolParams& p, const float* x, float* y) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int oy = 0; oy < p.oh; ++oy)
      for (int ox = 0; ox < p.ow; ++ox)
        window_max(p, x + n * in_img, window(p, oy, ox), y + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c);
}
}  // namespace

void max_pool_grad(const PoolParams& p, const float* dy, const float* x, float* dx) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
#pragma omp parallel
  {
    std::vector<float> best(p.c);
    std::vector<uint32_t> left(p.c);
    // Each thread owns whole images, so the additions below never race.
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      const float* img = x + n * in_img;
      float* d = dx + n * in_img;
      std::fill(d, d + in_img, 0.f);
      for (int oy = 0; oy < p.oh; ++oy)
        for (int ox = 0; ox < p.ow; ++ox) {
          const Window w = window(p, oy, ox);
          window_max(p, img, w, best.data());
          route_to_first_max(p, img, d, w, best.data(), dy + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c,
                             left.data());
        }
    }
  }
}

// The same maximum with its place: idx gets, per output and channel, the winning cell's position in the unclipped
// window ((yy - y) * kw + (xx - x)), chosen by the same '>' scan from the first cell as window_max (so the
// first maximum in row-major order wins, and a NaN first cell keeps it), for max_pool_grad_arg.
namespace {
void max_pool_arg_rt(const PoolParams& p, const float* x, float* y, uint32_t* idx) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
  const int c = p.c;  // a local: the uint32 stores below could alias p's ints, which would keep the loops scalar
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int oy = 0; oy < p.oh; ++oy) {
      const float* img = x + n * in_img;
      for (int ox = 0; ox < p.ow; ++ox) {
        const Window w = window(p, oy, ox);
        const int y0 = oy * p.sh - p.pt, x0 = ox * p.sw - p.pl;
        const int64_t out = n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c;
        // The running maximum as bits, selected with masks so that the loop vectorizes (see route_to_first_max).
        uint32_t* __restrict best = reinterpret_cast<uint32_t*>(y + out);
        uint32_t* __restrict kk = idx + out;
        const uint32_t* __restrict first =
            reinterpret_cast<const uint32_t*>(img + (static_cast<int64_t>(w.y0) * p.iw + w.x0) * p.c);
        const uint32_t k0 = (w.y0 - y0) * p.kw + (w.x0 - x0);
        for (int ch = 0; ch < c; ++ch) {
          best[ch] = first[ch];
          kk[ch] = k0;
        }
        for (int yy = w.y0; yy < w.y1; ++yy)
          for (int xx = w.x0; xx < w.x1; ++xx) {
            const float* __restrict v = img + (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
            const uint32_t* __restrict vb = reinterpret_cast<const uint32_t*>(v);
            const uint32_t kc = (yy - y0) * p.kw + (xx - x0);
            for (int ch = 0; ch < c; ++ch) {
              const uint32_t gt = 0u - static_cast<uint32_t>(v[ch] > as_float(best[ch]));
              best[ch] = (vb[ch] & gt) | (best[ch] & ~gt);
              kk[ch] = (kc & gt) | (kk[ch] & ~gt);
            }
          }
      }
    }
}

// max_pool_grad from max_pool_arg's places, gathered: each input cell sums, in row-major order of the windows that
// hold it, the gradients of those whose maximum it is, from +0, so every sum is the one max_pool_grad's scatter
// makes (same additions in the same order; a cell no window picks gets +0). Writes dx once; never reads x.
void max_pool_grad_arg_rt(const PoolParams& p, const float* dy, const uint32_t* idx, float* dx) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
  const int c = p.c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int yy = 0; yy < p.ih; ++yy) {
      const auto [oy0, oy1] = holding(yy, p.pt, p.kh, p.sh, p.oh);
      for (int xx = 0; xx < p.iw; ++xx) {
        const auto [ox0, ox1] = holding(xx, p.pl, p.kw, p.sw, p.ow);
        float* __restrict d = dx + n * in_img + (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
        for (int ch = 0; ch < c; ++ch) d[ch] = 0.f;
        for (int oy = oy0; oy <= oy1; ++oy)
          for (int ox = ox0; ox <= ox1; ++ox) {
            const uint32_t kc = (yy - (oy * p.sh - p.pt)) * p.kw + (xx - (ox * p.sw - p.pl));
            const int64_t out = n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c;
            const float* __restrict g = dy + out;
            const uint32_t* __restrict ki = idx + out;
            for (int ch = 0; ch < c; ++ch) {
              uint32_t gb;
              std::memcpy(&gb, g + ch, sizeof gb);
              d[ch] += as_float(gb & (0u - static_cast<uint32_t>(ki[ch] == kc)));
            }
          }
      }
    }
}


// The same three kernels for channel counts that are multiples of 16, on whole 16-float vectors (GCC's vector
// extensions) in blocks of VB vectors, so that a window's running maximum and places stay in registers. The per-cell
// loops above, over a runtime channel count, spent more time on loop control than on comparisons (16 channels at
// 44×44: one vector a cell). Built for AVX-512, AVX2 and plain x86-64, picked at load (target_clones). The same
// comparisons, selections and additions in the same order as above, so the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FER_POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FER_POOL_CLONES
#endif
// GCC's may-be-uninitialized warning on the unused places of max_pool (Arg false) is spurious. (Its -Wpsabi notes on
// 64-byte vectors, passed differently with and without AVX-512, are off in binding.gyp: only inline helpers take them.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
typedef uint32_t VU __attribute__((vector_size(64)));
typedef float VF __attribute__((vector_size(64)));
inline VU load_u(const void* a) {
  VU v;
  std::memcpy(&v, a, sizeof v);
  return v;
}
inline VF load_f(const void* a) {
  VF v;
  std::memcpy(&v, a, sizeof v);
  return v;
}

template <int VB, bool Arg>
FER_POOL_CLONES void pool_vec(const PoolParams& p, const float* x, float* y, uint32_t* idx) {
  const int c = p.c, blocks = c / (16 * VB);
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * c, out_img = static_cast<int64_t>(p.oh) * p.ow * c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int oy = 0; oy < p.oh; ++oy) {
      const float* img = x + n * in_img;
      const int y0 = oy * p.sh - p.pt, wy0 = std::max(y0, 0), wy1 = std::min(y0 + p.kh, p.ih);
      for (int ox = 0; ox < p.ow; ++ox) {
        const int x0 = ox * p.sw - p.pl, wx0 = std::max(x0, 0), wx1 = std::min(x0 + p.kw, p.iw);
        const int64_t out = n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * c;
        const uint32_t k0 = (wy0 - y0) * p.kw + (wx0 - x0);
        for (int blk = 0; blk < blocks; ++blk) {
          const int off = blk * 16 * VB;
          VU best[VB], kk[VB];
          const float* first = img + (static_cast<int64_t>(wy0) * p.iw + wx0) * c + off;
          for (int v = 0; v < VB; ++v) {
            best[v] = load_u(first + 16 * v);
            kk[v] = VU{} + k0;
          }
          for (int yy = wy0; yy < wy1; ++yy)
            for (int xx = wx0; xx < wx1; ++xx) {
              const float* cell = img + (static_cast<int64_t>(yy) * p.iw + xx) * c + off;
              const VU kc = VU{} + static_cast<uint32_t>((yy - y0) * p.kw + (xx - x0));
              for (int v = 0; v < VB; ++v) {
                const VU gt = reinterpret_cast<VU>(load_f(cell + 16 * v) > reinterpret_cast<VF>(best[v]));
                best[v] = (load_u(cell + 16 * v) & gt) | (best[v] & ~gt);
                if (Arg) kk[v] = (kc & gt) | (kk[v] & ~gt);
              }
            }
          for (int v = 0; v < VB; ++v) {
            std::memcpy(y + out + off + 16 * v, &best[v], sizeof(VU));
            if (Arg) std::memcpy(idx + out + off + 16 * v, &kk[v], sizeof(VU));
          }
        }
      }
    }
}

template <int VB>
FER_POOL_CLONES void pool_grad_vec(const PoolParams& p, const float* dy, const uint32_t* idx, float* dx) {
  const int c = p.c, blocks = c / (16 * VB);
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * c, out_img = static_cast<int64_t>(p.oh) * p.ow * c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int yy = 0; yy < p.ih; ++yy) {
      const auto [oy0, oy1] = holding(yy, p.pt, p.kh, p.sh, p.oh);
      for (int xx = 0; xx < p.iw; ++xx) {
        const auto [ox0, ox1] = holding(xx, p.pl, p.kw, p.sw, p.ow);
        float* d = dx + n * in_img + (static_cast<int64_t>(yy) * p.iw + xx) * c;
        for (int blk = 0; blk < blocks; ++blk) {
          const int off = blk * 16 * VB;
          VF sum[VB];
          for (int v = 0; v < VB; ++v) sum[v] = VF{};
          for (int oy = oy0; oy <= oy1; ++oy)
            for (int ox = ox0; ox <= ox1; ++ox) {
              const VU kc = VU{} + static_cast<uint32_t>((yy - (oy * p.sh - p.pt)) * p.kw + (xx - (ox * p.sw - p.pl)));
              const int64_t out = n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * c + off;
              for (int v = 0; v < VB; ++v)
                sum[v] += reinterpret_cast<VF>(load_u(dy + out + 16 * v) & reinterpret_cast<VU>(load_u(idx + out + 16 * v) == kc));
            }
          for (int v = 0; v < VB; ++v) std::memcpy(d + off + 16 * v, &sum[v], sizeof(VF));
        }
      }
    }
}

// Vectors per block: the most of 8, 4, 2, 1 that divides the channel count in 16s; 0 when c is not a multiple of 16.
int vector_block(int c) {
  if (c % 16) return 0;
  for (int vb : {8, 4, 2}) if ((c / 16) % vb == 0) return vb;
  return 1;
}
#pragma GCC diagnostic pop
}  // namespace

void max_pool(const PoolParams& p, const float* x, float* y) {
  switch (vector_block(p.c)) {
    case 8: return pool_vec<8, false>(p, x, y, nullptr);
    case 4: return pool_vec<4, false>(p, x, y, nullptr);
    case 2: return pool_vec<2, false>(p, x, y, nullptr);
    case 1: return pool_vec<1, false>(p, x, y, nullptr);
    default: return max_pool_rt(p, x, y);
  }
}

void max_pool_arg(const PoolParams& p, const float* x, float* y, uint32_t* idx) {
  switch (vector_block(p.c)) {
    case 8: return pool_vec<8, true>(p, x, y, idx);
    case 4: return pool_vec<4, true>(p, x, y, idx);
    case 2: return pool_vec<2, true>(p, x, y, idx);
    case 1: return pool_vec<1, true>(p, x, y, idx);
    default: return max_pool_arg_rt(p, x, y, idx);
  }
}

void max_pool_grad_arg(const PoolParams& p, const float* dy, const uint32_t* idx, float* dx) {
  switch (vector_block(p.c)) {
    case 8: return pool_grad_vec<8>(p, dy, idx, dx);
    case 4: return pool_grad_vec<4>(p, dy, idx, dx);
    case 2: return pool_grad_vec<2>(p, dy, idx, dx);
    case 1: return pool_grad_vec<1>(p, dy, idx, dx);
    default: return max_pool_grad_arg_rt(p, dy, idx, dx);
  }
}

}  // namespace fer
