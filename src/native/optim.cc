// Fused optimiser kernels. Adam's update is memory-bound (read x, g, m, v; write x, m, v), so one
// vectorised pass over the parameters beats the several passes an op-by-op version would make.
#include <napi.h>
#include <cmath>
#include <string>
#include "isa.h"
#include "adam_kernel.h"
#include "napi_args.h"
#include "thread_pool.h"
#include <algorithm>

namespace cmh {

template <int Dummy>
inline void adamLoop(float* __restrict x, const float* __restrict g, float* __restrict m, float* __restrict v,
                     long n, const AdamArgs& a) {
  const float ob1 = 1.0f - a.b1, ob2 = 1.0f - a.b2;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    if (a.decoupled) x[i] -= a.lrWd * x[i];
    else gi += a.wd * x[i];
    const float mi = a.b1 * m[i] + ob1 * gi;
    const float vi = a.b2 * v[i] + ob2 * gi * gi;
    m[i] = mi; v[i] = vi;
    x[i] -= a.stepSize * mi / (std::sqrt(vi) * a.invSqrtC2 + a.eps);
  }
}

__attribute__((target("avx512f,avx512vl,avx2,fma")))
void adamAvx512(float* x, const float* g, float* m, float* v, long n, const AdamArgs& a) { adamLoop<1>(x, g, m, v, n, a); }

__attribute__((target("avx2,fma")))
void adamAvx2(float* x, const float* g, float* m, float* v, long n, const AdamArgs& a) { adamLoop<2>(x, g, m, v, n, a); }

void adamGeneric(float* x, const float* g, float* m, float* v, long n, const AdamArgs& a) { adamLoop<3>(x, g, m, v, n, a); }

void adamUpdate(Isa isa, float* x, const float* g, float* m, float* v, long n, const AdamArgs& a) {
  if (isa == Isa::Avx512) adamAvx512(x, g, m, v, n, a);
  else if (isa == Isa::Avx2) adamAvx2(x, g, m, v, n, a);
  else adamGeneric(x, g, m, v, n, a);
}

}  // namespace cmh

namespace {

using cmh::AdamArgs;

float* f32(const Napi::CallbackInfo& info, size_t i, const char* name, long n) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string("adamStep: ") + name + " must be a Float32Array");
  auto arr = info[i].As<Napi::Float32Array>();
  if (static_cast<long>(arr.ElementLength()) < n)
    throw Napi::RangeError::New(info.Env(), std::string("adamStep: ") + name + " has " + std::to_string(arr.ElementLength()) + " elements, need " + std::to_string(n));
  return arr.Data();
}

// adamStep(isa, x, g, m, v, n, b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  if (info.Length() < 14) throw Napi::TypeError::New(info.Env(), "adamStep: expected 14 arguments");
  const std::string isaName = info[0].As<Napi::String>().Utf8Value();
  const long n = static_cast<long>(info[5].As<Napi::Number>().DoubleValue());
  if (n < 0) throw Napi::RangeError::New(info.Env(), "adamStep: n must be non-negative");
  float* x = f32(info, 1, "x", n); float* g = f32(info, 2, "g", n); float* m = f32(info, 3, "m", n); float* v = f32(info, 4, "v", n);
  const AdamArgs a = cmh::args::adamArgs(info, 6);
  cmh::Isa isa;
  if (!cmh::parseIsa(isaName, &isa) || !cmh::isaSupported(isa)) throw Napi::RangeError::New(info.Env(), "adamStep: unsupported ISA '" + isaName + "'");
  // large parameter vectors are split across the kernel threads (elementwise: same bits)
  const int nt = static_cast<int>(std::min<long>(cmh::getThreads(), n / (1L << 18)));
  if (nt <= 1) cmh::adamUpdate(isa, x, g, m, v, n, a);
  else cmh::ThreadPool::instance().run(nt, [&](int t) {
    const long i0 = n * t / nt / 16 * 16, i1 = t == nt - 1 ? n : n * (t + 1) / nt / 16 * 16;
    cmh::adamUpdate(isa, x + i0, g + i0, m + i0, v + i0, i1 - i0, a);
  });
  return info.Env().Undefined();
}

}  // namespace

namespace cmh {
void registerOptimKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
}
}  // namespace cmh
