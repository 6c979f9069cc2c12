// Convolutions and their two gradients on oneDNN, NHWC activations and tfjs filter layouts
// (regular [kh, kw, ic, oc] = hwio; depthwise [kh, kw, c, multiplier] = hwigo with groups = c).
// Primitives are built once per geometry and kept; weights are reordered into whatever layout
// oneDNN's fastest kernel asks for (they are small, activations are not).
// bf16 mode (set_conv_bf16): the convolutions read bf16 copies of their inputs (src, weights, diff_dst) and
// write f32 outputs (dst, diff_src, diff_weights), so callers keep f32 buffers and f32 master weights, and
// accumulation stays f32; only the products are rounded. Twice the arithmetic rate on AVX-512 BF16 / AMX.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <memory>
#include <omp.h>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"

namespace fer {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static dnnl::stream s(eng());
  return s;
}

bool g_bf16 = false;

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

struct ConvEntry {
  memory::desc src_md, dst_md, wei_user_md;
  // bf16 mode: the compute copies of src and of dst's gradient (else src_md/dst_md, f32, and no copies).
  memory::desc src_c_md, dst_c_md;
  memory src_c, dst_c;
  // Reorders into the copies, made once (making one costs more than running it on small tensors).
  dnnl::reorder src_c_r, dst_c_r, fwd_wei_r, bwd_data_wei_r, bwd_w_out_r;
  // Each primitive gets its own scratchpad (user mode) instead of oneDNN's shared global one.
  memory fwd_scratch, bwd_data_scratch, bwd_w_scratch;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_forward fwd;
  memory fwd_wei;  // weights in the forward kernel's layout (when it differs)
  bool has_bwd_data = false, has_bwd_weights = false;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_data bwd_data;
  memory bwd_data_wei;
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd;
  dnnl::convolution_backward_weights bwd_w;
  memory bwd_w_diff_wei;
  std::vector<float> wei_t;  // a 1×1 kernel transposed, for its input gradient as a forward convolution
  std::vector<float> strided_tmp;  // that gradient at a strided 1×1's output cells, before it is spread out
};

std::string key_of(const ConvParams& p) {
  const int* v = reinterpret_cast<const int*>(&p);
  std::string k;
  for (size_t i = 0; i < sizeof(ConvParams) / sizeof(int); ++i) k += std::to_string(v[i]) + ",";
  return k + (g_bf16 ? "bf16" : "f32");
}

ConvEntry& entry_for(const ConvParams& p) {
  static std::unordered_map<std::string, std::unique_ptr<ConvEntry>> cache;
  auto k = key_of(p);
  auto it = cache.find(k);
  if (it != cache.end()) return *it->second;
  auto e = std::make_unique<ConvEntry>();
  const dt ct = g_bf16 ? dt::bf16 : dt::f32;  // what the kernels read
  e->src_md = memory::desc({p.n, p.ic, p.ih, p.iw}, dt::f32, tag::nhwc);
  e->dst_md = memory::desc({p.n, p.oc, p.oh, p.ow}, dt::f32, tag::nhwc);
  e->src_c_md = memory::desc(e->src_md.dims(), ct, tag::nhwc);
  e->dst_c_md = memory::desc(e->dst_md.dims(), ct, tag::nhwc);
  memory::desc wei_any;
  if (p.groups == 1) {
    e->wei_user_md = memory::desc({p.oc, p.ic, p.kh, p.kw}, dt::f32, tag::hwio);
    wei_any = memory::desc({p.oc, p.ic, p.kh, p.kw}, ct, tag::any);
  } else {
    memory::dims wd = {p.groups, p.oc / p.groups, p.ic / p.groups, p.kh, p.kw};
    e->wei_user_md = memory::desc(wd, dt::f32, tag::hwigo);
    wei_any = memory::desc(wd, ct, tag::any);
  }
  memory::dims strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1}, pl = {p.pt, p.pl}, pr = {p.pb, p.pr};
  auto fd = dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            e->src_c_md, wei_any, e->dst_md, strides, dil, pl, pr);
  e->fwd_pd = dnnl::convolution_forward::primitive_desc(fd, user_scratchpad(), eng());
  e->fwd_scratch = memory(e->fwd_pd.scratchpad_desc(), eng());
  e->fwd = dnnl::convolution_forward(e->fwd_pd);
  if (e->fwd_pd.weights_desc() != e->wei_user_md) e->fwd_wei = memory(e->fwd_pd.weights_desc(), eng());
  auto& ref = *e;
  cache[k] = std::move(e);
  return ref;
}

void ensure_bwd_data(ConvEntry& e, const ConvParams& p) {
  if (e.has_bwd_data) return;
  memory::desc wei_any(e.wei_user_md.dims(), e.dst_c_md.data_type(), tag::any);
  auto d = dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, e.src_md, wei_any, e.dst_c_md,
                                                 {p.sh, p.sw}, {p.dh - 1, p.dw - 1}, {p.pt, p.pl}, {p.pb, p.pr});
  e.bwd_data_pd = dnnl::convolution_backward_data::primitive_desc(d, user_scratchpad(), eng(), e.fwd_pd);
  e.bwd_data_scratch = memory(e.bwd_data_pd.scratchpad_desc(), eng());
  e.bwd_data = dnnl::convolution_backward_data(e.bwd_data_pd);
  if (e.bwd_data_pd.weights_desc() != e.wei_user_md) e.bwd_data_wei = memory(e.bwd_data_pd.weights_desc(), eng());
  e.has_bwd_data = true;
}

void ensure_bwd_weights(ConvEntry& e, const ConvParams& p) {
  if (e.has_bwd_weights) return;
  memory::desc wei_any(e.wei_user_md.dims(), dt::f32, tag::any);  // weight gradients stay f32 in bf16 mode too
  auto d = dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, e.src_c_md, wei_any,
                                                    e.dst_c_md, {p.sh, p.sw}, {p.dh - 1, p.dw - 1}, {p.pt, p.pl},
                                                    {p.pb, p.pr});
  e.bwd_w_pd = dnnl::convolution_backward_weights::primitive_desc(d, user_scratchpad(), eng(), e.fwd_pd);
  e.bwd_w_scratch = memory(e.bwd_w_pd.scratchpad_desc(), eng());
  e.bwd_w = dnnl::convolution_backward_weights(e.bwd_w_pd);
  if (e.bwd_w_pd.diff_weights_desc() != e.wei_user_md)
    e.bwd_w_diff_wei = memory(e.bwd_w_pd.diff_weights_desc(), eng());
  e.has_bwd_weights = true;
}

// `user` as a kernel reads it: the buffer itself when `copy` is unset, else reordered into `copy` by `r`
// (made on first use). Activations get a bf16 copy in bf16 mode; weights a copy in the kernel's layout.
memory converted(const memory& user, memory& copy, dnnl::reorder& r) {
  if (!copy) return user;
  if (!r) r = dnnl::reorder(user, copy);
  r.execute(strm(), const_cast<memory&>(user), copy);
  return copy;
}

memory compute_copy(const memory& user, const memory::desc& md, memory& copy, dnnl::reorder& r) {
  if (md == user.get_desc()) return user;
  if (!copy) copy = memory(md, eng());
  return converted(user, copy, r);
}

// A 1×1 kernel [ic, oc] (hwio) transposed to [oc, ic], in e's buffer: the kernel of its input gradient as a forward
// convolution.
const float* transposed_1x1(ConvEntry& e, const ConvParams& p, const float* w) {
  e.wei_t.resize(static_cast<size_t>(p.ic) * p.oc);
  for (int i = 0; i < p.ic; ++i)
    for (int o = 0; o < p.oc; ++o) e.wei_t[static_cast<size_t>(o) * p.ic + i] = w[static_cast<size_t>(i) * p.oc + o];
  return e.wei_t.data();
}

}  // namespace

bool set_conv_bf16(bool on) {
  if (on) {
    // Probe: a bf16 convolution this CPU has a kernel for (oneDNN has none without AVX-512 or AMX).
    try {
      memory::desc x({1, 8, 8, 8}, dt::bf16, tag::nhwc), w({8, 8, 3, 3}, dt::bf16, tag::any), y({1, 8, 8, 8}, dt::f32, tag::nhwc);
      auto d = dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x, w, y,
                                               {1, 1}, {1, 1}, {1, 1});
      dnnl::convolution_forward::primitive_desc(d, eng());
    } catch (const dnnl::error&) {
      return false;
    }
  }
  g_bf16 = on;
  return true;
}

void conv(ConvKind kind, const ConvParams& p, const float* a, const float* b, float* out) {
  ConvEntry& e = entry_for(p);
  auto* pa = const_cast<float*>(a);
  auto* pb = const_cast<float*>(b);
  switch (kind) {
    case ConvKind::Forward: {
      memory src(e.src_md, eng(), pa), dst(e.dst_md, eng(), out), wu(e.wei_user_md, eng(), pb);
      memory w = converted(wu, e.fwd_wei, e.fwd_wei_r), xs = compute_copy(src, e.src_c_md, e.src_c, e.src_c_r);
      e.fwd.execute(strm(), {{DNNL_ARG_SRC, xs}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, e.fwd_scratch}});
      break;
    }
    case ConvKind::BackwardData: {
      // A 1×1 convolution without padding has as input gradient the forward convolution of dy with the transposed
      // [ic, oc] matrix, at the strided cells (0 elsewhere). fer runs it so where oneDNN 2.6 is slow:
      // - stride 1 with fewer than 16 input channels (less than one AVX-512 block): its backward-data kernel took
      //   1.75 ms against its forward kernel's 0.80 for 8 -> 16 channels at 64×44×44 on one thread (mini-Xception's
      //   first module); from 16 channels up the two are within ±10%;
      // - strided, on an input that is not a whole number of strides (the 11×11 -> 6×6 shortcut): it has no 1×1
      //   backward-data kernel there, and its generic one took 0.42 ms on 2 threads for 64×11×11×32.
      const bool strided = p.sh > 1 || p.sw > 1;
      if (p.groups == 1 && p.kh == 1 && p.kw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0 && !g_bf16 &&
          (strided ? p.ih != p.oh * p.sh || p.iw != p.ow * p.sw : p.ic < 16)) {
        ConvParams q = p;
        q.ih = p.oh, q.iw = p.ow, q.ic = p.oc, q.oc = p.ic, q.sh = 1, q.sw = 1;
        if (!strided) {
          conv(ConvKind::Forward, q, a, transposed_1x1(e, p, b), out);
          return;
        }
        e.strided_tmp.resize(static_cast<size_t>(p.n) * p.oh * p.ow * p.ic);
        float* t = e.strided_tmp.data();
        conv(ConvKind::Forward, q, a, transposed_1x1(e, p, b), t);
        std::memset(out, 0, sizeof(float) * static_cast<size_t>(p.n) * p.ih * p.iw * p.ic);
#pragma omp parallel for collapse(2) schedule(static)
        for (int n = 0; n < p.n; ++n)
          for (int oy = 0; oy < p.oh; ++oy)
            for (int ox = 0; ox < p.ow; ++ox)
              std::memcpy(out + ((static_cast<int64_t>(n) * p.ih + oy * p.sh) * p.iw + ox * p.sw) * p.ic,
                          t + ((static_cast<int64_t>(n) * p.oh + oy) * p.ow + ox) * p.ic, sizeof(float) * p.ic);
        return;
      }
      ensure_bwd_data(e, p);
      memory ddst(e.dst_md, eng(), pa), dsrc(e.src_md, eng(), out), wu(e.wei_user_md, eng(), pb);
      memory w = converted(wu, e.bwd_data_wei, e.bwd_data_wei_r), dys = compute_copy(ddst, e.dst_c_md, e.dst_c, e.dst_c_r);
      e.bwd_data.execute(strm(), {{DNNL_ARG_DIFF_DST, dys}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_SCRATCHPAD, e.bwd_data_scratch}});
      break;
    }
    case ConvKind::BackwardWeights: {
      if (!g_bf16 && depthwise_weights_fits(p)) {
        depthwise_weights(p, a, b, out);
        return;
      }
      // oneDNN 2.6's jit_1x1 avx512 backward-weights kernel crashes (SIGSEGV in a worker thread) for strided
      // 1×1 convs on an odd minibatch with more than one thread (found with --batch-size 35 on 2 threads).
      // Such a primitive is made and run on one thread; the rest keep all of them.
      const bool one_thread = p.kh == 1 && p.kw == 1 && (p.sh > 1 || p.sw > 1) && p.n % 2 == 1;
      const int threads = omp_get_max_threads();
      if (one_thread) omp_set_num_threads(1);
      ensure_bwd_weights(e, p);
      memory src(e.src_md, eng(), pa), ddst(e.dst_md, eng(), pb), dwu(e.wei_user_md, eng(), out);
      memory dw = e.bwd_w_diff_wei ? e.bwd_w_diff_wei : dwu;
      memory xs = compute_copy(src, e.src_c_md, e.src_c, e.src_c_r), dys = compute_copy(ddst, e.dst_c_md, e.dst_c, e.dst_c_r);
      e.bwd_w.execute(strm(), {{DNNL_ARG_SRC, xs}, {DNNL_ARG_DIFF_DST, dys}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_SCRATCHPAD, e.bwd_w_scratch}});
      if (e.bwd_w_diff_wei) {
        if (!e.bwd_w_out_r) e.bwd_w_out_r = dnnl::reorder(dw, dwu);
        e.bwd_w_out_r.execute(strm(), dw, dwu);
      }
      if (one_thread) {
        strm().wait();
        omp_set_num_threads(threads);
      }
      break;
    }
  }
  strm().wait();
}

}  // namespace fer
