// A weight's gradient GEMM with Adam applied as each block of it is finished: G = alpha·op(A)·op(B)
// (fp32, or the bf16 GEMM's inputs rounded to bfloat16) is computed block by block into a small
// buffer that stays in L2, and the Adam update of that block's weights (x, m, v) runs right after.
// The gradient never goes to memory, is never zeroed and never read back by a separate optimiser
// pass — about 0.7 GB less traffic per DCMH-size step.
//
// Same bits as sgemm into a zeroed gradient (beta 0 or 1: only the sign of a zero can differ, and
// no update sees it) followed by adamStep: the same micro-kernel sums each tile over the same KC
// blocks in the same order, and the update is the optimiser's own compiled loop (adam_kernel.h).
// test/native/gemm-adam.test.ts checks this on odd shapes.
#include <napi.h>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include "adam_kernel.h"
#include "cache_info.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "napi_args.h"
#include "thread_pool.h"
#include "thread_scratch.h"

namespace cmh {

namespace {

struct FusedScratch;
/** Per-thread buffers (0: packed B, 1: packed A, 2: the gradient block). */
float* buffer(int which, size_t floats) { return threadScratch<FusedScratch, float, 3>(which, floats); }

/** The fp32 kernel's packing and micro-kernel as the driver below uses them. */
struct Fp32Panels {
  using Elem = float;
  const GemmKernel& K;
  long mr() const { return K.mr; }
  long nr() const { return K.nr; }
  long kc() const { return K.kc; }
  bool longRows() const { return K.fusedAdamLongRows; }
  static long length(long kc) { return kc; }  // floats per panel row of a k block
  void packA(bool ta, const float* A, long lda, long mc, long kc, float* out) const { K.packA(ta, A, lda, mc, kc, out); }
  void packB(bool tb, const float* B, long ldb, long kc, long nc, float* out) const { K.packB(tb, B, ldb, kc, nc, out); }
  void ukr(long kc, const float* Ap, const float* Bp, float* C, long ldc, int mr, int nr, float alpha, float beta) const {
    K.ukr(kc, Ap, Bp, C, ldc, mr, nr, alpha, beta);
  }
};

/** The bf16 kernel's (gemm_bf16.cc): panels of bf16 pairs, half as long. */
struct Bf16PanelsView {
  using Elem = uint32_t;
  const Bf16Panels& P;
  long mr() const { return P.mr; }
  long nr() const { return P.nr; }
  long kc() const { return P.kc; }
  static bool longRows() { return false; }
  static long length(long kc) { return (kc + 1) / 2; }
  void packA(bool ta, const float* A, long lda, long mc, long kc, uint32_t* out) const { P.packA(ta, A, lda, mc, kc, out); }
  void packB(bool tb, const float* B, long ldb, long kc, long nc, uint32_t* out) const { P.packB(tb, B, ldb, kc, nc, out); }
  void ukr(long kc, const uint32_t* Ap, const uint32_t* Bp, float* C, long ldc, int mr, int nr, float alpha, float beta) const {
    P.ukr(length(kc), Ap, Bp, C, ldc, mr, nr, alpha, beta);
  }
};

/**
 * Rows [0, m) of the m × n gradient, one thread of `threads`. Each tile sums the same KC blocks in
 * the same order as the plain GEMM, so the gradient has the same bits; a block's update runs once
 * its mc × nc gradient block is finished. Two ways to choose the blocks:
 * - L2-resident (AVX-512 as tuned there, the bf16 and generic kernels): the packed B block takes
 *   about half of L2 and the gradient block a quarter, so both stay in L2 while the block's tiles run.
 * - Long rows (the kernels with fusedAdamLongRows: AVX2): nc = the row width up to 4096 columns, with the packed B (each thread packs
 *   its own) up to 4 MiB and a share of L3, read from L3; mc = the rows whose gradient block is a
 *   quarter of L2 (at least MR rows). The update then streams x, m and v in runs of whole rows up to
 *   16 KiB instead of 2 KiB pieces of rows 32 KiB apart, which ran at half the speed of the
 *   optimiser's own pass (Zen 2, the two DCMH products 4096×8192×128 and 1386×8192×128 together:
 *   200–210 → 162–165 ms; their GEMM part alone 126 → 118 ms). Software prefetch of the next
 *   block's or strip's x, m, v, updating in column strips between tiles, and a pipelined update
 *   were slower or no better (docs/experiments/2026-12-avx2-gemm.md).
 */
template <class Panels>
void serial(Isa isa, const Panels& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
            const float* B, long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam, int threads) {
  using Elem = typename Panels::Elem;
  const long MR = K.mr(), NR = K.nr(), KC = K.kc();
  const CacheInfo& cache = cacheInfo();
  const long l2 = cache.l2 > 0 ? cache.l2 : (1L << 20);
  const long nPc = (k + KC - 1) / KC, kcLen = Panels::length(std::min(KC, k));
  const long nPadAll = (n + NR - 1) / NR * NR;
  const long bRow = nPc * kcLen * static_cast<long>(sizeof(Elem));  // packed B bytes per column
  long nc;
  if (K.longRows()) {
    const long bBudget = std::min(4L << 20, cache.l3 > 0 ? cache.l3 / (2L * threads) : (4L << 20));
    nc = std::max(NR, bBudget / bRow / NR * NR);
  } else {
    nc = std::max(NR, (l2 / 2) / bRow / NR * NR);  // (prefetching the block's x, m, v, and smaller blocks: no gain there)
  }
  nc = std::min({nc, 4096L, nPadAll});
  long mc = std::max(MR, (l2 / 4) / (nc * 4) / MR * MR);
  mc = std::min(mc, (m + MR - 1) / MR * MR);
  const long ncPad = (nc + NR - 1) / NR * NR;
  Elem* Bp = reinterpret_cast<Elem*>(buffer(0, static_cast<size_t>(nPc) * kcLen * ncPad));
  Elem* Ap = reinterpret_cast<Elem*>(buffer(1, static_cast<size_t>(kcLen) * mc));
  float* G = buffer(2, static_cast<size_t>(mc) * ncPad);
  for (long jc = 0; jc < n; jc += nc) {
    const long ncb = std::min(nc, n - jc);
    for (long pc = 0, p = 0; pc < k; pc += KC, p++) {
      const long kc = std::min(KC, k - pc);
      K.packB(tb, tb ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, ncb, Bp + p * kcLen * ncPad);
    }
    for (long ic = 0; ic < m; ic += mc) {
      const long mcb = std::min(mc, m - ic);
      for (long pc = 0, p = 0; pc < k; pc += KC, p++) {
        const long kc = std::min(KC, k - pc), len = Panels::length(kc);
        const float beta = p == 0 ? 0.0f : 1.0f;  // later k blocks add onto the first, as in sgemm
        K.packA(ta, ta ? A + pc * lda + ic : A + ic * lda + pc, lda, mcb, kc, Ap);
        const Elem* bBlock = Bp + p * kcLen * ncPad;
        for (long jr = 0; jr < ncb; jr += NR) {
          const int nr = static_cast<int>(std::min(NR, ncb - jr));
          for (long ir = 0; ir < mcb; ir += MR) {
            const int mr = static_cast<int>(std::min(MR, mcb - ir));
            K.ukr(kc, Ap + ir * len, bBlock + jr * len, G + ir * ncPad + jr, ncPad, mr, nr, alpha, beta);
          }
        }
      }
      for (long r = 0; r < mcb; r++) {
        const long o = (ic + r) * ldx + jc;
        adamUpdate(isa, X + o, G + r * ncPad, M + o, V + o, ncb, adam);
      }
    }
  }
}

/** Whole tile rows of the gradient (and of x, m, v) per thread: no two threads touch the same weight. */
template <class Panels>
void acrossThreads(Isa isa, const Panels& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
                   const float* B, long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam, int threads) {
  const double flops = 2.0 * m * n * k;
  const long MR = K.mr(), tiles = (m + MR - 1) / MR;
  const int nt = static_cast<int>(std::min<long>(tiles, std::max(1, std::min(threads, static_cast<int>(flops / 4e6)))));
  if (nt <= 1) { serial(isa, K, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, ldx, adam, 1); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long i0 = std::min(m, tiles * t / nt * MR), i1 = std::min(m, tiles * (t + 1) / nt * MR);
    if (i0 >= i1) return;
    serial(isa, K, ta, tb, i1 - i0, n, k, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, X + i0 * ldx, M + i0 * ldx,
           V + i0 * ldx, ldx, adam, nt);
  });
}

/** A zero gradient (k = 0 or alpha = 0) still moves x: Adam's moments decay, as in adamStep. */
void zeroGradientUpdate(Isa isa, long m, long n, float* X, float* M, float* V, long ldx, const AdamArgs& adam) {
  std::unique_ptr<float[]> zero(new float[n]());
  for (long i = 0; i < m; i++) adamUpdate(isa, X + i * ldx, zero.get(), M + i * ldx, V + i * ldx, n, adam);
}

}  // namespace

/** x (m × n, stride ldx) and its Adam moments m, v updated with the gradient alpha·op(A)·op(B). */
void sgemmAdam(Isa isa, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
               long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { zeroGradientUpdate(isa, m, n, X, M, V, ldx, adam); return; }
  acrossThreads(isa, Fp32Panels{gemmKernel(isa)}, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, ldx, adam, threads);
}

/** The same with the gradient from the bf16 GEMM (inputs rounded to bf16, as sgemmBf16); AVX-512 only. */
void sgemmAdamBf16(bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
                   long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) { zeroGradientUpdate(Isa::Avx512, m, n, X, M, V, ldx, adam); return; }
  acrossThreads(Isa::Avx512, Bf16PanelsView{bf16Panels()}, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, ldx, adam, threads);
}

namespace {

using args::checkMatrix;
using args::fail;
using args::intArg;

// sgemmAdam(isa, transA, transB, m, n, k, alpha, A, lda, B, ldb, x, mState, vState,
//           b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled) — x, m, v are m × n, row-major;
// sgemmAdamBf16: the same arguments, isa "avx512" only, the gradient from the bf16 GEMM.
Napi::Value Call(const Napi::CallbackInfo& info, bool bf16) {
  Napi::Env env = info.Env();
  const char* fn = bf16 ? "sgemmAdamBf16" : "sgemmAdam";
  if (info.Length() < 22) fail(env, std::string(fn) + ": expected 22 arguments");
  const std::string isaName = info[0].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!parseIsa(isaName, &isa) || !isaSupported(isa)) fail(env, std::string(fn) + ": unsupported ISA '" + isaName + "'");
  if (bf16 && (isa != Isa::Avx512 || !bf16Supported())) fail(env, "sgemmAdamBf16: needs the avx512 variant on a CPU with AVX512_BF16");
  const bool ta = info[1].ToBoolean(), tb = info[2].ToBoolean();
  const long m = intArg(info, 3, "m"), n = intArg(info, 4, "n"), k = intArg(info, 5, "k");
  const float alpha = static_cast<float>(info[6].As<Napi::Number>().DoubleValue());
  size_t la, lb, lx, lm, lv;
  const float* A = args::typedArg<float>(info, 7, napi_float32_array, "A", &la);
  const long lda = intArg(info, 8, "lda");
  const float* B = args::typedArg<float>(info, 9, napi_float32_array, "B", &lb);
  const long ldb = intArg(info, 10, "ldb");
  float* X = args::typedArg<float>(info, 11, napi_float32_array, "x", &lx);
  float* M = args::typedArg<float>(info, 12, napi_float32_array, "m (first moment)", &lm);
  float* V = args::typedArg<float>(info, 13, napi_float32_array, "v (second moment)", &lv);
  if (k > 0) {
    checkMatrix(env, ta ? "A (stored k x m)" : "A (m x k)", la, ta ? k : m, ta ? m : k, lda);
    checkMatrix(env, tb ? "B (stored n x k)" : "B (k x n)", lb, tb ? n : k, tb ? k : n, ldb);
  }
  checkMatrix(env, "x (m x n)", lx, m, n, n);
  checkMatrix(env, "m (first moment, m x n)", lm, m, n, n);
  checkMatrix(env, "v (second moment, m x n)", lv, m, n, n);
  const AdamArgs a = args::adamArgs(info, 14);
  if (bf16) sgemmAdamBf16(ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, n, a, getThreads());
  else sgemmAdam(isa, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, n, a, getThreads());
  return env.Undefined();
}

Napi::Value SgemmAdam(const Napi::CallbackInfo& info) { return Call(info, false); }
Napi::Value SgemmAdamBf16(const Napi::CallbackInfo& info) { return Call(info, true); }

}  // namespace

void registerGemmAdam(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmAdam", Napi::Function::New(env, SgemmAdam));
  exports.Set("sgemmAdamBf16", Napi::Function::New(env, SgemmAdamBf16));
}

}  // namespace cmh
