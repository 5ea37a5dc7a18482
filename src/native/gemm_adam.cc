// A weight's gradient GEMM with Adam applied as each block of it is finished: G = alpha·op(A)·op(B)
// is computed block by block into a small buffer that stays in L2, and the Adam update of that
// block's weights (x, m, v) runs right after. The gradient never goes to memory, is never zeroed
// and never read back by a separate optimiser pass — about 0.7 GB less traffic per DCMH-size step.
//
// Same bits as sgemm (beta = 0 into a zeroed gradient) followed by adamStep: the same micro-kernel
// sums each tile over the same KC blocks in the same order, and the update is the optimiser's own
// compiled loop (adam_kernel.h). test/native/gemm-adam.test.ts checks this on odd shapes.
#include <napi.h>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include "adam_kernel.h"
#include "cache_info.h"
#include "gemm.h"
#include "napi_args.h"
#include "thread_pool.h"

namespace cmh {

namespace {

struct AlignedFree { void operator()(float* p) const { std::free(p); } };

/** Per-thread buffers (0: packed B, 1: packed A, 2: the gradient block), grown on demand. */
float* buffer(int which, size_t floats) {
  thread_local std::unique_ptr<float, AlignedFree> buf[3];
  thread_local size_t cap[3] = {0, 0, 0};
  if (cap[which] < floats) {
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buf[which].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!buf[which]) throw std::bad_alloc();
    cap[which] = floats;
  }
  return buf[which].get();
}

/**
 * Rows [0, m) of the m × n gradient, one thread. Blocks: the packed B block (all of k × nc) takes
 * at most half of L2 and the gradient block (mc × nc) a quarter, so both stay there while the
 * block's tiles are computed and its update reads them back.
 */
void serial(Isa isa, const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda,
            const float* B, long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam) {
  const long MR = K.mr, NR = K.nr, KC = K.kc;
  const long l2 = cacheInfo().l2 > 0 ? cacheInfo().l2 : (1L << 20);
  const long nPc = (k + KC - 1) / KC, kcMax = std::min(KC, k);
  const long nPadAll = (n + NR - 1) / NR * NR;
  // (software prefetch of the block's x, m, v while its tiles run, and smaller blocks, were measured:
  // no gain beyond the spread on the DCMH-size shapes)
  long nc = std::max(NR, (l2 / 2) / (std::max(k, 1L) * 4) / NR * NR);
  nc = std::min({nc, 4096L, nPadAll});
  long mc = std::max(MR, (l2 / 4) / (nc * 4) / MR * MR);
  mc = std::min(mc, (m + MR - 1) / MR * MR);
  const long ncPad = (nc + NR - 1) / NR * NR;
  float* Bp = buffer(0, static_cast<size_t>(nPc) * kcMax * ncPad);
  float* Ap = buffer(1, static_cast<size_t>(kcMax) * mc);
  float* G = buffer(2, static_cast<size_t>(mc) * ncPad);
  for (long jc = 0; jc < n; jc += nc) {
    const long ncb = std::min(nc, n - jc);
    for (long pc = 0, p = 0; pc < k; pc += KC, p++) {
      const long kc = std::min(KC, k - pc);
      K.packB(tb, tb ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, ncb, Bp + p * kcMax * ncPad);
    }
    for (long ic = 0; ic < m; ic += mc) {
      const long mcb = std::min(mc, m - ic);
      for (long pc = 0, p = 0; pc < k; pc += KC, p++) {
        const long kc = std::min(KC, k - pc);
        const float beta = p == 0 ? 0.0f : 1.0f;  // later k blocks add onto the first, as in sgemm
        K.packA(ta, ta ? A + pc * lda + ic : A + ic * lda + pc, lda, mcb, kc, Ap);
        const float* bBlock = Bp + p * kcMax * ncPad;
        for (long jr = 0; jr < ncb; jr += NR) {
          const int nr = static_cast<int>(std::min(NR, ncb - jr));
          for (long ir = 0; ir < mcb; ir += MR) {
            const int mr = static_cast<int>(std::min(MR, mcb - ir));
            K.ukr(kc, Ap + ir * kc, bBlock + jr * kc, G + ir * ncPad + jr, ncPad, mr, nr, alpha, beta);
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

}  // namespace

/** x (m × n, stride ldx) and its Adam moments m, v updated with the gradient alpha·op(A)·op(B). */
void sgemmAdam(Isa isa, bool ta, bool tb, long m, long n, long k, float alpha, const float* A, long lda, const float* B,
               long ldb, float* X, float* M, float* V, long ldx, const AdamArgs& adam, int threads) {
  if (m <= 0 || n <= 0) return;
  const GemmKernel& K = gemmKernel(isa);
  // a zero gradient (k = 0 or alpha = 0) still moves x: Adam's moments decay, as in adamStep
  if (k <= 0 || alpha == 0.0f) {
    std::unique_ptr<float[]> zero(new float[n]());
    for (long i = 0; i < m; i++) adamUpdate(isa, X + i * ldx, zero.get(), M + i * ldx, V + i * ldx, n, adam);
    return;
  }
  // threads take whole tile rows of the gradient (and of x, m, v): no two touch the same weight
  const double flops = 2.0 * m * n * k;
  const long tiles = (m + K.mr - 1) / K.mr;
  const int nt = static_cast<int>(std::min<long>(tiles, std::max(1, std::min(threads, static_cast<int>(flops / 4e6)))));
  if (nt <= 1) { serial(isa, K, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, ldx, adam); return; }
  ThreadPool::instance().run(nt, [&](int t) {
    const long i0 = std::min(m, tiles * t / nt * K.mr), i1 = std::min(m, tiles * (t + 1) / nt * K.mr);
    if (i0 >= i1) return;
    serial(isa, K, ta, tb, i1 - i0, n, k, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, X + i0 * ldx, M + i0 * ldx,
           V + i0 * ldx, ldx, adam);
  });
}

namespace {

using args::checkMatrix;
using args::fail;
using args::intArg;

// sgemmAdam(isa, transA, transB, m, n, k, alpha, A, lda, B, ldb, x, mState, vState,
//           b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled) — x, m, v are m × n, row-major
Napi::Value SgemmAdam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 22) fail(env, "sgemmAdam: expected 22 arguments");
  const std::string isaName = info[0].As<Napi::String>().Utf8Value();
  Isa isa;
  if (!parseIsa(isaName, &isa) || !isaSupported(isa)) fail(env, "sgemmAdam: unsupported ISA '" + isaName + "'");
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
  AdamArgs a;
  a.b1 = info[14].As<Napi::Number>().FloatValue(); a.b2 = info[15].As<Napi::Number>().FloatValue();
  a.stepSize = info[16].As<Napi::Number>().FloatValue(); a.invSqrtC2 = info[17].As<Napi::Number>().FloatValue();
  a.eps = info[18].As<Napi::Number>().FloatValue(); a.wd = info[19].As<Napi::Number>().FloatValue();
  a.lrWd = info[20].As<Napi::Number>().FloatValue(); a.decoupled = info[21].ToBoolean().Value();
  sgemmAdam(isa, ta, tb, m, n, k, alpha, A, lda, B, ldb, X, M, V, n, a, getThreads());
  return env.Undefined();
}

}  // namespace

void registerGemmAdam(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemmAdam", Napi::Function::New(env, SgemmAdam));
}

}  // namespace cmh
