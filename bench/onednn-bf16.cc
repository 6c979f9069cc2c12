// Would bf16 make the teacher train faster? One 3×3 convolution (forward_training, NHWC, padding 1) at each of
// resnet18-w32's stage widths and resolutions, batch 64, f32 against bf16 (oneDNN picks its AVX-512 BF16 kernels
// on this CPU; AMX is not exposed to this VM). Issue #23; BENCHMARKS.md "Session 8".
//   g++ -O2 -std=c++17 bench/onednn-bf16.cc -o /tmp/onednn-bf16 -ldnnl && OMP_NUM_THREADS=1 /tmp/onednn-bf16
#include <oneapi/dnnl/dnnl.hpp>
#include <chrono>
#include <cstdio>
using namespace dnnl; using dt = memory::data_type; using tag = memory::format_tag;
double t(engine& e, stream& s, int n, int c, int hw, dt d, const char** impl) {
  memory::desc src({n, c, hw, hw}, d, tag::nhwc), dst({n, c, hw, hw}, d, tag::nhwc), w({c, c, 3, 3}, d, tag::any);
  auto cd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, w, dst, {1, 1}, {1, 1}, {1, 1});
  auto pd = convolution_forward::primitive_desc(cd, e); *impl = pd.impl_info_str();
  memory ms(src, e), mw(pd.weights_desc(), e), md(dst, e); convolution_forward cv(pd);
  for (int i = 0; i < 5; i++) cv.execute(s, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}}); s.wait();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; i++) cv.execute(s, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}}); s.wait();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 20;
}
int main() { engine e(engine::kind::cpu, 0); stream s(e);
  int cfg[4][2] = {{32, 48}, {64, 24}, {128, 12}, {256, 6}};
  for (auto& c : cfg) { const char *a, *b; double f = t(e, s, 64, c[0], c[1], dt::f32, &a), h = t(e, s, 64, c[0], c[1], dt::bf16, &b);
    printf("c=%d hw=%d f32 %.2f ms (%s) bf16 %.2f ms (%s) %.2fx\n", c[0], c[1], f, a, h, b, f / h); } }
