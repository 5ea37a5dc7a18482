// N-API surface of the native kernels. Every entry point checks its arguments (types, sizes,
// leading dimensions, that the requested variant runs on this CPU) before touching memory, and
// works in place on the caller's typed arrays (no copies).
#include <napi.h>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>
#include "gemm.h"
#include "eval_ap.h"
#include "hamming.h"
#include "mih_search.h"
#include "thread_pool.h"
#include "napi_args.h"

namespace cmh { void registerOptimKernels(Napi::Env env, Napi::Object exports); }
namespace cmh { void registerVectorKernels(Napi::Env env, Napi::Object exports); }
namespace cmh { void registerTrainKernels(Napi::Env env, Napi::Object exports); }
namespace cmh { void registerGemmAdam(Napi::Env env, Napi::Object exports); }
namespace cmh { void registerGemmPanels(Napi::Env env, Napi::Object exports); }

namespace {

using cmh::Isa;

using cmh::args::fail;
using cmh::args::intArg;
using cmh::args::typedArg;
using cmh::args::checkMatrix;

Isa isaArg(const Napi::CallbackInfo& info, size_t i) {
  const std::string s = info[i].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!cmh::parseIsa(s, &isa)) fail(info.Env(), "unknown ISA variant '" + s + "' (expected avx512|avx2|generic)");
  if (!cmh::isaSupported(isa)) fail(info.Env(), "ISA variant '" + s + "' is not supported by this CPU");
  return isa;
}

// A range search's answer as {ids, dist} Int32Arrays (copied out of the kernel's vectors).
Napi::Object rangeResult(Napi::Env env, const std::vector<int32_t>& ids, const std::vector<int32_t>& dist) {
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
  return rangeResult(env, ids, dist);
}

// ---- multi-index hashing (mih_search.cc) ----

// The native view of a MultiIndex's tables plus strong references that keep the typed arrays it
// points into alive for as long as the handle lives.
struct MihHandle {
  cmh::MihIndex ix;
  std::vector<Napi::Reference<Napi::Value>> refs;
};

// mihPrepare(desc: Int32Array [offset, length, shift, slotMask] × m, arrays: [starts, items, codes,
//            slots, keys] × m (Uint32Array, Int32Array, Uint32Array, Int32Array, Uint32Array; slots
//            and keys empty for direct-addressed tables), n, words64) → handle
Napi::Value MihPrepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t ldesc;
  const int32_t* desc = typedArg<int32_t>(info, 0, napi_int32_array, "desc", &ldesc);
  if (!info[1].IsArray()) fail(env, "mihPrepare: arrays must be an Array");
  Napi::Array arrays = info[1].As<Napi::Array>();
  const long n = intArg(info, 2, "n"), W = wordsArg(info, 3);
  const size_t m = ldesc / 4;
  if (ldesc % 4 != 0 || arrays.Length() != 5 * m) fail(env, "mihPrepare: desc must hold 4 and arrays 5 entries per table");
  auto h = std::make_unique<MihHandle>();
  h->ix.n = n; h->ix.W = static_cast<int>(W);
  for (size_t t = 0; t < m; t++) {
    cmh::MihTable T;
    T.offset = desc[4 * t]; T.length = desc[4 * t + 1]; T.shift = desc[4 * t + 2]; T.slotMask = static_cast<uint32_t>(desc[4 * t + 3]);
    const std::string name = "table " + std::to_string(t);
    if (T.length < 1 || T.length > 32 || T.offset < 0 || T.offset + T.length > 64 * W)
      fail(env, name + ": substring [" + std::to_string(T.offset) + ", +" + std::to_string(T.length) + ") outside the code");
    Napi::Value v[5];
    for (int j = 0; j < 5; j++) v[j] = arrays.Get(static_cast<uint32_t>(5 * t + j));
    const napi_typedarray_type types[5] = {napi_uint32_array, napi_int32_array, napi_uint32_array, napi_int32_array, napi_uint32_array};
    const char* what[5] = {"starts", "items", "codes", "slots", "keys"};
    size_t len[5];
    void* ptr[5];
    for (int j = 0; j < 5; j++) {
      if (!v[j].IsTypedArray() || v[j].As<Napi::TypedArray>().TypedArrayType() != types[j]) fail(env, name + ": " + what[j] + " has the wrong array type");
      auto arr = v[j].As<Napi::TypedArray>();
      len[j] = arr.ElementLength();
      ptr[j] = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
      h->refs.push_back(Napi::Persistent(v[j]));
    }
    T.starts = static_cast<const uint32_t*>(ptr[0]);
    T.items = static_cast<const int32_t*>(ptr[1]);
    T.codes = reinterpret_cast<const uint64_t*>(ptr[2]);
    const bool hashed = len[3] > 0;
    if (len[1] < static_cast<size_t>(n) || len[2] < static_cast<size_t>(2 * W * n)) fail(env, name + ": items/codes shorter than n");
    size_t buckets;
    if (hashed) {
      if ((len[3] & (len[3] - 1)) != 0 || static_cast<size_t>(T.slotMask) + 1 != len[3] || T.shift < 1 || T.shift > 31 || (1ULL << (32 - T.shift)) != len[3])
        fail(env, name + ": slot table size, mask and shift disagree");
      buckets = len[4];
      if (len[0] != buckets + 1) fail(env, name + ": starts must have keys + 1 entries");
      const int32_t* slots = static_cast<const int32_t*>(ptr[3]);
      for (size_t s = 0; s < len[3]; s++) if (slots[s] < -1 || slots[s] >= static_cast<long>(buckets)) fail(env, name + ": slot out of range");
      T.slots = slots; T.keys = static_cast<const uint32_t*>(ptr[4]);
    } else {
      buckets = static_cast<size_t>(1ULL << T.length);
      if (len[0] != buckets + 1) fail(env, name + ": direct table needs 2^length + 1 bucket starts");
    }
    // every bucket must lie inside items/codes: the kernel trusts these bounds
    const uint32_t* st = T.starts;
    if (st[0] != 0 || st[buckets] != static_cast<uint32_t>(n)) fail(env, name + ": bucket starts must run from 0 to n");
    for (size_t b = 0; b < buckets; b++) if (st[b] > st[b + 1]) fail(env, name + ": bucket starts must not decrease");
    for (long i = 0; i < n; i++) if (T.items[i] < 0 || T.items[i] >= n) fail(env, name + ": item position out of range");
    h->ix.tables.push_back(T);
  }
  MihHandle* raw = h.release();
  return Napi::External<MihHandle>::New(env, raw, [](Napi::Env, MihHandle* p) { delete p; });
}

const cmh::MihIndex& mihArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) fail(info.Env(), "multi-index handle expected (from mihPrepare)");
  return info[i].As<Napi::External<MihHandle>>().Data()->ix;
}

double budgetArg(const Napi::CallbackInfo& info, size_t i) {
  const double b = info[i].As<Napi::Number>().DoubleValue();
  if (!(b >= 0)) fail(info.Env(), "budget must be >= 0");
  return b;
}

// mihKnn(isa, handle, queries, nq, k, maxD, budget, outIds, outDist, outCount: Int32Array, threads)
Napi::Value MihKnn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Isa isa = isaArg(info, 0);
  const cmh::MihIndex& ix = mihArg(info, 1);
  const long nq = intArg(info, 3, "nq"), k = intArg(info, 4, "k"), maxD = intArg(info, 5, "maxD");
  if (k < 1) fail(env, "k must be >= 1");
  const double budget = budgetArg(info, 6);
  const Codes qs = codesArg(info, 2, "queries", nq, ix.W);
  size_t li, ld, lc;
  int32_t* ids = typedArg<int32_t>(info, 7, napi_int32_array, "outIds", &li);
  int32_t* dist = typedArg<int32_t>(info, 8, napi_int32_array, "outDist", &ld);
  int32_t* count = typedArg<int32_t>(info, 9, napi_int32_array, "outCount", &lc);
  const double need = static_cast<double>(nq) * k;
  if (li < need || ld < need || static_cast<long>(lc) < nq) fail(env, "outIds/outDist need nq*k and outCount nq elements");
  const long threads = info.Length() > 10 && info[10].IsNumber() ? intArg(info, 10, "threads") : 1;
  cmh::mihKnnBatch(isa, ix, qs.p, nq, static_cast<int>(k), static_cast<int>(std::min<long>(maxD, 65535)), budget, ids, dist, count,
                   static_cast<int>(threads < 1 ? 1 : threads));
  return env.Undefined();
}

// mihRange(isa, handle, query, r, budget) → { ids, dist } (position order), or null over budget
Napi::Value MihRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Isa isa = isaArg(info, 0);
  const cmh::MihIndex& ix = mihArg(info, 1);
  const Codes q = codesArg(info, 2, "query", 1, ix.W);
  const long r = intArg(info, 3, "r");
  const double budget = budgetArg(info, 4);
  std::vector<int32_t> ids, dist;
  if (!cmh::mihRange(isa, ix, q.p, static_cast<int>(std::min<long>(r, 65535)), budget, ids, dist)) return env.Null();
  return rangeResult(env, ids, dist);
}

// ---- fused ranking metrics (eval_ap.cc) ----

// apBlock(isa, queries, nq, db, n, words64, bits, qLabels, dLabels, labelWords, topK: Int32Array,
//         cutoffs: Int32Array, hist: Int32Array, apSum: Float64Array, apKSum: Float64Array,
//         relInK: Int32Array, relAtCut: Int32Array, threads)
Napi::Value ApBlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 18) fail(env, "apBlock: expected 18 arguments");
  const Isa isa = isaArg(info, 0);
  cmh::ApBlockArgs a;
  a.nq = intArg(info, 2, "nq"); a.n = intArg(info, 4, "n");
  const long W = wordsArg(info, 5), bits = intArg(info, 6, "bits"), L = intArg(info, 9, "labelWords");
  if (bits < 1 || bits > 64 * W) fail(env, "bits must be in 1.." + std::to_string(64 * W));
  if (L < 1) fail(env, "labelWords must be >= 1");
  a.W = static_cast<int>(W); a.bits = static_cast<int>(bits); a.labelWords = static_cast<int>(L);
  a.queries = codesArg(info, 1, "queries", a.nq, W).p;
  a.db = codesArg(info, 3, "db", a.n, W).p;
  size_t lq, ldl, lk, lc, lh, la, lak, lrk, lrc;
  a.qLabels = typedArg<uint32_t>(info, 7, napi_uint32_array, "qLabels", &lq);
  a.dLabels = typedArg<uint32_t>(info, 8, napi_uint32_array, "dLabels", &ldl);
  if (static_cast<double>(lq) < static_cast<double>(a.nq) * L || static_cast<double>(ldl) < static_cast<double>(a.n) * L)
    fail(env, "qLabels/dLabels: need rows × labelWords words");
  a.topK = typedArg<int32_t>(info, 10, napi_int32_array, "topK", &lk);
  a.cutoffs = typedArg<int32_t>(info, 11, napi_int32_array, "cutoffs", &lc);
  a.nTopK = static_cast<int>(lk); a.nCutoffs = static_cast<int>(lc);
  a.hist = typedArg<int32_t>(info, 12, napi_int32_array, "hist", &lh);
  a.apSum = typedArg<double>(info, 13, napi_float64_array, "apSum", &la);
  a.apKSum = typedArg<double>(info, 14, napi_float64_array, "apKSum", &lak);
  a.relInK = typedArg<int32_t>(info, 15, napi_int32_array, "relInK", &lrk);
  a.relAtCut = typedArg<int32_t>(info, 16, napi_int32_array, "relAtCut", &lrc);
  const double nq = static_cast<double>(a.nq);
  if (lh < nq * 2 * (bits + 1) || la < nq || lak < nq * lk || lrk < nq * lk || lrc < nq * lc)
    fail(env, "apBlock: output arrays too small for " + std::to_string(a.nq) + " queries");
  const long threads = intArg(info, 17, "threads");
  cmh::apBlock(isa, a, static_cast<int>(threads < 1 ? 1 : threads));
  return env.Undefined();
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
  exports.Set("mihPrepare", Napi::Function::New(env, MihPrepare));
  exports.Set("mihKnn", Napi::Function::New(env, MihKnn));
  exports.Set("mihRange", Napi::Function::New(env, MihRange));
  exports.Set("apBlock", Napi::Function::New(env, ApBlock));
  cmh::registerOptimKernels(env, exports);
  cmh::registerVectorKernels(env, exports);
  cmh::registerTrainKernels(env, exports);
  cmh::registerGemmAdam(env, exports);
  cmh::registerGemmPanels(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(cmhash_native, Init)
