// Training augmentation: each 48×48 uint8 image of a batch through its own affine map (output pixel → source
// pixel), bilinear, edge pixels repeated, scaled into the network's input range. The same arithmetic in the same
// order as src/data/augment.ts's JavaScript warp (doubles, no contraction into FMAs: -ffp-contract=off), so
// the two give the same floats bit for bit; this one runs the batch's images on OpenMP's threads.
#include <omp.h>

#include <cstdint>

#include "kernels.h"

namespace fer {

namespace {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FER_WARP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FER_WARP_CLONES
#endif
// One image, built for AVX-512, AVX2 and plain x86-64 where GCC can (picked at load); each row's 48 pixels as SIMD
// lanes, lane by lane the same IEEE operations as the scalar loop (no FMA: -ffp-contract=off), so the same floats.
FER_WARP_CLONES void warp_one(const uint8_t* src, float* dst, const double* m, double scale, double offset) {
  constexpr int S = 48;
  const double a = m[0], bb = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  for (int y = 0; y < S; ++y) {
#pragma omp simd
    for (int x = 0; x < S; ++x) {
      double sx = a * x + bb * y + c, sy = d * x + e * y + f;
      // As JavaScript's clamp for every number; a NaN (never drawn) reads pixel 0 instead of making one.
      sx = !(sx > 0) ? 0 : sx > S - 1 ? S - 1 : sx;
      sy = !(sy > 0) ? 0 : sy > S - 1 ? S - 1 : sy;
      // sx, sy ≥ 0 here, so truncation is floor (without SSE4.1, std::floor is a libm call per pixel).
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int x1 = x0 + 1 < S - 1 ? x0 + 1 : S - 1, y1 = y0 + 1 < S - 1 ? y0 + 1 : S - 1;
      const double fx = sx - x0, fy = sy - y0;
      const double v = (src[y0 * S + x0] * (1 - fx) + src[y0 * S + x1] * fx) * (1 - fy) +
                       (src[y1 * S + x0] * (1 - fx) + src[y1 * S + x1] * fx) * fy;
      dst[y * S + x] = static_cast<float>(v * scale + offset);
    }
  }
}
}  // namespace

void warp_batch(const uint8_t* images, int64_t n_images, const int32_t* idx, int n, const double* affines, float* out,
                double scale, double offset) {
  constexpr int S = 48, P = S * S;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < n; ++b) {
    const int64_t k = idx[b];
    if (k < 0 || k >= n_images) continue;  // checked by the caller; never read outside the images
    const uint8_t* src = images + k * P;
    float* dst = out + static_cast<int64_t>(b) * P;
    const double* m = affines + 6 * static_cast<int64_t>(b);
    warp_one(src, dst, m, scale, offset);
  }
}

}  // namespace fer
