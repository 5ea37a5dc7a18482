// N-API surface of the native kernels. Every entry point checks its arguments (types, sizes,
// leading dimensions, that the requested variant runs on this CPU) before touching memory, and
// works in place on the caller's typed arrays (no copies).
#include <napi.h>
#include <string>
#include <vector>
#include "gemm.h"
#include "hamming.h"
#include "thread_pool.h"

namespace {

using cmh::Isa;

[[noreturn]] void fail(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

Isa isaArg(const Napi::CallbackInfo& info, size_t i) {
  const std::string s = info[i].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!cmh::parseIsa(s, &isa)) fail(info.Env(), "unknown ISA variant '" + s + "' (expected avx512|avx2|generic)");
  if (!cmh::isaSupported(isa)) fail(info.Env(), "ISA variant '" + s + "' is not supported by this CPU");
  return isa;
}

long intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) fail(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != static_cast<double>(static_cast<long>(v)) || v > 2147483647.0)
    fail(info.Env(), std::string(name) + " must be a non-negative integer < 2^31, got " + std::to_string(v));
  return static_cast<long>(v);
}

template <class T>
T* typedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* name, size_t* len) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    fail(info.Env(), std::string(name) + " has the wrong array type");
  auto arr = info[i].As<Napi::TypedArray>();
  *len = arr.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset());
}

void checkMatrix(Napi::Env env, const char* name, size_t len, long rows, long cols, long ld) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) fail(env, std::string(name) + ": leading dimension " + std::to_string(ld) + " < row length " + std::to_string(cols));
  const double need = static_cast<double>(rows - 1) * ld + cols;
  if (static_cast<double>(len) < need)
    fail(env, std::string(name) + ": " + std::to_string(rows) + "x" + std::to_string(cols) + " with stride " + std::to_string(ld) +
                  " needs " + std::to_string(static_cast<long long>(need)) + " elements, array has " + std::to_string(len));
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  const cmh::CpuFeatures& f = cmh::cpuFeatures();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("avx512f", f.avx512f); o.Set("avx512vl", f.avx512vl); o.Set("avx512bw", f.avx512bw); o.Set("avx512dq", f.avx512dq);
  o.Set("avx512vpopcntdq", f.avx512vpopcntdq); o.Set("avx2", f.avx2); o.Set("fma", f.fma); o.Set("popcnt", f.popcnt);
  return o;
}

Napi::Value DefaultIsa(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", cmh::isaName(cmh::defaultIsa()));
  o.Set("notice", cmh::isaEnvNotice());
  return o;
}

Napi::Value SupportedIsas(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Generic})
    if (cmh::isaSupported(isa)) a.Set(i++, cmh::isaName(isa));
  return a;
}

Napi::Value KernelInfo(const Napi::CallbackInfo& info) {
  const Isa isa = isaArg(info, 0);
  const cmh::GemmKernel& K = cmh::gemmKernel(isa);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("gemm", K.name); o.Set("mr", K.mr); o.Set("nr", K.nr);
  o.Set("mc", static_cast<double>(K.mc)); o.Set("kc", static_cast<double>(K.kc)); o.Set("nc", static_cast<double>(K.nc));
  o.Set("hamming", cmh::hammingKernels(isa).name);
  return o;
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cmh::getThreads()); }
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const long n = intArg(info, 0, "threads");
  if (n < 1) fail(info.Env(), "threads must be >= 1");
  cmh::setThreads(static_cast<int>(n));
  return info.Env().Undefined();
}

// sgemm(isa, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 14) fail(env, "sgemm: expected 14 arguments");
  const Isa isa = isaArg(info, 0);
  const bool ta = info[1].ToBoolean(), tb = info[2].ToBoolean();
  const long m = intArg(info, 3, "m"), n = intArg(info, 4, "n"), k = intArg(info, 5, "k");
  const float alpha = static_cast<float>(info[6].As<Napi::Number>().DoubleValue());
  size_t la, lb, lc;
  const float* A = typedArg<float>(info, 7, napi_float32_array, "A", &la);
  const long lda = intArg(info, 8, "lda");
  const float* B = typedArg<float>(info, 9, napi_float32_array, "B", &lb);
  const long ldb = intArg(info, 10, "ldb");
  const float beta = static_cast<float>(info[11].As<Napi::Number>().DoubleValue());
  float* C = typedArg<float>(info, 12, napi_float32_array, "C", &lc);
  const long ldc = intArg(info, 13, "ldc");
  if (k > 0 && alpha != 0.0f) {
    checkMatrix(env, ta ? "A (stored k x m)" : "A (m x k)", la, ta ? k : m, ta ? m : k, lda);
    checkMatrix(env, tb ? "B (stored n x k)" : "B (k x n)", lb, tb ? n : k, tb ? k : n, ldb);
  }
  checkMatrix(env, "C (m x n)", lc, m, n, ldc);
  cmh::sgemm(isa, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, cmh::getThreads());
  return env.Undefined();
}

// fmaPeak(isa, seconds, threads) → GFLOP/s summed over threads
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  const Isa isa = isaArg(info, 0);
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const long threads = intArg(info, 2, "threads");
  return Napi::Number::New(info.Env(), cmh::fmaPeak(isa, seconds, static_cast<int>(threads < 1 ? 1 : threads)));
}

struct Codes { const uint64_t* p; size_t words32; };

Codes codesArg(const Napi::CallbackInfo& info, size_t i, const char* name, long count, long W) {
  size_t len;
  const uint32_t* p = typedArg<uint32_t>(info, i, napi_uint32_array, name, &len);
  const double need = 2.0 * W * count;
  if (static_cast<double>(len) < need)
    fail(info.Env(), std::string(name) + ": " + std::to_string(count) + " codes of " + std::to_string(64 * W) + " bits need " +
                         std::to_string(static_cast<long long>(need)) + " uint32 words, array has " + std::to_string(len));
  return {reinterpret_cast<const uint64_t*>(p), len};
}

long wordsArg(const Napi::CallbackInfo& info, size_t i) {
  const long W = intArg(info, i, "words64");
  if (W < 1 || W > 1024) fail(info.Env(), "words64 must be in 1..1024, got " + std::to_string(W));
  return W;
}

// hammingDistances(isa, query, db, n, words64, out: Uint16Array)
Napi::Value HammingDistances(const Napi::CallbackInfo& info) {
  const Isa isa = isaArg(info, 0);
  const long n = intArg(info, 3, "n"), W = wordsArg(info, 4);
  const Codes q = codesArg(info, 1, "query", 1, W), db = codesArg(info, 2, "db", n, W);
  size_t lo;
  uint16_t* out = typedArg<uint16_t>(info, 5, napi_uint16_array, "out", &lo);
  if (static_cast<long>(lo) < n) fail(info.Env(), "out: needs " + std::to_string(n) + " elements, has " + std::to_string(lo));
  cmh::hammingDistances(isa, q.p, db.p, n, static_cast<int>(W), out);
  return info.Env().Undefined();
}

// hammingKnn(isa, queries, nq, db, n, words64, k, outIds: Int32Array, outDist: Int32Array, threads)
Napi::Value HammingKnn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Isa isa = isaArg(info, 0);
  const long nq = intArg(info, 2, "nq"), n = intArg(info, 4, "n"), W = wordsArg(info, 5), k = intArg(info, 6, "k");
  if (k < 1) fail(env, "k must be >= 1");
  const Codes qs = codesArg(info, 1, "queries", nq, W), db = codesArg(info, 3, "db", n, W);
  size_t li, ld;
  int32_t* ids = typedArg<int32_t>(info, 7, napi_int32_array, "outIds", &li);
  int32_t* dist = typedArg<int32_t>(info, 8, napi_int32_array, "outDist", &ld);
  const double need = static_cast<double>(nq) * k;
  if (li < need || ld < need) fail(env, "outIds/outDist: need nq*k = " + std::to_string(static_cast<long long>(need)) + " elements");
  const long threads = info.Length() > 9 && info[9].IsNumber() ? intArg(info, 9, "threads") : cmh::getThreads();
  cmh::hammingKnn(isa, qs.p, nq, db.p, n, static_cast<int>(W), static_cast<int>(k), ids, dist,
                  static_cast<int>(threads < 1 ? 1 : threads));
  return env.Undefined();
}

// hammingRange(isa, query, db, n, words64, r) → { ids: Int32Array, dist: Int32Array }
Napi::Value HammingRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Isa isa = isaArg(info, 0);
  const long n = intArg(info, 3, "n"), W = wordsArg(info, 4);
  const Codes q = codesArg(info, 1, "query", 1, W), db = codesArg(info, 2, "db", n, W);
  const double r = info[5].As<Napi::Number>().DoubleValue();
  std::vector<int32_t> ids, dist;
  if (r >= 0) cmh::hammingRange(isa, q.p, db.p, n, static_cast<int>(W), static_cast<long>(r), ids, dist);
  Napi::Int32Array outIds = Napi::Int32Array::New(env, ids.size());
  Napi::Int32Array outDist = Napi::Int32Array::New(env, dist.size());
  if (!ids.empty()) {
    std::memcpy(outIds.Data(), ids.data(), ids.size() * sizeof(int32_t));
    std::memcpy(outDist.Data(), dist.data(), dist.size() * sizeof(int32_t));
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("ids", outIds);
  o.Set("dist", outDist);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  exports.Set("defaultIsa", Napi::Function::New(env, DefaultIsa));
  exports.Set("supportedIsas", Napi::Function::New(env, SupportedIsas));
  exports.Set("kernelInfo", Napi::Function::New(env, KernelInfo));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("hammingDistances", Napi::Function::New(env, HammingDistances));
  exports.Set("hammingKnn", Napi::Function::New(env, HammingKnn));
  exports.Set("hammingRange", Napi::Function::New(env, HammingRange));
  return exports;
}

}  // namespace

NODE_API_MODULE(cmhash_native, Init)
