// N-API surface of the training-side additions: the bf16 GEMM (AVX512_BF16), its peak loop, the
// cache sizes and GEMM blocking the fp32 kernels chose, and the allocator setting that keeps freed
// buffers in the process (see retainFreedMemory below).
#include <napi.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <cstdlib>
#include <cstring>
#include <vector>
#include <string>
#include "cache_info.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "thread_pool.h"
#include "napi_args.h"

namespace cmh {

static bool retained = false;

bool mallocRetained() { return retained; }

namespace {

using cmh::args::fail;
using cmh::args::intArg;
using cmh::args::checkMatrix;

float* f32Arg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* len) {
  return cmh::args::typedArg<float>(info, i, napi_float32_array, name, len);
}

// sgemmBf16(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
Napi::Value SgemmBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 13) fail(env, "sgemmBf16: expected 13 arguments");
  if (!bf16Supported()) fail(env, "sgemmBf16: this CPU has no AVX512_BF16");
  const bool ta = info[0].ToBoolean(), tb = info[1].ToBoolean();
  const long m = intArg(info, 2, "m"), n = intArg(info, 3, "n"), k = intArg(info, 4, "k");
  const float alpha = static_cast<float>(info[5].As<Napi::Number>().DoubleValue());
  size_t la, lb, lc;
  const float* A = f32Arg(info, 6, "A", &la);
  const long lda = intArg(info, 7, "lda");
  const float* B = f32Arg(info, 8, "B", &lb);
  const long ldb = intArg(info, 9, "ldb");
  const float beta = static_cast<float>(info[10].As<Napi::Number>().DoubleValue());
  float* C = f32Arg(info, 11, "C", &lc);
  const long ldc = intArg(info, 12, "ldc");
  if (k > 0 && alpha != 0.0f) {
    checkMatrix(env, ta ? "A (stored k x m)" : "A (m x k)", la, ta ? k : m, ta ? m : k, lda);
    checkMatrix(env, tb ? "B (stored n x k)" : "B (k x n)", lb, tb ? n : k, tb ? k : n, ldb);
  }
  checkMatrix(env, "C (m x n)", lc, m, n, ldc);
  sgemmBf16(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, getThreads());
  return env.Undefined();
}

Napi::Value Bf16Supported(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), bf16Supported()); }

Napi::Value Bf16Peak(const Napi::CallbackInfo& info) {
  if (!bf16Supported()) fail(info.Env(), "bf16Peak: this CPU has no AVX512_BF16");
  const double seconds = info[0].As<Napi::Number>().DoubleValue();
  const long threads = intArg(info, 1, "threads");
  return Napi::Number::New(info.Env(), bf16Peak(seconds, static_cast<int>(threads < 1 ? 1 : threads)));
}

Napi::Value GemmTuning(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CacheInfo& c = cacheInfo();
  Napi::Object o = Napi::Object::New(env);
  o.Set("l1d", static_cast<double>(c.l1d)); o.Set("l2", static_cast<double>(c.l2)); o.Set("l3", static_cast<double>(c.l3));
  o.Set("cacheSource", c.source);
  o.Set("avx512", gemmChoiceReport());
  o.Set("avx2", gemmChoiceReportAvx2());
  o.Set("bf16", bf16Supported());
  if (bf16Supported()) {
    const Bf16Blocking& b = bf16Blocking();
    o.Set("bf16Kernel", "avx512bf16 " + std::to_string(b.mr) + "x" + std::to_string(b.nr) + " (vdpbf16ps), MC=" + std::to_string(b.mc) +
                            " KC=" + std::to_string(b.kc) + " NC=" + std::to_string(b.nc));
  }
  o.Set("mallocRetain", mallocRetained());
  return o;
}

}  // namespace

// Freed buffers up to 32 MiB are kept on the malloc heap (never unmapped or trimmed back to the OS)
// so the next step's activations and gradients reuse them: on a VM with free-page reporting a fresh
// page costs ~14 µs to fault in, i.e. ~8,400 faults = a third of a DCMH training step (bench train).
// CMHASH_MALLOC_RETAIN=0 keeps glibc's defaults.
void retainFreedMemory() {
  const char* env = std::getenv("CMHASH_MALLOC_RETAIN");
  if (env && std::string(env) == "0") return;
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_")) return;  // the user's own setting
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  retained = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024) == 1;
#endif
}

// warmHeap(bytes): grows the calling thread's malloc arena by `bytes`, touches every page once and
// frees it again. With freed memory retained (above), those pages stay on the heap, so a service's
// first large request (a 5 MB session body read into socket buffers, a commit's model weights)
// reuses touched pages instead of faulting in fresh ones on its serving thread. Pieces of 8 MiB stay
// under the mmap threshold (allocated from the arena, not mapped separately). Returns the bytes
// warmed (0 when memory is not retained: the pages would go straight back to the OS).
static Napi::Value WarmHeap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const long bytes = intArg(info, 0, "bytes");
  if (!retained || bytes <= 0) return Napi::Number::New(env, 0);
  constexpr size_t kPiece = 8u << 20;
  std::vector<char*> pieces;
  size_t warmed = 0;
  for (size_t left = static_cast<size_t>(bytes); left > 0;) {
    const size_t n = left < kPiece ? left : kPiece;
    char* p = static_cast<char*>(std::malloc(n));
    if (!p) break;
    std::memset(p, 1, n);
    asm volatile("" : : "r"(p) : "memory");  // the writes must happen: they are the point
    pieces.push_back(p);
    warmed += n;
    left -= n;
  }
  for (char* p : pieces) std::free(p);
  return Napi::Number::New(env, static_cast<double>(warmed));
}

void registerTrainKernels(Napi::Env env, Napi::Object exports) {
  retainFreedMemory();
  exports.Set("warmHeap", Napi::Function::New(env, WarmHeap));
  exports.Set("sgemmBf16", Napi::Function::New(env, SgemmBf16));
  exports.Set("bf16Supported", Napi::Function::New(env, Bf16Supported));
  exports.Set("bf16Peak", Napi::Function::New(env, Bf16Peak));
  exports.Set("gemmTuning", Napi::Function::New(env, GemmTuning));
}

}  // namespace cmh
