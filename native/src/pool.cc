// Max pooling and its gradient, NHWC. Semantics follow tfjs's cpu backend: padding cells never win,
// and the gradient of each output goes to the first maximum of its window (row-major scan), so
// results match the reference exactly. (tfjs-backend-wasm 4.22 starts its running max at FLT_MIN,
// which routes gradients to the wrong cell whenever a window's max is <= 0.)
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels.h"

namespace fer {


namespace {
// One window of one image, vectorized over channels: the maximum of each channel and the index of its
// first occurrence in row-major scan order (strict '>', as tfjs's cpu backend). Padding cells never win.
void scan_window(const PoolParams& p, const float* img, int oy, int ox, float* best, int64_t* at) {
  std::fill(best, best + p.c, -std::numeric_limits<float>::infinity());
  std::fill(at, at + p.c, int64_t{-1});
  const int y0 = oy * p.sh - p.pt, x0 = ox * p.sw - p.pl;
  for (int ky = 0; ky < p.kh; ++ky) {
    const int yy = y0 + ky;
    if (yy < 0 || yy >= p.ih) continue;
    for (int kx = 0; kx < p.kw; ++kx) {
      const int xx = x0 + kx;
      if (xx < 0 || xx >= p.iw) continue;
      const int64_t base = (static_cast<int64_t>(yy) * p.iw + xx) * p.c;
      for (int ch = 0; ch < p.c; ++ch) {
        const float v = img[base + ch];
        if (at[ch] < 0 || v > best[ch]) {
          best[ch] = v;
          at[ch] = base + ch;
        }
      }
    }
  }
}
}  // namespace

void max_pool(const PoolParams& p, const float* x, float* y) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
#pragma omp parallel
  {
    std::vector<int64_t> at(p.c);
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < p.n; ++n)
      for (int oy = 0; oy < p.oh; ++oy)
        for (int ox = 0; ox < p.ow; ++ox)
          scan_window(p, x + n * in_img, oy, ox, y + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c, at.data());
  }
}

void max_pool_grad(const PoolParams& p, const float* dy, const float* x, float* dx) {
  const int64_t in_img = static_cast<int64_t>(p.ih) * p.iw * p.c, out_img = static_cast<int64_t>(p.oh) * p.ow * p.c;
#pragma omp parallel
  {
    std::vector<float> best(p.c);
    std::vector<int64_t> at(p.c);
    // Each thread owns whole images, so the scatter-add below never races.
#pragma omp for schedule(static)
    for (int n = 0; n < p.n; ++n) {
      float* d = dx + n * in_img;
      std::fill(d, d + in_img, 0.f);
      for (int oy = 0; oy < p.oh; ++oy)
        for (int ox = 0; ox < p.ow; ++ox) {
          scan_window(p, x + n * in_img, oy, ox, best.data(), at.data());
          const float* g = dy + n * out_img + (static_cast<int64_t>(oy) * p.ow + ox) * p.c;
          for (int ch = 0; ch < p.c; ++ch)
            if (at[ch] >= 0) d[at[ch]] += g[ch];
        }
    }
  }
}

}  // namespace fer
