/*
 * fer's training kernels for tfjs's `wasm` backend, compiled to WebAssembly SIMD (native/wasm/build.sh).
 *
 * The module imports the backend's own memory: every pointer below is an offset into tfjs-backend-wasm's
 * heap (a tensor's memoryOffset), so kernels read inputs and write outputs in place, without copies. It
 * therefore owns no memory: no static data, no stack (build.sh checks the binary for both), scratch space
 * comes from the caller.
 *
 * NHWC layouts throughout; filter [kh, kw, ci, co] (depthwise: [kh, kw, c, 1]).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef struct {
  int n, h, w, oh, ow, sh, sw, kh, kw, top, left;
} Geometry;

static inline int max_i(int a, int b) { return a > b ? a : b; }
static inline int min_i(int a, int b) { return a < b ? a : b; }

/* The first and one-past-last output column whose input column ox·sw + kx − left lies in [0, w). */
static inline void valid_cols(const Geometry* g, int kx, int* ox0, int* ox1) {
  int lo = g->left - kx, hi = g->w + g->left - kx; /* need lo ≤ ox·sw < hi */
  int a = lo <= 0 ? 0 : (lo + g->sw - 1) / g->sw;
  int b = hi <= 0 ? 0 : (hi + g->sw - 1) / g->sw;
  *ox0 = min_i(a, g->ow);
  *ox1 = min_i(b, g->ow);
}

/* Iterates over image b's output pixels p whose tap (ky, kx) lies inside the input, with the Geometry
 * `g` in scope: body sees xp, the input pixel's channels (const or not, as xbase is), and dp, the output
 * pixel's channels. */
#define FOR_TAP_PIXELS(b, ky, kx, xbase, xstride, dbase, dstride, body)                   \
  do {                                                                                      \
    int ox0_, ox1_;                                                                         \
    valid_cols(g, kx, &ox0_, &ox1_);                                                        \
    for (int oy_ = 0; oy_ < g->oh; oy_++) {                                                 \
      const int y_ = oy_ * g->sh + (ky) - g->top;                                           \
      if (y_ < 0 || y_ >= g->h) continue;                                                   \
      __typeof__(&(xbase)[0]) xr_ = (xbase) + (long)(((b) * g->h + y_) * g->w) * (xstride); \
      const float* dr_ = (dbase) + (long)(((b) * g->oh + oy_) * g->ow) * (dstride);         \
      for (int ox_ = ox0_; ox_ < ox1_; ox_++) {                                             \
        __typeof__(xr_) xp = xr_ + (ox_ * g->sw + (kx) - g->left) * (xstride);              \
        const float* dp = dr_ + ox_ * (dstride);                                            \
        body;                                                                               \
      }                                                                                     \
    }                                                                                       \
  } while (0)

/* One block of a tap's filter gradient, vectors along output channels: dW[i0..i0+NI, o0..o0+4·NV]
 * = Σ_p x[i]·dy[o]. NI ≤ 4 and NV ≤ 2 are constants after inlining, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void block_over_o(const Geometry* g, const float* x, const float* dy, float* tap,
                                                               int ci, int co, int b, int ky, int kx, int i0, int o0, int NI, int NV) {
  v128_t acc[4][2];
  for (int i = 0; i < NI; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_v128_load(tap + (i0 + i) * co + o0 + 4 * v);
  FOR_TAP_PIXELS(b, ky, kx, x + i0, ci, dy + o0, co, {
    v128_t d[2];
    for (int v = 0; v < NV; v++) d[v] = wasm_v128_load(dp + 4 * v);
    for (int i = 0; i < NI; i++) {
      const v128_t xi = wasm_f32x4_splat(xp[i]);
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(xi, d[v]));
    }
  });
  for (int i = 0; i < NI; i++)
    for (int v = 0; v < NV; v++) wasm_v128_store(tap + (i0 + i) * co + o0 + 4 * v, acc[i][v]);
}

/* The same with vectors along input channels (for few or odd output channels): dW[i0..i0+4·NV, o0..o0+NO]. */
static inline __attribute__((always_inline)) void block_over_i(const Geometry* g, const float* x, const float* dy, float* tap,
                                                               int ci, int co, int b, int ky, int kx, int i0, int o0, int NO, int NV) {
  v128_t acc[4][2];
  for (int o = 0; o < NO; o++)
    for (int v = 0; v < NV; v++) {
      const float* t = tap + (i0 + 4 * v) * co + o0 + o;
      acc[o][v] = wasm_f32x4_make(t[0], t[co], t[2 * co], t[3 * co]);
    }
  FOR_TAP_PIXELS(b, ky, kx, x + i0, ci, dy + o0, co, {
    v128_t xv[2];
    for (int v = 0; v < NV; v++) xv[v] = wasm_v128_load(xp + 4 * v);
    for (int o = 0; o < NO; o++) {
      const v128_t d = wasm_f32x4_splat(dp[o]);
      for (int v = 0; v < NV; v++) acc[o][v] = wasm_f32x4_add(acc[o][v], wasm_f32x4_mul(xv[v], d));
    }
  });
  for (int o = 0; o < NO; o++)
    for (int v = 0; v < NV; v++) {
      float* t = tap + (i0 + 4 * v) * co + o0 + o;
      t[0] = wasm_f32x4_extract_lane(acc[o][v], 0);
      t[co] = wasm_f32x4_extract_lane(acc[o][v], 1);
      t[2 * co] = wasm_f32x4_extract_lane(acc[o][v], 2);
      t[3 * co] = wasm_f32x4_extract_lane(acc[o][v], 3);
    }
}

static void block_scalar(const Geometry* g, const float* x, const float* dy, float* tap, int ci, int co, int b, int ky, int kx, int i, int o) {
  float s = tap[i * co + o];
  FOR_TAP_PIXELS(b, ky, kx, x + i, ci, dy + o, co, { s += xp[0] * dp[0]; });
  tap[i * co + o] = s;
}

/*
 * Conv2D filter gradient: dW[ky, kx, i, o] = Σ over output pixels p of x[tap(p), i] · dy[p, o]. One image
 * at a time (its x and dy stay in cache while every block passes over them), register blocks stream over
 * the image's pixels of a tap: 4 input × 8 output channels when the output channels come in
 * fours (vectors along o), else 8 input × up to 4 output channels (vectors along i); scalar otherwise.
 */
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const float* restrict x, const float* restrict dy, float* restrict dw,
                        int n, int h, int w, int ci, int oh, int ow, int co,
                        int sh, int sw, int kh, int kw, int top, int left) {
  const Geometry geo = {n, h, w, oh, ow, sh, sw, kh, kw, top, left};
  const Geometry* g = &geo;
  for (int i = 0; i < kh * kw * ci * co; i++) dw[i] = 0;
  for (int b = 0; b < n; b++)
  for (int ky = 0; ky < kh; ky++) {
    for (int kx = 0; kx < kw; kx++) {
      float* tap = dw + (ky * kw + kx) * ci * co;
      if (co % 4 == 0) {
        int i = 0;
        for (; i + 4 <= ci; i += 4) {
          int o = 0;
          for (; o + 8 <= co; o += 8) block_over_o(g, x, dy, tap, ci, co, b, ky, kx, i, o, 4, 2);
          if (o < co) block_over_o(g, x, dy, tap, ci, co, b, ky, kx, i, o, 4, 1);
        }
        for (; i < ci; i++) {
          int o = 0;
          for (; o + 8 <= co; o += 8) block_over_o(g, x, dy, tap, ci, co, b, ky, kx, i, o, 1, 2);
          if (o < co) block_over_o(g, x, dy, tap, ci, co, b, ky, kx, i, o, 1, 1);
        }
      } else if (ci % 4 == 0) {
        for (int i = 0; i < ci;) {
          const int nv = i + 8 <= ci ? 2 : 1;
          int o = 0;
          for (; o + 4 <= co; o += 4) {
            if (nv == 2) block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 4, 2);
            else block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 4, 1);
          }
          switch ((co - o) * 2 + nv - 1) {
            case 2: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 1, 1); break;
            case 3: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 1, 2); break;
            case 4: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 2, 1); break;
            case 5: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 2, 2); break;
            case 6: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 3, 1); break;
            case 7: block_over_i(g, x, dy, tap, ci, co, b, ky, kx, i, o, 3, 2); break;
            default: break;
          }
          i += 4 * nv;
        }
      } else {
        for (int i = 0; i < ci; i++)
          for (int o = 0; o < co; o++) block_scalar(g, x, dy, tap, ci, co, b, ky, kx, i, o);
      }
    }
  }
}

/*
 * Input gradient of a 1×1 conv (any stride): dx[tap(p), i] = Σ_o dy[p, o] · W[i, o], with wt = Wᵀ ([co, ci],
 * the caller's) so that vectors run along i: blocks of 4 pixels × 8 input channels. Pixels a strided conv
 * skips get 0. Needs ci % 4 == 0.
 */
static inline __attribute__((always_inline)) void pointwise_block(const float* d0, const float* wt, float* const* out, int co, int ci,
                                                                  int i0, int NP, int NV) {
  v128_t acc[4][2];
  for (int p = 0; p < NP; p++)
    for (int v = 0; v < NV; v++) acc[p][v] = wasm_f32x4_splat(0);
  for (int o = 0; o < co; o++) {
    v128_t wv[2];
    for (int v = 0; v < NV; v++) wv[v] = wasm_v128_load(wt + o * ci + i0 + 4 * v);
    for (int p = 0; p < NP; p++) {
      const v128_t d = wasm_f32x4_splat(d0[p * co + o]);
      for (int v = 0; v < NV; v++) acc[p][v] = wasm_f32x4_add(acc[p][v], wasm_f32x4_mul(d, wv[v]));
    }
  }
  for (int p = 0; p < NP; p++)
    for (int v = 0; v < NV; v++) wasm_v128_store(out[p] + i0 + 4 * v, acc[p][v]);
}

EXPORT(pointwise_input_grad)
void pointwise_input_grad(const float* restrict dy, const float* restrict wt, float* restrict dx,
                          int n, int h, int w, int ci, int oh, int ow, int co, int sh, int sw, int top, int left) {
  if (sh != 1 || sw != 1 || oh != h || ow != w)
    for (long i = 0; i < (long)n * h * w * ci; i++) dx[i] = 0;
  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const int y = oy * sh - top;
      if (y < 0 || y >= h) continue;
      int ox = 0;
      while (ox < ow) {
        /* up to 4 consecutive output pixels of this row whose input pixel exists */
        float* out[4];
        int np = 0;
        while (np < 4 && ox < ow) {
          const int xx = ox * sw - left;
          if (xx >= 0 && xx < w) out[np++] = dx + ((long)(b * h + y) * w + xx) * ci;
          else if (np == 0) { ox++; continue; }
          else break;
          ox++;
        }
        if (np == 0) break;
        const float* d0 = dy + ((long)(b * oh + oy) * ow + (ox - np)) * co;
        for (int i = 0; i < ci;) {
          const int nv = i + 8 <= ci ? 2 : 1;
          switch (np * 2 + nv - 1) {
            case 2: pointwise_block(d0, wt, out, co, ci, i, 1, 1); break;
            case 3: pointwise_block(d0, wt, out, co, ci, i, 1, 2); break;
            case 4: pointwise_block(d0, wt, out, co, ci, i, 2, 1); break;
            case 5: pointwise_block(d0, wt, out, co, ci, i, 2, 2); break;
            case 6: pointwise_block(d0, wt, out, co, ci, i, 3, 1); break;
            case 7: pointwise_block(d0, wt, out, co, ci, i, 3, 2); break;
            case 8: pointwise_block(d0, wt, out, co, ci, i, 4, 1); break;
            default: pointwise_block(d0, wt, out, co, ci, i, 4, 2); break;
          }
          i += 4 * nv;
        }
      }
    }
  }
}

/*
 * Depthwise filter gradient, channel multiplier 1: dW[ky, kx, c] = Σ_p x[tap(p), c] · dy[p, c]. For each
 * output row and tap, one vector pass over the row's pixels and channels, accumulating into dw (L1-resident).
 */
EXPORT(depthwise_filter_grad)
void depthwise_filter_grad(const float* restrict x, const float* restrict dy, float* restrict dw,
                           int n, int h, int w, int c, int oh, int ow,
                           int sh, int sw, int kh, int kw, int top, int left) {
  const Geometry geo = {n, h, w, oh, ow, sh, sw, kh, kw, top, left};
  const Geometry* g = &geo;
  for (int i = 0; i < kh * kw * c; i++) dw[i] = 0;
  for (int b = 0; b < n; b++)
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; kx < kw; kx++) {
        float* restrict t = dw + (ky * kw + kx) * c;
        FOR_TAP_PIXELS(b, ky, kx, x, c, dy, c, {
          for (int ch = 0; ch < c; ch++) t[ch] += xp[ch] * dp[ch];
        });
      }
}

/*
 * Adds tap (ky, kx)'s input gradient src ([n, oh, ow, c]) into dx ([n, h, w, c]) at the tap's strided input
 * positions: the scatter step of a strided conv's input gradient.
 */
EXPORT(scatter_tap)
void scatter_tap(const float* restrict src, float* restrict dx, int n, int h, int w, int c, int oh, int ow,
                 int sh, int sw, int ky, int kx, int top, int left) {
  const Geometry geo = {n, h, w, oh, ow, sh, sw, 1, 1, top, left};
  const Geometry* g = &geo;
  for (int b = 0; b < n; b++)
    FOR_TAP_PIXELS(b, ky, kx, dx, c, src, c, {
      for (int ch = 0; ch < c; ch++) xp[ch] += dp[ch];
    });
}

/*
 * MaxPoolGrad: each output's gradient goes to the first maximum of its window in row-major order (tfjs
 * cpu's semantics; padding never wins). Vectors of 4 channels: the window's max, then one pass that adds
 * dy where x equals it and no earlier element did. Needs c % 4 == 0 (the caller checks).
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float* restrict x, const float* restrict dy, float* restrict dx,
                   int n, int h, int w, int c, int oh, int ow, int sh, int sw, int kh, int kw, int top, int left) {
  for (long i = 0; i < (long)n * h * w * c; i++) dx[i] = 0;
  for (int b = 0; b < n; b++) {
    const long img = (long)b * h * w * c;
    for (int oy = 0; oy < oh; oy++) {
      const int y0 = max_i(oy * sh - top, 0), y1 = min_i(oy * sh - top + kh, h);
      for (int ox = 0; ox < ow; ox++) {
        const int x0 = max_i(ox * sw - left, 0), x1 = min_i(ox * sw - left + kw, w);
        const float* go = dy + ((long)(b * oh + oy) * ow + ox) * c;
        for (int ch = 0; ch < c; ch += 4) {
          v128_t m = wasm_v128_load(x + img + (y0 * w + x0) * c + ch);
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) m = wasm_f32x4_pmax(m, wasm_v128_load(x + img + (yy * w + xx) * c + ch));
          const v128_t gv = wasm_v128_load(go + ch);
          v128_t taken = wasm_i32x4_splat(0);
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              const long at = img + (yy * w + xx) * c + ch;
              const v128_t hit = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + at), m), taken);
              taken = wasm_v128_or(taken, hit);
              wasm_v128_store(dx + at, wasm_f32x4_add(wasm_v128_load(dx + at), wasm_v128_and(hit, gv)));
            }
        }
      }
    }
  }
}

/*
 * Batch norm with batch statistics over the rows of x [m, c]. Sums are accumulated in float over blocks of
 * BLOCK rows and then in double (scratch: 2c doubles), so long columns keep float64-like accuracy.
 */
#define BLOCK 64

/* s1 = Σ_rows (u − cu), s2 = Σ_rows (u − cu)·(v − cv), per column (cu may be 0: no shift). */
static void column_sums(const float* restrict u, const float* restrict cu, const float* v, const float* restrict cv, int m, int c,
                        float* restrict part1, float* restrict part2, double* restrict s1, double* restrict s2) {
  for (int j = 0; j < c; j++) s1[j] = s2[j] = 0;
  for (int i0 = 0; i0 < m; i0 += BLOCK) {
    const int i1 = min_i(i0 + BLOCK, m);
    for (int j = 0; j < c; j++) part1[j] = part2[j] = 0;
    for (int i = i0; i < i1; i++) {
      const float* ru = u + (long)i * c;
      const float* rv = v + (long)i * c;
      for (int j = 0; j < c; j++) {
        const float d = cu ? ru[j] - cu[j] : ru[j];
        part1[j] += d;
        part2[j] += d * (rv[j] - cv[j]);
      }
    }
    for (int j = 0; j < c; j++) {
      s1[j] += part1[j];
      s2[j] += part2[j];
    }
  }
}

/*
 * y = (x − mean)·gamma/√(var + eps) + beta, with mean and biased variance over the rows. Sums are taken
 * around the first row (a shift that keeps Σ(x−x₀)² − (Σ(x−x₀))²/m free of cancellation). gamma/beta may be
 * 0 (ones/zeros). scratch: 4c floats + 2c doubles (8-byte aligned).
 */
EXPORT(bn_train_forward)
void bn_train_forward(const float* restrict x, const float* restrict gamma, const float* restrict beta, int m, int c,
                      float eps, float* restrict y, float* restrict mean, float* restrict variance,
                      float* restrict scratch, double* restrict dscratch) {
  float* part1 = scratch;
  float* part2 = scratch + c;
  float* scale = scratch + 2 * c;
  float* shift = scratch + 3 * c;
  double* s1 = dscratch;
  double* s2 = dscratch + c;
  column_sums(x, x, x, x, m, c, part1, part2, s1, s2);
  for (int j = 0; j < c; j++) {
    const double d = s1[j] / m, mu = x[j] + d;
    double v = s2[j] / m - d * d;
    if (v < 0) v = 0;
    mean[j] = (float)mu;
    variance[j] = (float)v;
    const double sc = (gamma ? gamma[j] : 1.0) / __builtin_sqrt(v + eps);
    scale[j] = (float)sc;
    shift[j] = (float)((beta ? beta[j] : 0.0) - mu * sc);
  }
  for (int i = 0; i < m; i++) {
    const float* r = x + (long)i * c;
    float* o = y + (long)i * c;
    for (int j = 0; j < c; j++) o[j] = r[j] * scale[j] + shift[j];
  }
}

/*
 * dx = g·inv/m·(m·dy − Σdy − x̂·Σ(dy·x̂)), dgamma = Σ(dy·x̂), dbeta = Σdy, with x̂ = (x − mean)·inv.
 * scratch: 5c floats + 2c doubles.
 */
EXPORT(bn_train_backward)
void bn_train_backward(const float* restrict dy, const float* restrict x, const float* restrict gamma,
                       const float* restrict mean, const float* restrict variance, int m, int c, float eps,
                       float* restrict dx, float* restrict dgamma, float* restrict dbeta,
                       float* restrict scratch, double* restrict dscratch) {
  float* p1 = scratch;
  float* p2 = scratch + c;
  float* k = scratch + 2 * c;
  float* a = scratch + 3 * c;
  float* bb = scratch + 4 * c;
  double* sdy = dscratch;
  double* sdyx = dscratch + c;
  column_sums(dy, 0, x, mean, m, c, p1, p2, sdy, sdyx);
  for (int j = 0; j < c; j++) {
    const double inv = 1.0 / __builtin_sqrt((double)variance[j] + eps);
    const double sx = sdyx[j] * inv; /* Σ(dy·x̂) */
    const double gi = (gamma ? gamma[j] : 1.0) * inv;
    dbeta[j] = (float)sdy[j];
    dgamma[j] = (float)sx;
    k[j] = (float)gi;
    a[j] = (float)(-gi * sx * inv / m);
    bb[j] = (float)(-gi * sdy[j] / m + gi * sx * inv * mean[j] / m);
  }
  for (int i = 0; i < m; i++) {
    const float* g = dy + (long)i * c;
    const float* r = x + (long)i * c;
    float* o = dx + (long)i * c;
    for (int j = 0; j < c; j++) o[j] = g[j] * k[j] + r[j] * a[j] + bb[j];
  }
}
