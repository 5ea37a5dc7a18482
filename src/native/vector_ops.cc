// Elementwise and vector kernels that the TypeScript reference runs at several ns per element:
// ReLU forward/backward (a data-dependent branch per element mispredicts half the time in JS) and
// the float64-accumulated dot product and axpy of gradient projection (run once per step on the
// whole flattened gradient, often still unoptimised by the JIT when an increment starts).
//
// No restrict qualifiers: callers may pass the same array twice (in-place) or overlapping views, and
// the loops then behave as the element-by-element TypeScript loops do.
//
// Every kernel computes exactly what its reference in backend-js.ts computes, bit for bit:
// - no FMA contraction (the AVX2 variants are compiled for "avx2" without "fma"), so a·b + c rounds
//   twice, as in JS;
// - dot accumulates sequentially in double (no reassociation, so no vectorised reduction);
// - float additions done in float equal the JS double-then-float rounding (for +, −, × a double
//   has more than 2·24 + 2 bits, so rounding twice gives the correctly rounded float).
#include <napi.h>
#include <cmath>
#include <immintrin.h>
#include <string>
#include <vector>
#include "isa.h"

namespace {

template <int Variant>
inline void reluLoop(const float* x, float* y, long n) {
  for (long i = 0; i < n; i++) { const float v = x[i]; y[i] = v > 0.0f ? v : 0.0f; }
}

template <int Variant>
inline void reluBackwardLoop(const float* x, const float* g, float* ga, long n) {
  // Adding 0 where x ≤ 0 (instead of skipping) lets the loop vectorise; it only turns a −0 into +0.
  for (long i = 0; i < n; i++) ga[i] += x[i] > 0.0f ? g[i] : 0.0f;
}

// ReLU's backward in place from its output y: g[i] = 0 + (y[i] > 0 ? g[i] : 0), what reluBackward
// gives into a zeroed buffer (y > 0 exactly where the input was > 0; the 0 + turns a −0 into +0).
template <int Variant>
inline void reluMaskLoop(const float* y, float* g, long n) {
  for (long i = 0; i < n; i++) g[i] = 0.0f + (y[i] > 0.0f ? g[i] : 0.0f);
}

// dst[j] += Σᵢ g[i·cols + j], row after row: each column's float32 sum in the order of the
// row-by-row loop (and of one axpy per row), vectorised across the columns.
template <int Variant>
inline void addColumnSumsLoop(float* dst, const float* g, long rows, long cols) {
  for (long i = 0; i < rows; i++) {
    const float* row = g + i * cols;
    for (long j = 0; j < cols; j++) dst[j] += row[j];
  }
}

template <int Variant>
inline void axpyLoop(float* y, double s, const float* x, long n) {
  for (long i = 0; i < n; i++) y[i] = static_cast<float>(static_cast<double>(y[i]) + s * static_cast<double>(x[i]));
}

__attribute__((target("avx2"))) void reluAvx2(const float* x, float* y, long n) { reluLoop<1>(x, y, n); }
void reluGeneric(const float* x, float* y, long n) { reluLoop<0>(x, y, n); }
__attribute__((target("avx2"))) void reluBackwardAvx2(const float* x, const float* g, float* ga, long n) { reluBackwardLoop<1>(x, g, ga, n); }
void reluBackwardGeneric(const float* x, const float* g, float* ga, long n) { reluBackwardLoop<0>(x, g, ga, n); }
// Written with intrinsics: GCC keeps the loop's select as a branch per element (it mispredicts half
// the time). cmp(>, ordered) is false for NaN as the scalar test is; and-ing keeps g or gives +0.
__attribute__((target("avx2"))) void reluMaskAvx2(const float* y, float* g, long n) {
  const __m256 zero = _mm256_setzero_ps();
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 keep = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_GT_OQ);
    _mm256_storeu_ps(g + i, _mm256_add_ps(zero, _mm256_and_ps(keep, _mm256_loadu_ps(g + i))));
  }
  reluMaskLoop<1>(y + i, g + i, n - i);
}
void reluMaskGeneric(const float* y, float* g, long n) { reluMaskLoop<0>(y, g, n); }
__attribute__((target("avx2"))) void addColumnSumsAvx2(float* dst, const float* g, long rows, long cols) { addColumnSumsLoop<1>(dst, g, rows, cols); }
void addColumnSumsGeneric(float* dst, const float* g, long rows, long cols) { addColumnSumsLoop<0>(dst, g, rows, cols); }
__attribute__((target("avx2"))) void axpyAvx2(float* y, double s, const float* x, long n) { axpyLoop<1>(y, s, x, n); }
void axpyGeneric(float* y, double s, const float* x, long n) { axpyLoop<0>(y, s, x, n); }

double dotSequential(const float* a, const float* b, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

// K of the dot products a·b_j in one pass, each summed in index order as dotSequential sums it (a
// float·float product is exact in double, so a contracted FMA rounds the same). One chain is bound
// by the add's latency; K independent chains share the pass, and a is read once instead of K times.
template <int K>
void dotsInterleaved(const float* a, const float* const* b, long n, double* out) {
  double s[K] = {};
  for (long i = 0; i < n; i++) {
    const double x = static_cast<double>(a[i]);
    for (int j = 0; j < K; j++) s[j] += x * static_cast<double>(b[j][i]);
  }
  for (int j = 0; j < K; j++) out[j] = s[j];
}

void dotsSequential(const float* a, const float* const* b, long k, long n, double* out) {
  long j = 0;
  for (; j + 4 <= k; j += 4) dotsInterleaved<4>(a, b + j, n, out + j);
  switch (k - j) {
    case 3: dotsInterleaved<3>(a, b + j, n, out + j); break;
    case 2: dotsInterleaved<2>(a, b + j, n, out + j); break;
    case 1: dotsInterleaved<1>(a, b + j, n, out + j); break;
    default: break;
  }
}

float* f32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, long n) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a Float32Array");
  auto arr = info[i].As<Napi::Float32Array>();
  if (static_cast<long>(arr.ElementLength()) < n)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + name + " has " + std::to_string(arr.ElementLength()) + " elements, need " + std::to_string(n));
  return arr.Data();
}

long countArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": n must be a number");
  const double n = info[i].As<Napi::Number>().DoubleValue();
  // range first: casting a double beyond long's range (or Infinity) is undefined behaviour
  if (!(n >= 0 && n <= 9007199254740992.0) || n != std::floor(n)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": n must be a non-negative integer");
  return static_cast<long>(n);
}

bool avx2(const Napi::CallbackInfo& info, const char* fn) {
  cmh::Isa isa;
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!cmh::parseIsa(name, &isa) || !cmh::isaSupported(isa)) throw Napi::RangeError::New(info.Env(), std::string(fn) + ": unsupported ISA '" + name + "'");
  return isa != cmh::Isa::Generic; // the AVX-512 variant uses the AVX2 loops (memory-bound)
}

// fn(isa, in, out, n): the N-API side of a kernel that reads n floats of one array and writes n of another.
using InOutKernel = void (*)(const float*, float*, long);
Napi::Value inOutKernel(const Napi::CallbackInfo& info, const char* fn, const char* inName, const char* outName, InOutKernel avx2Kernel, InOutKernel generic) {
  if (info.Length() < 4) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected 4 arguments");
  const long n = countArg(info, 3, fn);
  const float* in = f32Arg(info, 1, fn, inName, n);
  float* out = f32Arg(info, 2, fn, outName, n);
  (avx2(info, fn) ? avx2Kernel : generic)(in, out, n);
  return info.Env().Undefined();
}

// reluForward(isa, x, y, n)
Napi::Value ReluForward(const Napi::CallbackInfo& info) { return inOutKernel(info, "reluForward", "x", "y", reluAvx2, reluGeneric); }

// reluBackward(isa, x, g, ga, n)
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  if (info.Length() < 5) throw Napi::TypeError::New(info.Env(), "reluBackward: expected 5 arguments");
  const long n = countArg(info, 4, "reluBackward");
  const float* x = f32Arg(info, 1, "reluBackward", "x", n);
  const float* g = f32Arg(info, 2, "reluBackward", "g", n);
  float* ga = f32Arg(info, 3, "reluBackward", "ga", n);
  if (avx2(info, "reluBackward")) reluBackwardAvx2(x, g, ga, n); else reluBackwardGeneric(x, g, ga, n);
  return info.Env().Undefined();
}

// reluMask(isa, y, g, n)
Napi::Value ReluMask(const Napi::CallbackInfo& info) { return inOutKernel(info, "reluMask", "y", "g", reluMaskAvx2, reluMaskGeneric); }

// addColumnSums(isa, dst, g, rows, cols)
Napi::Value AddColumnSums(const Napi::CallbackInfo& info) {
  if (info.Length() < 5) throw Napi::TypeError::New(info.Env(), "addColumnSums: expected 5 arguments");
  const long rows = countArg(info, 3, "addColumnSums"), cols = countArg(info, 4, "addColumnSums");
  if (rows > 0 && cols > 9007199254740992L / rows) throw Napi::RangeError::New(info.Env(), "addColumnSums: rows × cols is too large");
  float* dst = f32Arg(info, 1, "addColumnSums", "dst", cols);
  const float* g = f32Arg(info, 2, "addColumnSums", "g", rows * cols);
  if (avx2(info, "addColumnSums")) addColumnSumsAvx2(dst, g, rows, cols); else addColumnSumsGeneric(dst, g, rows, cols);
  return info.Env().Undefined();
}

// dotF32(a, b, n) → Σ a[i]·b[i] accumulated in double
Napi::Value DotF32(const Napi::CallbackInfo& info) {
  if (info.Length() < 3) throw Napi::TypeError::New(info.Env(), "dotF32: expected 3 arguments");
  const long n = countArg(info, 2, "dotF32");
  return Napi::Number::New(info.Env(), dotSequential(f32Arg(info, 0, "dotF32", "a", n), f32Arg(info, 1, "dotF32", "b", n), n));
}

// dotsF32(a, bs, n, out): out[j] = Σ a[i]·bs[j][i] accumulated in double, for each Float32Array bs[j]
Napi::Value DotsF32(const Napi::CallbackInfo& info) {
  if (info.Length() < 4) throw Napi::TypeError::New(info.Env(), "dotsF32: expected 4 arguments");
  const long n = countArg(info, 2, "dotsF32");
  const float* a = f32Arg(info, 0, "dotsF32", "a", n);
  if (!info[1].IsArray()) throw Napi::TypeError::New(info.Env(), "dotsF32: bs must be an array of Float32Array");
  auto list = info[1].As<Napi::Array>();
  const long k = static_cast<long>(list.Length());
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(info.Env(), "dotsF32: out must be a Float64Array");
  auto out = info[3].As<Napi::Float64Array>();
  if (static_cast<long>(out.ElementLength()) < k)
    throw Napi::RangeError::New(info.Env(), "dotsF32: out has " + std::to_string(out.ElementLength()) + " elements, need " + std::to_string(k));
  std::vector<const float*> bs(static_cast<size_t>(k));
  std::vector<Napi::Value> keep(static_cast<size_t>(k)); // the arrays stay referenced while their data is read
  for (long j = 0; j < k; j++) {
    keep[j] = list.Get(static_cast<uint32_t>(j));
    if (!keep[j].IsTypedArray() || keep[j].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(info.Env(), "dotsF32: bs[" + std::to_string(j) + "] must be a Float32Array");
    auto b = keep[j].As<Napi::Float32Array>();
    if (static_cast<long>(b.ElementLength()) < n)
      throw Napi::RangeError::New(info.Env(), "dotsF32: bs[" + std::to_string(j) + "] has " + std::to_string(b.ElementLength()) + " elements, need " + std::to_string(n));
    bs[j] = b.Data();
  }
  dotsSequential(a, bs.data(), k, n, out.Data());
  return info.Env().Undefined();
}

// axpyF32(isa, y, s, x, n): y[i] = float(y[i] + s·x[i]) in double
Napi::Value AxpyF32(const Napi::CallbackInfo& info) {
  if (info.Length() < 5) throw Napi::TypeError::New(info.Env(), "axpyF32: expected 5 arguments");
  const long n = countArg(info, 4, "axpyF32");
  float* y = f32Arg(info, 1, "axpyF32", "y", n);
  if (!info[2].IsNumber()) throw Napi::TypeError::New(info.Env(), "axpyF32: s must be a number");
  const double s = info[2].As<Napi::Number>().DoubleValue();
  const float* x = f32Arg(info, 3, "axpyF32", "x", n);
  if (avx2(info, "axpyF32")) axpyAvx2(y, s, x, n); else axpyGeneric(y, s, x, n);
  return info.Env().Undefined();
}

}  // namespace

namespace cmh {
void registerVectorKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("reluForward", Napi::Function::New(env, ReluForward));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("reluMask", Napi::Function::New(env, ReluMask));
  exports.Set("addColumnSums", Napi::Function::New(env, AddColumnSums));
  exports.Set("dotF32", Napi::Function::New(env, DotF32));
  exports.Set("dotsF32", Napi::Function::New(env, DotsF32));
  exports.Set("axpyF32", Napi::Function::New(env, AxpyF32));
}
}  // namespace cmh
