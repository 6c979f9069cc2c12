// The weight gradient of depthwise convolutions (one filter per channel, multiplier 1) at stride 1, NHWC, with
// fewer than 16 channels: mini-Xception's first separable convolution (8 channels at 64×44×44). oneDNN 2.6's kernel
// blocks channels by 16 and took 0.62 ms a call there on 2 threads, this one 0.28 (1 thread: 1.16 and 0.52; both
// timed on the same calls of the native step, alternately). Each tap's sum over a row is kept in four independent
// partial sums in registers. Built for AVX-512, AVX2 and plain x86-64, picked at load (target_clones); no FMA
// contraction (-ffp-contract=off), so every ISA rounds alike.
#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace fer {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FER_CLONES
#endif

template <int C>
FER_CLONES void dw_weights_image(const float* __restrict x, const float* __restrict dy, float* __restrict g, int ih,
                                 int iw, int c_rt, int oh, int ow, int kh, int kw, int pt, int pl) {
  const int c = C > 0 ? C : c_rt;
  std::vector<float> heap(C > 0 ? 0 : 4 * c);
  float stack[C > 0 ? 4 * C : 1];
  float* __restrict acc = C > 0 ? stack : heap.data();
  for (int ky = 0; ky < kh; ++ky)
    for (int kx = 0; kx < kw; ++kx) {
      float* __restrict gk = g + (static_cast<int64_t>(ky) * kw + kx) * c;
      const int oy0 = std::max(0, pt - ky), oy1 = std::min(oh, ih + pt - ky);
      const int ox0 = std::max(0, pl - kx), ox1 = std::min(ow, iw + pl - kx);
      for (int oy = oy0; oy < oy1; ++oy) {
        const float* __restrict d = dy + (static_cast<int64_t>(oy) * ow + ox0) * c;
        const float* __restrict xr = x + (static_cast<int64_t>(oy - pt + ky) * iw + (ox0 - pl + kx)) * c;
        const int px = ox1 - ox0;
        for (int j = 0; j < 4 * c; ++j) acc[j] = 0.f;
        int i = 0;
        for (; i + 4 <= px; i += 4)
          for (int u = 0; u < 4; ++u)
            for (int ch = 0; ch < c; ++ch) acc[u * c + ch] += d[(i + u) * c + ch] * xr[(i + u) * c + ch];
        for (; i < px; ++i)
          for (int ch = 0; ch < c; ++ch) acc[ch] += d[i * c + ch] * xr[i * c + ch];
        for (int ch = 0; ch < c; ++ch) gk[ch] += (acc[ch] + acc[c + ch]) + (acc[2 * c + ch] + acc[3 * c + ch]);
      }
    }
}

}  // namespace

bool depthwise_weights_fits(const ConvParams& p) {
  return p.groups == p.ic && p.oc == p.ic && p.ic > 1 && p.ic < 16 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 &&
         p.oh == p.ih + p.pt + p.pb - p.kh + 1 && p.ow == p.iw + p.pl + p.pr - p.kw + 1;
}

// dfilter [kh, kw, c] from x (a) and dy (b): per-image sums, then added over the images in order (in double), so
// the result does not depend on the thread count.
void depthwise_weights(const ConvParams& p, const float* x, const float* dy, float* out) {
  const int c = p.ic;
  const size_t k = static_cast<size_t>(p.kh) * p.kw * c;
  std::vector<float> part(k * p.n, 0.f);
  auto run = [&](auto kc) {
    constexpr int C = decltype(kc)::value;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < p.n; ++i)
      dw_weights_image<C>(x + static_cast<int64_t>(i) * p.ih * p.iw * c, dy + static_cast<int64_t>(i) * p.oh * p.ow * c,
                          part.data() + k * i, p.ih, p.iw, c, p.oh, p.ow, p.kh, p.kw, p.pt, p.pl);
  };
  if (c == 8)
    run(std::integral_constant<int, 8>{});
  else
    run(std::integral_constant<int, 0>{});
  for (size_t j = 0; j < k; ++j) {
    double s = 0;
    for (int i = 0; i < p.n; ++i) s += part[k * i + j];
    out[j] = static_cast<float>(s);
  }
}

}  // namespace fer
