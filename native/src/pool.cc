// Max pooling and its gradient, NHWC. Semantics follow tfjs's cpu backend: padding cells never win,
// and the gradient of each output goes to the first maximum of its window (row-major scan), so
// results match the reference exactly. (tfjs-backend-wasm 4.22 starts its running max at FLT_MIN,
// which routes gradients to the wrong cell whenever a window's max is <= 0.)
#include <algorithm>
#include <cstring>
#include <cstdint>
#include <cstring>
#include <limits>
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

void max_pool(const PoolParams& p, const float* x, float* y) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < p.n; ++n)
    for (int oy = 0; oy < p.oh; ++oy)
      for (int ox = 0; ox < p.ow; ++ox)
        window_max(p, x + n * in_img, window(p, oy, ox), y + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c);
}

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

}  // namespace fer
