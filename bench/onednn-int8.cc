// Can oneDNN's int8 convolutions (AVX-512 VNNI / AMX on this CPU) make fer's native engine faster at
// inference? The mini-Xception's convolutions, one oneDNN primitive each, timed at f32 (what the native
// engine runs) and at int8 (u8 activations, s8 weights, u8 outputs with output scales, as a quantized
// engine would run them), NHWC activations and the weight layout oneDNN picks, at batch 1 and 64.
// Kernel time only: no reorders, no framework; an upper bound on what an int8 path could win.
//
// Build and run (issue #24; BENCHMARKS.md "native int8"):
//   g++ -O2 -std=c++17 bench/onednn-int8.cc -o /tmp/onednn-int8 -ldnnl && OMP_NUM_THREADS=2 /tmp/onednn-int8
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace dnnl;
using dt = memory::data_type;
using tag = memory::format_tag;

struct Layer {
  std::string name;
  int ic, oc, size, k, stride, pad, groups;
};

static std::vector<Layer> miniXception() {
  std::vector<Layer> L = {{"stem1 3x3", 1, 8, 48, 3, 1, 0, 1}, {"stem2 3x3", 8, 8, 46, 3, 1, 0, 1}};
  int prev = 8, size = 44;
  const int chans[4] = {16, 32, 64, 128};
  for (int m = 0; m < 4; m++) {
    int c = chans[m];
    std::string p = "m" + std::to_string(m + 1) + " ";
    L.push_back({p + "residual 1x1/2", prev, c, size, 1, 2, 0, 1});
    L.push_back({p + "dw1 3x3", prev, prev, size, 3, 1, 1, prev});
    L.push_back({p + "pw1 1x1", prev, c, size, 1, 1, 0, 1});
    L.push_back({p + "dw2 3x3", c, c, size, 3, 1, 1, c});
    L.push_back({p + "pw2 1x1", c, c, size, 1, 1, 0, 1});
    prev = c;
    size = (size + 1) / 2;
  }
  L.push_back({"head 3x3", prev, 7, size, 3, 1, 1, 1});
  return L;
}

static double timeConv(engine& eng, stream& s, const Layer& l, int n, bool int8, std::string* impl) {
  int out = (l.size + 2 * l.pad - l.k) / l.stride + 1;
  dt a = int8 ? dt::u8 : dt::f32, w = int8 ? dt::s8 : dt::f32;
  memory::desc src({n, l.ic, l.size, l.size}, a, tag::nhwc), dst({n, l.oc, out, out}, a, tag::nhwc);
  memory::dims wd = l.groups == 1 ? memory::dims{l.oc, l.ic, l.k, l.k} : memory::dims{l.groups, l.oc / l.groups, l.ic / l.groups, l.k, l.k};
  memory::desc wei(wd, w, tag::any), bias({l.oc}, int8 ? dt::s32 : dt::f32, tag::x);
  primitive_attr attr;
  if (int8) attr.set_output_scales(0, {0.05f});
  auto d = convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src, wei, bias, dst, {l.stride, l.stride},
                                     {l.pad, l.pad}, {l.pad, l.pad});
  auto pd = convolution_forward::primitive_desc(d, attr, eng);
  *impl = pd.impl_info_str();
  memory ms(src, eng), mw(pd.weights_desc(), eng), mb(bias, eng), md(dst, eng);
  convolution_forward conv(pd);
  auto run = [&] { conv.execute(s, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}}); };
  for (int i = 0; i < 20; i++) run();
  s.wait();
  int iters = n == 1 ? 2000 : 100;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; i++) run();
  s.wait();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iters;
}

int main() {
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  for (int n : {1, 64}) {
    double f32 = 0, i8 = 0;
    std::printf("batch %d\n%-18s %10s %10s %7s  %s\n", n, "layer", "f32 us", "int8 us", "ratio", "int8 kernel");
    for (const auto& l : miniXception()) {
      std::string implF, implI;
      double a = timeConv(eng, s, l, n, false, &implF), b = timeConv(eng, s, l, n, true, &implI);
      f32 += a;
      i8 += b;
      std::printf("%-18s %10.2f %10.2f %6.2fx  %s (f32: %s)\n", l.name.c_str(), a, b, a / b, implI.c_str(), implF.c_str());
    }
    std::printf("%-18s %10.2f %10.2f %6.2fx\n\n", "all convs", f32, i8, f32 / i8);
  }
}
