// N-API surface of the fer native engine: unpacks typed arrays (no copies: kernels read and write
// the tfjs cpu backend's own buffers) and forwards to kernels.h. Errors become JS exceptions.
#include <napi.h>
#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include <exception>
#include <stdexcept>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kernels.h"

namespace {

float* f32(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return v.As<Napi::Float32Array>().Data();
}
int64_t len(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength()); }
int i32(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }

// Denormal floats (weights of long-dead channels decay into them under L2) make x86 arithmetic take a
// microcode assist per operation: a training run slowed from ~115 to ~185 s an epoch, and inference of an
// exported model with 3,444 denormal weights ran 4x slower. Kernels run with flush-to-zero and
// denormals-are-zero: set for the OpenMP workers once per thread count (no JavaScript runs on them), and
// on the calling (JavaScript) thread only for the duration of each kernel.
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFtzDaz = 0x8040;
struct FlushDenormals {
  unsigned saved = _mm_getcsr();
  FlushDenormals() {
    static int workers_done_for = 0;
    if (workers_done_for != omp_get_max_threads()) {
#pragma omp parallel
      _mm_setcsr(_mm_getcsr() | kFtzDaz);
      workers_done_for = omp_get_max_threads();
    }
    _mm_setcsr(saved | kFtzDaz);
  }
  ~FlushDenormals() { _mm_setcsr(saved); }
};
#else
struct FlushDenormals {};
#endif

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F f) {
  try {
    FlushDenormals ftz;
    f();
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string("fer-native: ") + e.what()).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// conv(kind, params Int32Array[18], a, b, out)
Napi::Value Conv(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto params = info[1].As<Napi::Int32Array>();
    fer::ConvParams p;
    std::copy(params.Data(), params.Data() + 18, reinterpret_cast<int*>(&p));
    fer::conv(static_cast<fer::ConvKind>(i32(info[0])), p, f32(info[2]), f32(info[3]), f32(info[4]));
  });
}

fer::PoolParams pool_params(const Napi::Value& v) {
  auto a = v.As<Napi::Int32Array>();
  fer::PoolParams p;
  std::copy(a.Data(), a.Data() + 12, reinterpret_cast<int*>(&p));
  return p;
}
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { fer::max_pool(pool_params(info[0]), f32(info[1]), f32(info[2])); });
}
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info,
                 [&] { fer::max_pool_grad(pool_params(info[0]), f32(info[1]), f32(info[2]), f32(info[3])); });
}

// bnTrainForward(x, gamma|null, beta|null, c, eps, y, mean, var)
Napi::Value BnTrainForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int c = i32(info[3]);
    fer::bn_train_forward(f32(info[0]), f32(info[1]), f32(info[2]), len(info[0]) / c, c,
                          info[4].As<Napi::Number>().FloatValue(), f32(info[5]), f32(info[6]), f32(info[7]));
  });
}
// bnTrainBackward(dy, x, gamma|null, mean, var, c, eps, dx, dgamma, dbeta)
Napi::Value BnTrainBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int c = i32(info[5]);
    fer::bn_train_backward(f32(info[0]), f32(info[1]), f32(info[2]), f32(info[3]), f32(info[4]), len(info[0]) / c,
                           c, info[6].As<Napi::Number>().FloatValue(), f32(info[7]), f32(info[8]), f32(info[9]));
  });
}
// bnInfer(x, mean, var, offset|null, scale|null, c, eps, y)
Napi::Value BnInfer(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int c = i32(info[5]);
    fer::bn_infer(f32(info[0]), f32(info[1]), f32(info[2]), f32(info[3]), f32(info[4]), len(info[0]) / c, c,
                  info[6].As<Napi::Number>().FloatValue(), f32(info[7]));
  });
}
// binary(op, a, b, out)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::binary(static_cast<fer::BinaryOp>(i32(info[0])), f32(info[1]), len(info[1]), f32(info[2]), len(info[2]),
                f32(info[3]));
  });
}
// binaryMid(op, a, b, outer, mid, inner, smallIsA, out)
Napi::Value BinaryMid(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::binary_mid(static_cast<fer::BinaryOp>(i32(info[0])), f32(info[1]), f32(info[2]),
                    static_cast<int64_t>(info[3].As<Napi::Number>().Int64Value()),
                    static_cast<int64_t>(info[4].As<Napi::Number>().Int64Value()),
                    static_cast<int64_t>(info[5].As<Napi::Number>().Int64Value()), info[6].As<Napi::Boolean>().Value(),
                    f32(info[7]));
  });
}
// meanMid(x, outer, mid, inner, out)
Napi::Value MeanMid(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::mean_mid(f32(info[0]), info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value(),
                  info[3].As<Napi::Number>().Int64Value(), f32(info[4]));
  });
}
// unary(op, x, y)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info,
                 [&] { fer::unary(static_cast<fer::UnaryOp>(i32(info[0])), f32(info[1]), len(info[1]), f32(info[2])); });
}
// sumRows(x, c, out) / sumCols(x, c, out)
Napi::Value SumRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int c = i32(info[1]);
    fer::sum_rows(f32(info[0]), len(info[0]) / c, c, f32(info[2]));
  });
}
Napi::Value SumCols(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int c = i32(info[1]);
    fer::sum_cols(f32(info[0]), len(info[0]) / c, c, f32(info[2]));
  });
}
// adamUpdate(x, m, v, g, k Float32Array[8], x1, m1, v1)
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::adam_update(f32(info[0]), f32(info[1]), f32(info[2]), f32(info[3]), len(info[0]), f32(info[4]), f32(info[5]),
                     f32(info[6]), f32(info[7]));
  });
}
// momentumUpdate(x, acc, g, k Float32Array[2], nesterov, x1, acc1)
Napi::Value MomentumUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::momentum_update(f32(info[0]), f32(info[1]), f32(info[2]), len(info[0]), f32(info[3]),
                         info[4].As<Napi::Boolean>().Value(), f32(info[5]), f32(info[6]));
  });
}
// l2Penalty(w, l2) -> number; l2PenaltyGrad(w, l2, dy, g); reluGrad(dy, x, dx)
Napi::Value L2Penalty(const Napi::CallbackInfo& info) {
  float r = 0.f;
  guarded(info, [&] { r = fer::l2_penalty(f32(info[0]), len(info[0]), info[1].As<Napi::Number>().FloatValue()); });
  return Napi::Number::New(info.Env(), r);
}
Napi::Value L2PenaltyGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    fer::l2_penalty_grad(f32(info[0]), len(info[0]), info[1].As<Napi::Number>().FloatValue(),
                         info[2].As<Napi::Number>().FloatValue(), f32(info[3]));
  });
}
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { fer::relu_grad(f32(info[0]), f32(info[1]), len(info[0]), f32(info[2])); });
}
// warpBatch(images Uint8Array, idx Int32Array, affines Float64Array[6n], out Float32Array[n·2304], scale, offset)
Napi::Value WarpBatch(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto images = info[0].As<Napi::Uint8Array>();
    auto idx = info[1].As<Napi::Int32Array>();
    auto affines = info[2].As<Napi::Float64Array>();
    const int n = static_cast<int>(idx.ElementLength());
    const int64_t n_images = static_cast<int64_t>(images.ElementLength() / 2304);
    if (affines.ElementLength() < 6 * static_cast<size_t>(n) || len(info[3]) < static_cast<int64_t>(n) * 2304)
      throw std::runtime_error("warpBatch: affines or out too short");
    for (int b = 0; b < n; ++b)
      if (idx.Data()[b] < 0 || idx.Data()[b] >= n_images) throw std::runtime_error("warpBatch: image index out of range");
    fer::warp_batch(images.Data(), n_images, idx.Data(), n, affines.Data(), f32(info[3]),
                    info[4].As<Napi::Number>().DoubleValue(), info[5].As<Napi::Number>().DoubleValue());
  });
}
// runPlan(arena Float32Array, program Int32Array, times?: Float64Array[32]): a whole training step (step.cc).
Napi::Value RunPlan(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto prog = info[1].As<Napi::Int32Array>();
    double* times = info.Length() > 2 && info[2].IsTypedArray() ? info[2].As<Napi::Float64Array>().Data() : nullptr;
    if (times && info[2].As<Napi::Float64Array>().ElementLength() < 64) throw std::runtime_error("runPlan: times needs 64 doubles");
    fer::run_plan(f32(info[0]), prog.Data(), static_cast<int64_t>(prog.ElementLength()), times);
  });
}
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  fer::set_threads(i32(info[0]));
  return Napi::Number::New(info.Env(), fer::get_threads());
}
Napi::Value SetConvBf16(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), fer::set_conv_bf16(info[0].As<Napi::Boolean>().Value()));
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fer::get_threads()); }

// tfjs allocates every tensor's buffer anew (tens of MB per activation of a wide net at batch 64) and frees
// it at once. glibc serves such blocks with mmap and gives them back to the kernel on free, so the next
// kernel writing a fresh buffer pays a page fault per 4 KiB: on the development VM that made a 1×1
// convolution over 64×44×44×64 take 115 ms instead of 5, and the 4×-wide mini-Xception's training step
// 3.8–4.6× slower (two measurements, BENCHMARKS.md). Blocks under 32 MiB (glibc's ceiling for this
// setting) come from the heap instead, and up to 512 MiB of freed heap stays mapped for the next tensor.
// Process-wide, glibc only: so it is not applied when the addon loads (a library user who only predicts, or
// the host application, keeps its allocator as it was) but by training when a run starts
// (keepFreedMemory(), called by src/train/fit.ts through engine/native/backend.ts). Returns whether it applied.
Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// adviseHugePages(Float32Array): asks Linux for 2 MiB pages over the array's whole 2 MiB-aligned interior
// (madvise MADV_HUGEPAGE). A step's arena (170 MiB for the paper network at batch 64) is walked end to end every
// step; with 4 KiB pages that is ~44,000 pages, far more than the TLB holds, so the memory-bound kernels (batch
// norm, pooling, adds) pay page walks. Where transparent huge pages are in `madvise` mode (Debian's default)
// nothing gets them unless asked. Pages already written keep their size until khugepaged merges them, so call it
// before the first write. Returns the bytes advised (0: not Linux, too small, or refused).
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  double advised = 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  auto arr = info[0].As<Napi::TypedArray>();
  const uintptr_t start = reinterpret_cast<uintptr_t>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t b = (start + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t e = (start + arr.ByteLength()) & ~(kHuge - 1);
  if (e > b && madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE) == 0) advised = static_cast<double>(e - b);
#endif
  return Napi::Number::New(info.Env(), advised);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("bnTrainForward", Napi::Function::New(env, BnTrainForward));
  exports.Set("bnTrainBackward", Napi::Function::New(env, BnTrainBackward));
  exports.Set("bnInfer", Napi::Function::New(env, BnInfer));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("binaryMid", Napi::Function::New(env, BinaryMid));
  exports.Set("meanMid", Napi::Function::New(env, MeanMid));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("sumRows", Napi::Function::New(env, SumRows));
  exports.Set("sumCols", Napi::Function::New(env, SumCols));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
  exports.Set("momentumUpdate", Napi::Function::New(env, MomentumUpdate));
  exports.Set("l2Penalty", Napi::Function::New(env, L2Penalty));
  exports.Set("l2PenaltyGrad", Napi::Function::New(env, L2PenaltyGrad));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("runPlan", Napi::Function::New(env, RunPlan));
  exports.Set("warpBatch", Napi::Function::New(env, WarpBatch));
  // The highest PlanOp this build runs (kernels.h): a newer compiler checks it before emitting newer instructions.
  exports.Set("planOps", Napi::Number::New(env, static_cast<int>(fer::PlanOp::BnInfer)));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("setConvBf16", Napi::Function::New(env, SetConvBf16));
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages));
  return exports;
}

}  // namespace

NODE_API_MODULE(fer_native, Init)
