// Max pooling and its gradient, NHWC. Semantics follow tfjs's cpu backend: padding cells never win,
// and the gradient of each output goes to the first maximum of its window (row-major scan), so
// results match the reference exactly. (tfjs-backend-wasm 4.22 starts its running max at FLT_MIN,
// which routes gradients to the wrong cell whenever a window's max is <= 0.)
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels.h"

namespace fer {


namespace {
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

// The same scan also keeping the offset (within the image) of each channel's first maximum in row-major
// order: where tfjs's cpu backend sends that output's gradient.
void window_argmax(const PoolParams& p, const float* img, const Window& w, float* __restrict best, int32_t* __restrict at) {
  const int32_t origin = (w.y0 * p.iw + w.x0) * p.c;
  std::copy(img + origin, img + origin + p.c, best);
  for (int ch = 0; ch < p.c; ++ch) at[ch] = origin + ch;
  for (int yy = w.y0; yy < w.y1; ++yy)
    for (int xx = w.x0; xx < w.x1; ++xx) {
      const int32_t base = (yy * p.iw + xx) * p.c;
      const float* __restrict v = img + base;
      for (int ch = 0; ch < p.c; ++ch) {
        const bool wins = v[ch] > best[ch];
        best[ch] = wins ? v[ch] : best[ch];
        at[ch] = wins ? base + ch : at[ch];
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
    std::vector<int32_t> at(p.c);
    // Each thread owns whole images, so the scatter-add below never races.
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      float* d = dx + n * in_img;
      std::fill(d, d + in_img, 0.f);
      for (int oy = 0; oy < p.oh; ++oy)
        for (int ox = 0; ox < p.ow; ++ox) {
          window_argmax(p, x + n * in_img, window(p, oy, ox), best.data(), at.data());
          const float* g = dy + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c;
          for (int ch = 0; ch < p.c; ++ch) d[at[ch]] += g[ch];
        }
    }
  }
}

}  // namespace fer
