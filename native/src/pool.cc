// Max pooling and its gradient, NHWC. Semantics follow tfjs's cpu backend: padding cells never win,
// and the gradient of each output goes to the first maximum of its window (row-major scan), so
// results match the reference exactly. (tfjs-backend-wasm 4.22 starts its running max at FLT_MIN,
// which routes gradients to the wrong cell whenever a window's max is <= 0.)
#include <algorithm>
#include <cstdint>
#include <cstring>
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

// r where c holds, else +0: a select on the bits, which GCC vectorizes (a float select it if-converts only
// under -fno-trapping-math, and left scalar, with a mispredicted branch per channel, it made the gradient 20×
// slower than the forward pass).
inline float keep_if(bool c, float r) {
  uint32_t b;
  std::memcpy(&b, &r, sizeof b);
  b &= 0u - static_cast<uint32_t>(c);
  std::memcpy(&r, &b, sizeof b);
  return r;
}

// Adds an output's gradient g to the first cell of its window that holds the window's maximum `best`, per
// channel: the cell tfjs's cpu backend sends it to (its running argmax moves only on '>', so it ends on the
// first cell equal to the maximum; when the first cell is NaN nothing beats it, hence the first-cell clause).
// Branch-free over channels: `rem` holds what is still to route, +0 once routed (adding +0 to dx changes
// nothing: dx starts at +0 and a float sum is -0 only when every addend is), so each cell receives the same
// addends in the same order as the scatter to the argmax this replaces.
void route_to_max(const PoolParams& p, const float* img, float* d, const Window& w, const float* __restrict best,
                  const float* __restrict g, float* __restrict rem) {
  std::copy(g, g + p.c, rem);
  bool first = true;
  for (int yy = w.y0; yy < w.y1; ++yy)
    for (int xx = w.x0; xx < w.x1; ++xx) {
      const int64_t base = (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
      const float* __restrict v = img + base;
      float* __restrict o = d + base;
      if (first) {
        for (int ch = 0; ch < p.c; ++ch) {
          const bool hit = (v[ch] == best[ch]) | (best[ch] != best[ch]);
          const float r = rem[ch];
          o[ch] += keep_if(hit, r);
          rem[ch] = keep_if(!hit, r);
        }
        first = false;
      } else {
        for (int ch = 0; ch < p.c; ++ch) {
          const bool hit = v[ch] == best[ch];
          const float r = rem[ch];
          o[ch] += keep_if(hit, r);
          rem[ch] = keep_if(!hit, r);
        }
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
    std::vector<float> best(p.c), rem(p.c);
    // Each thread owns whole images, so the accumulation below never races.
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      float* d = dx + n * in_img;
      const float* img = x + n * in_img;
      std::fill(d, d + in_img, 0.f);
      for (int oy = 0; oy < p.oh; ++oy)
        for (int ox = 0; ox < p.ow; ++ox) {
          const Window w = window(p, oy, ox);
          window_max(p, img, w, best.data());
          route_to_max(p, img, d, w, best.data(), dy + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c,
                       rem.data());
        }
    }
  }
}

}  // namespace fer
